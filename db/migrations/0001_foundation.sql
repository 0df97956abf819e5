-- Platform foundation: merchants, credentials, product access, operator keys, audit log, idempotency.
-- Every row that belongs to a merchant carries merchant_id and environment, merchant_id first in keys
-- so a distributed PostgreSQL can shard by merchant unchanged.

CREATE TABLE merchants (
  id          text PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  is_demo     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

CREATE TABLE credentials (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  id           text NOT NULL,
  environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  dialect      text NOT NULL CHECK (dialect IN ('native', 'carrier_billing', 'bill_payment', 'subscriptions', 'agreements')),
  name         text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  -- The non-secret part, shown in lists (key prefix, user name or client id); unique per dialect.
  public_id    text NOT NULL,
  -- SHA-256 of the whole secret: secrets are generated with >= 160 bits of entropy, so a fast hash is safe.
  secret_hash  bytea NOT NULL,
  secret_last4 text NOT NULL,
  attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  revoked_at   timestamptz,
  replaced_by  text,
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id),
  UNIQUE (dialect, public_id)
);
CREATE UNIQUE INDEX credentials_secret_hash ON credentials (secret_hash);

CREATE TABLE product_access (
  merchant_id     text NOT NULL REFERENCES merchants (id),
  id              text NOT NULL,
  environment     text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  product         text NOT NULL CHECK (product IN ('carrier-billing', 'bill-payment', 'subscriptions', 'agreements')),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'revoked')),
  requested_at    timestamptz NOT NULL DEFAULT now(),
  decided_at      timestamptz,
  decided_by      text,
  decision_reason text CHECK (length(decision_reason) <= 1000),
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id)
);
-- At most one live (pending or approved) access per merchant, environment and product.
CREATE UNIQUE INDEX product_access_live ON product_access (merchant_id, environment, product)
  WHERE status IN ('pending', 'approved');
CREATE INDEX product_access_pending ON product_access (requested_at) WHERE status = 'pending';

CREATE TABLE operator_keys (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  secret_hash  bytea NOT NULL UNIQUE,
  secret_last4 text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor_type  text NOT NULL CHECK (actor_type IN ('operator', 'merchant', 'system')),
  actor_id    text NOT NULL,
  merchant_id text,
  environment text,
  action      text NOT NULL,
  target_id   text,
  request_id  text NOT NULL,
  outcome     text NOT NULL CHECK (outcome IN ('success', 'failure')),
  status_code integer NOT NULL
);
CREATE INDEX audit_log_merchant ON audit_log (merchant_id, id);

CREATE TABLE idempotency_keys (
  scope           text NOT NULL,
  key             text NOT NULL,
  fingerprint     bytea NOT NULL,
  state           text NOT NULL CHECK (state IN ('running', 'completed')),
  response_status integer,
  response_type   text,
  response_body   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  locked_at       timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Plain-text secrets of the credentials Payloom itself created at first start (operator bootstrap key
-- and the demo merchant's sandbox keys), so `payloom demo-credentials` can print them. Nothing else is
-- ever stored in plain text; set PAYLOOM_SEED_DEMO=false in production.
CREATE TABLE bootstrap_secrets (
  name       text PRIMARY KEY,
  value      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

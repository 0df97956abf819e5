-- Bill payment (Clickatell Payd dialect): the operator's product catalogue, Payd clients (integer
-- clientId, token secret, API key credential, optional Signature secret), their funding sources (bank
-- connectors and Transact Result URLs), and transactions (one per clientTxnRef, each a core payment).

CREATE TABLE bp_products (
  environment         text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  product_id          integer NOT NULL CHECK (product_id BETWEEN 1 AND 9999),
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  short_description   text NOT NULL DEFAULT '' CHECK (length(short_description) <= 64),
  product_type_id     integer NOT NULL CHECK (product_type_id BETWEEN 1 AND 99),
  biller_connector_id text NOT NULL CHECK (length(biller_connector_id) BETWEEN 1 AND 64),
  biller_product_code text NOT NULL CHECK (length(biller_product_code) BETWEEN 1 AND 64),
  currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  pricing_type        text NOT NULL CHECK (pricing_type IN ('single', 'range')),
  amount_minor        bigint CHECK (amount_minor > 0),
  minimum_minor       bigint CHECK (minimum_minor > 0),
  maximum_minor       bigint CHECK (maximum_minor > 0),
  increment_minor     bigint CHECK (increment_minor > 0),
  fee_fixed_minor     bigint NOT NULL DEFAULT 0 CHECK (fee_fixed_minor >= 0),
  -- Rates are parts per million of the purchase amount (1.5 % = 15000).
  fee_rate_ppm        integer NOT NULL DEFAULT 0 CHECK (fee_rate_ppm BETWEEN 0 AND 1000000),
  share_fixed_minor   bigint NOT NULL DEFAULT 0 CHECK (share_fixed_minor >= 0),
  share_rate_ppm      integer NOT NULL DEFAULT 0 CHECK (share_rate_ppm BETWEEN 0 AND 1000000),
  identifier_kind     text NOT NULL CHECK (identifier_kind IN ('msisdn', 'meter', 'account', 'smart_card')),
  identifier_pattern  text NOT NULL CHECK (length(identifier_pattern) BETWEEN 1 AND 200),
  active              boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (environment, product_id),
  CHECK ((pricing_type = 'single') = (amount_minor IS NOT NULL)),
  CHECK ((pricing_type = 'range') = (minimum_minor IS NOT NULL AND maximum_minor IS NOT NULL
                                     AND increment_minor IS NOT NULL AND minimum_minor <= maximum_minor))
);

CREATE SEQUENCE bp_client_ids START 1000;

CREATE TABLE bp_clients (
  client_id          integer PRIMARY KEY DEFAULT nextval('bp_client_ids') CHECK (client_id BETWEEN 1 AND 999999999),
  merchant_id        text NOT NULL REFERENCES merchants (id),
  environment        text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- SHA-256 of the token endpoint's client_secret; the X-API-Key is a core credential (dialect bill_payment).
  secret_hash        bytea NOT NULL,
  credential_id      text NOT NULL,
  signature_required boolean NOT NULL DEFAULT false,
  signing_secret     text,
  active             boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bp_clients_merchant ON bp_clients (merchant_id, environment);

CREATE TABLE bp_client_products (
  client_id   integer NOT NULL REFERENCES bp_clients (client_id),
  environment text NOT NULL,
  product_id  integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, product_id),
  FOREIGN KEY (environment, product_id) REFERENCES bp_products (environment, product_id)
);

CREATE SEQUENCE bp_funding_source_ids START 100;

CREATE TABLE bp_funding_sources (
  funding_source_id   integer PRIMARY KEY DEFAULT nextval('bp_funding_source_ids'),
  client_id           integer NOT NULL REFERENCES bp_clients (client_id),
  merchant_id         text NOT NULL,
  environment         text NOT NULL,
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  connector_id        text NOT NULL CHECK (length(connector_id) BETWEEN 1 AND 64),
  -- The webhook endpoint (format payd-transact-result) that receives Transact Result; null: none.
  webhook_endpoint_id text,
  active              boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bp_funding_sources_client ON bp_funding_sources (client_id);

CREATE TABLE bp_transactions (
  raas_txn_ref            text PRIMARY KEY CHECK (raas_txn_ref ~ '^[a-z0-9]{24}$'),
  merchant_id             text NOT NULL,
  environment             text NOT NULL,
  client_id               integer NOT NULL,
  client_txn_ref          text NOT NULL CHECK (length(client_txn_ref) BETWEEN 1 AND 64),
  -- SHA-256 of the request's business fields: a repeat must match it.
  request_hash            text NOT NULL,
  kind                    text NOT NULL CHECK (kind IN ('transact', 'reserve_and_transact')),
  payment_id              text NOT NULL,
  product_id              integer NOT NULL,
  product_type_id         integer NOT NULL,
  funding_source_id       integer NOT NULL,
  currency                text NOT NULL,
  purchase_minor          bigint NOT NULL,
  fee_minor               bigint NOT NULL,
  reserve_minor           bigint NOT NULL,
  vend_minor              bigint NOT NULL,
  settlement_minor        bigint NOT NULL,
  client_share_minor      bigint NOT NULL,
  source_identifier       text NOT NULL,
  target_identifier       text NOT NULL,
  channel_id              integer,
  channel_name            text,
  channel_session_id      text,
  reserve_funds_txn_ref   text,
  reserve_funds_code      text,
  -- pending → reserving → vending → succeeded | failed (vend_state: none, sending, sent, unknown).
  state                   text NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'vending', 'succeeded', 'failed')),
  vend_state              text NOT NULL DEFAULT 'none' CHECK (vend_state IN ('none', 'sending', 'done', 'unknown')),
  vend_attempts           integer NOT NULL DEFAULT 0,
  result_code             text,
  result_message          text,
  token                   text,
  serial_number           text,
  receipt_number          text,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  finished_at             timestamptz,
  UNIQUE (client_id, client_txn_ref)
);
CREATE INDEX bp_transactions_reserve_ref ON bp_transactions (client_id, reserve_funds_txn_ref)
  WHERE reserve_funds_txn_ref IS NOT NULL;
CREATE INDEX bp_transactions_in_flight ON bp_transactions (client_id, source_identifier, target_identifier, product_id)
  WHERE state IN ('pending', 'vending');
CREATE INDEX bp_transactions_tokens ON bp_transactions (client_id, source_identifier, created_at)
  WHERE token IS NOT NULL;
CREATE INDEX bp_transactions_unfinished ON bp_transactions (updated_at) WHERE state IN ('pending', 'vending');

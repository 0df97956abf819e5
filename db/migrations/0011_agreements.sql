-- Agreements product (MobilePay Subscriptions dialect): providers, OAuth clients and tokens, agreements,
-- one-off payments, payment requests, refunds, attachments and the batched payment-callback queue.

CREATE TABLE agr_providers (
  id                          uuid PRIMARY KEY,
  merchant_id                 text NOT NULL REFERENCES merchants (id),
  environment                 text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  name                        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  homepage                    text,
  customer_service            text,
  faq                         text,
  portal                      text,
  address                     text,
  zip_code                    text,
  city                        text,
  payment_status_callback_url text,
  -- {scheme: 'basic'|'apikey'|'oauth2', ...}: secrets inside are encrypted (AES-GCM, derived key).
  callback_auth               jsonb,
  auto_reserve_enabled        boolean NOT NULL DEFAULT false,
  -- Batched payment callbacks go out when the oldest queued item is this old (MobilePay: 2 minutes).
  callback_batch_seconds      integer NOT NULL DEFAULT 120 CHECK (callback_batch_seconds BETWEEN 10 AND 3600),
  status                      integer NOT NULL DEFAULT 2,
  created_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agr_providers_merchant ON agr_providers (merchant_id, environment);

-- Integrator OAuth clients (the `client_id`/`client_secret` of the token endpoint).
CREATE TABLE agr_oauth_clients (
  client_id     text PRIMARY KEY,
  merchant_id   text NOT NULL REFERENCES merchants (id),
  environment   text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  name          text NOT NULL,
  secret_hash   bytea NOT NULL,
  redirect_uris text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Authorization codes: single use, five minutes, PKCE S256.
CREATE TABLE agr_auth_codes (
  code_hash      bytea PRIMARY KEY,
  client_id      text NOT NULL REFERENCES agr_oauth_clients (client_id),
  merchant_id    text NOT NULL REFERENCES merchants (id),
  redirect_uri   text NOT NULL,
  code_challenge text NOT NULL,
  scope          text NOT NULL,
  nonce          text,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz
);

-- Refresh tokens: per merchant and client; rotated on use (the old one is revoked).
CREATE TABLE agr_refresh_tokens (
  token_hash  bytea PRIMARY KEY,
  client_id   text NOT NULL REFERENCES agr_oauth_clients (client_id),
  merchant_id text NOT NULL REFERENCES merchants (id),
  environment text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  scope       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE agr_agreements (
  id                              uuid PRIMARY KEY,
  merchant_id                     text NOT NULL REFERENCES merchants (id),
  environment                     text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  provider_id                     uuid NOT NULL REFERENCES agr_providers (id),
  status                          text NOT NULL CHECK (status IN ('Pending', 'Accepted', 'Rejected', 'Expired', 'Canceled')),
  external_id                     text CHECK (length(external_id) <= 64),
  amount_minor                    bigint CHECK (amount_minor >= 0),
  currency                        text NOT NULL CHECK (currency IN ('DKK', 'EUR')),
  country_code                    text NOT NULL CHECK (country_code IN ('DK', 'FI')),
  plan                            text NOT NULL CHECK (length(plan) <= 30),
  description                     text CHECK (length(description) <= 60),
  frequency                       integer NOT NULL CHECK (frequency IN (0, 1, 2, 4, 12, 26, 52, 365)),
  next_payment_date               text CHECK (next_payment_date ~ '^\d{4}-\d{2}-\d{2}$'),
  expiration_timeout_minutes      integer NOT NULL CHECK (expiration_timeout_minutes BETWEEN 1 AND 181440),
  expires_at                      timestamptz NOT NULL,
  mobile_phone_number             text,
  retention_period_hours          integer NOT NULL DEFAULT 0 CHECK (retention_period_hours BETWEEN 0 AND 24),
  disable_notification_management boolean NOT NULL DEFAULT false,
  notifications_on                boolean NOT NULL DEFAULT true,
  links                           jsonb NOT NULL,
  payer_ref                       text,
  status_code                     integer,
  test_clock_id                   text,
  date_created                    timestamptz NOT NULL,
  date_accepted                   timestamptz,
  date_canceled                   timestamptz
);
CREATE INDEX agr_agreements_provider ON agr_agreements (provider_id, status, date_created, id);

CREATE TABLE agr_one_offs (
  id                         uuid PRIMARY KEY,
  merchant_id                text NOT NULL REFERENCES merchants (id),
  environment                text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  provider_id                uuid NOT NULL REFERENCES agr_providers (id),
  agreement_id               uuid NOT NULL REFERENCES agr_agreements (id),
  -- Requested | Rejected | Expired | Canceled before a reservation; once reserved the core payment's
  -- status is the truth (authorized → Reserved, captured → Captured, voided → Canceled, expired → Expired).
  status                     text NOT NULL CHECK (status IN ('Requested', 'Reserved', 'Rejected', 'Expired', 'Canceled', 'Captured')),
  amount_minor               bigint NOT NULL CHECK (amount_minor > 0),
  currency                   text NOT NULL,
  external_id                text NOT NULL CHECK (length(external_id) <= 64),
  description                text NOT NULL CHECK (length(description) <= 60),
  auto_reserve               boolean NOT NULL DEFAULT false,
  with_agreement             boolean NOT NULL DEFAULT false,
  expiration_timeout_minutes integer NOT NULL CHECK (expiration_timeout_minutes BETWEEN 1 AND 181440),
  expires_at                 timestamptz NOT NULL,
  links                      jsonb NOT NULL DEFAULT '[]',
  payment_id                 text UNIQUE,
  status_code                integer,
  test_clock_id              text,
  created_at                 timestamptz NOT NULL
);
CREATE INDEX agr_one_offs_agreement ON agr_one_offs (agreement_id, created_at);

CREATE TABLE agr_payment_requests (
  id                 uuid PRIMARY KEY,
  merchant_id        text NOT NULL REFERENCES merchants (id),
  environment        text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  provider_id        uuid NOT NULL REFERENCES agr_providers (id),
  agreement_id       uuid NOT NULL,
  status             text NOT NULL CHECK (status IN ('Requested', 'Pending', 'Executed', 'Failed', 'Declined', 'Rejected')),
  status_code        integer,
  amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
  currency           text,
  -- Dates are kept as ISO text (YYYY-MM-DD): no time zone, the same on both databases.
  due_date           text NOT NULL CHECK (due_date ~ '^\d{4}-\d{2}-\d{2}$'),
  external_id        text NOT NULL CHECK (length(external_id) <= 64),
  description        text NOT NULL CHECK (length(description) <= 60),
  grace_period_days  integer CHECK (grace_period_days BETWEEN 1 AND 3),
  payment_id         text UNIQUE,
  test_clock_id      text,
  created_at         timestamptz NOT NULL
);
CREATE INDEX agr_payment_requests_agreement ON agr_payment_requests (agreement_id, due_date);
-- One live payment per agreement, due date and external id (50004 for the duplicate).
CREATE UNIQUE INDEX agr_payment_requests_unique ON agr_payment_requests (agreement_id, due_date, external_id)
  WHERE status <> 'Declined';

CREATE TABLE agr_refunds (
  id                  uuid PRIMARY KEY,
  merchant_id         text NOT NULL REFERENCES merchants (id),
  environment         text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  provider_id         uuid NOT NULL REFERENCES agr_providers (id),
  agreement_id        uuid NOT NULL,
  source_id           uuid NOT NULL,
  core_refund_id      text UNIQUE,
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  currency            text NOT NULL,
  status              text NOT NULL CHECK (status IN ('Requested', 'Issued', 'Declined')),
  status_code         integer,
  external_id         text,
  status_callback_url text NOT NULL,
  -- No amount was sent: the rest of the payment when the refund is processed (in request order).
  full_refund         boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agr_refunds_source ON agr_refunds (source_id, created_at);

CREATE TABLE agr_attachments (
  payment_id  uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES merchants (id),
  provider_id uuid NOT NULL REFERENCES agr_providers (id),
  body        jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Payment callbacks waiting for the next batch (every 2 minutes by default), per provider.
CREATE TABLE agr_callback_queue (
  id            bigserial PRIMARY KEY,
  merchant_id   text NOT NULL REFERENCES merchants (id),
  environment   text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  provider_id   uuid NOT NULL REFERENCES agr_providers (id),
  item          jsonb NOT NULL,
  test_clock_id text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agr_callback_queue_provider ON agr_callback_queue (provider_id, id);

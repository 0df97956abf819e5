-- Carrier-billing PIN sessions and the per-MSISDN failure state (src/products/carrier-billing/pins.ts).
-- Every time in these tables is the caller's clock ("now" passed in), never the database's now(), so
-- tests and sandbox test clocks decide expiry, limits and locks.

CREATE TABLE pin_sessions (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  id           text NOT NULL CHECK (id ~ '^pin_[0-9A-HJKMNP-TV-Z]{26}$'),
  environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  msisdn       text NOT NULL CHECK (msisdn ~ '^[1-9][0-9]{6,14}$'),
  product_id   text NOT NULL CHECK (length(product_id) BETWEEN 1 AND 64),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  description  text NOT NULL CHECK (length(description) BETWEEN 1 AND 255),
  language     text NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
  -- HMAC-SHA256(pepper, id || ':' || pin); the PIN itself is never stored, the pepper is not in the database.
  pin_hash     bytea NOT NULL CHECK (octet_length(pin_hash) = 32),
  attempts     integer NOT NULL DEFAULT 0,
  attempts_max integer NOT NULL CHECK (attempts_max BETWEEN 1 AND 100),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (merchant_id, id),
  CHECK (attempts BETWEEN 0 AND attempts_max),
  CHECK (expires_at > created_at)
);
-- Per-MSISDN generation limits (10 minutes, 24 hours) count across merchants of one environment.
CREATE INDEX pin_sessions_msisdn ON pin_sessions (environment, msisdn, created_at);
-- The newest open session of a payer for a product (SendBillWithPin bodies that carry no pinId).
CREATE INDEX pin_sessions_open ON pin_sessions (merchant_id, environment, msisdn, product_id, created_at)
  WHERE used_at IS NULL;

-- One row per MSISDN that has failed a PIN: the streak of wrong PINs across sessions and merchants, and
-- the lock it leads to. Belongs to the phone number, not to a merchant (a reference table when sharded).
CREATE TABLE msisdn_pin_state (
  environment          text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  msisdn               text NOT NULL CHECK (msisdn ~ '^[1-9][0-9]{6,14}$'),
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  last_failure_at      timestamptz,
  locked_until         timestamptz,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (environment, msisdn)
);

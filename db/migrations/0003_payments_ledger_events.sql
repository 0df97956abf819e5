-- Payments (one row per money-movement attempt, any product), their timeline, the double-entry ledger
-- with holds, and the events outbox.

CREATE TABLE payments (
  merchant_id       text NOT NULL REFERENCES merchants (id),
  id                text NOT NULL,
  environment       text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  product           text NOT NULL CHECK (product IN ('carrier-billing', 'bill-payment', 'subscriptions', 'agreements')),
  kind              text NOT NULL CHECK (kind IN ('sale', 'authorization', 'refund')),
  status            text NOT NULL CHECK (status IN ('pending', 'authorized', 'captured', 'voided', 'expired',
                                                    'succeeded', 'failed', 'unknown')),
  amount_minor      bigint NOT NULL CHECK (amount_minor > 0),
  currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- Money actually taken: the sale amount once succeeded, the captured amount of an authorization.
  captured_minor    bigint NOT NULL DEFAULT 0,
  -- Refunds pending or succeeded against this payment; never above what was captured.
  refunded_minor    bigint NOT NULL DEFAULT 0,
  payer_ref         text NOT NULL CHECK (length(payer_ref) BETWEEN 1 AND 200),
  connector_id      text NOT NULL,
  connector_ref     text,
  raw_code          text,
  raw_message       text,
  parent_payment_id text,
  reference         text CHECK (length(reference) <= 255),
  description       text CHECK (length(description) <= 1000),
  test_clock_id     text REFERENCES test_clocks (id),
  expires_at        timestamptz,
  metadata          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id),
  CHECK (captured_minor >= 0 AND captured_minor <= amount_minor),
  CHECK (refunded_minor >= 0 AND refunded_minor <= captured_minor),
  CHECK ((kind = 'refund') = (parent_payment_id IS NOT NULL))
);
-- A dialect's natural key (external_id, clientTxnRef…) names one payment per merchant and environment.
CREATE UNIQUE INDEX payments_reference ON payments (merchant_id, environment, product, kind, reference)
  WHERE reference IS NOT NULL;
CREATE UNIQUE INDEX payments_connector_ref ON payments (connector_id, connector_ref) WHERE connector_ref IS NOT NULL;
CREATE INDEX payments_list ON payments (merchant_id, environment, id);
CREATE INDEX payments_unsettled ON payments (updated_at) WHERE status IN ('pending', 'unknown');
CREATE INDEX payments_expiring ON payments (expires_at) WHERE status = 'authorized';

CREATE TABLE payment_transitions (
  merchant_id  text NOT NULL,
  payment_id   text NOT NULL,
  seq          integer NOT NULL,
  from_status  text,
  to_status    text NOT NULL,
  event        text NOT NULL,
  amount_minor bigint,
  raw_code     text,
  at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, payment_id, seq),
  FOREIGN KEY (merchant_id, payment_id) REFERENCES payments (merchant_id, id)
);

CREATE TABLE ledger_accounts (
  merchant_id   text NOT NULL REFERENCES merchants (id),
  environment   text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  role          text NOT NULL,
  debits_minor  bigint NOT NULL DEFAULT 0 CHECK (debits_minor >= 0),
  credits_minor bigint NOT NULL DEFAULT 0 CHECK (credits_minor >= 0),
  PRIMARY KEY (merchant_id, environment, currency, role)
);

CREATE TABLE ledger_transactions (
  merchant_id text NOT NULL,
  environment text NOT NULL,
  id          text NOT NULL,
  payment_id  text,
  kind        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id)
);
CREATE INDEX ledger_transactions_list ON ledger_transactions (merchant_id, environment, id);

CREATE TABLE ledger_entries (
  merchant_id    text NOT NULL,
  transaction_id text NOT NULL,
  entry_no       smallint NOT NULL,
  environment    text NOT NULL,
  currency       text NOT NULL,
  role           text NOT NULL,
  debit_minor    bigint NOT NULL DEFAULT 0 CHECK (debit_minor >= 0),
  credit_minor   bigint NOT NULL DEFAULT 0 CHECK (credit_minor >= 0),
  PRIMARY KEY (merchant_id, transaction_id, entry_no),
  FOREIGN KEY (merchant_id, transaction_id) REFERENCES ledger_transactions (merchant_id, id),
  CHECK ((debit_minor > 0) <> (credit_minor > 0))
);

-- Holds are reservations, like TigerBeetle's pending transfers: resolved at most once.
CREATE TABLE ledger_holds (
  merchant_id  text NOT NULL,
  id           text NOT NULL,
  environment  text NOT NULL,
  payment_id   text NOT NULL,
  currency     text NOT NULL,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  status       text NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
  posted_minor bigint NOT NULL DEFAULT 0 CHECK (posted_minor >= 0 AND posted_minor <= amount_minor),
  created_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz,
  PRIMARY KEY (merchant_id, id),
  UNIQUE (payment_id)
);

-- The ledger is append-only: entries and transactions are never changed or removed.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TABLE events (
  merchant_id text NOT NULL REFERENCES merchants (id),
  environment text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id          text NOT NULL,
  type        text NOT NULL,
  object_id   text NOT NULL,
  data        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id)
);
CREATE INDEX events_list ON events (merchant_id, environment, id);

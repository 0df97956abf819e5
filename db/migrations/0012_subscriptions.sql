-- Subscriptions (SmartPay dialect): plans, subscriptions, billing agreements, billing cycles and their
-- transactions, manual retries, payment series, per-merchant settings; and the card vault.

-- The card vault (src/core/vault). One data key per merchant and environment, wrapped (AES-256-GCM) by a
-- key-encryption key derived from the master key; `kek_version` names which one. Card numbers are
-- encrypted under the data key; only brand, first six, last four and expiry are readable outside.
CREATE TABLE vault_data_keys (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  kek_version  integer NOT NULL,
  wrapped_key  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  PRIMARY KEY (merchant_id, environment)
);

CREATE TABLE vault_state (
  id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
  current_kek_version integer NOT NULL
);

CREATE TABLE vault_cards (
  merchant_id         text NOT NULL REFERENCES merchants (id),
  environment         text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id                  text NOT NULL,
  customer_account_id text NOT NULL,
  -- HMAC-SHA256 of the card number under a key derived per merchant and environment.
  fingerprint         bytea NOT NULL,
  brand               text NOT NULL,
  first6              text NOT NULL CHECK (first6 ~ '^[0-9]{6}$'),
  last4               text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  exp_month           integer NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
  exp_year            integer NOT NULL CHECK (exp_year BETWEEN 2000 AND 2200),
  ciphertext          bytea NOT NULL,
  -- The acquirer's token for the card (never the number), and the network id of its verification.
  connector_token     text NOT NULL,
  network_transaction_id text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, id),
  UNIQUE (merchant_id, environment, customer_account_id, fingerprint)
);

CREATE TABLE sp_settings (
  merchant_id         text NOT NULL REFERENCES merchants (id),
  environment         text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  allowed_origins     text[] NOT NULL DEFAULT '{}',
  retry_delays_days   integer[] NOT NULL DEFAULT '{1,3,7}',
  webhook_endpoint_id text,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment)
);

CREATE TABLE sp_plans (
  merchant_id          text NOT NULL REFERENCES merchants (id),
  environment          text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id                   text NOT NULL,
  name                 text NOT NULL,
  description          text NOT NULL,
  recurrent_minor      bigint NOT NULL CHECK (recurrent_minor > 0),
  currency             text NOT NULL,
  trial_period         integer CHECK (trial_period BETWEEN 1 AND 28),
  trial_unit           text CHECK (trial_unit IN ('day', 'month', 'year')),
  billing_occurrence   integer NOT NULL CHECK (billing_occurrence BETWEEN 1 AND 99),
  billing_unit         text NOT NULL CHECK (billing_unit IN ('day', 'month', 'year')),
  billing_cycles       integer NOT NULL CHECK (billing_cycles BETWEEN -1 AND 120 AND billing_cycles <> 0),
  prepaid              boolean NOT NULL DEFAULT true,
  merchant_metadata    text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  deleted_at           timestamptz,
  PRIMARY KEY (merchant_id, environment, id),
  CHECK ((trial_period IS NULL) = (trial_unit IS NULL))
);
CREATE INDEX sp_plans_created ON sp_plans (merchant_id, environment, created_at);

-- A billing agreement: the permission to charge a stored card for one subscription or payment series.
CREATE TABLE sp_billing_agreements (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id           text NOT NULL,
  object_type  text NOT NULL CHECK (object_type IN ('subscription', 'payment-series')),
  object_id    text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'active', 'replaced', 'canceled')),
  card_id      text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, id)
);
CREATE INDEX sp_agreements_object ON sp_billing_agreements (merchant_id, object_id);

CREATE TABLE sp_subscriptions (
  merchant_id            text NOT NULL REFERENCES merchants (id),
  environment            text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id                     text NOT NULL,
  plan_id                text NOT NULL,
  customer_account_id    text NOT NULL,
  status                 text NOT NULL CHECK (status IN ('created', 'active', 'paused', 'canceled', 'finished')),
  start_date             text NOT NULL,
  start_at               timestamptz NOT NULL,
  timezone               text NOT NULL,
  -- The plan's terms when the subscription was created (later plan changes reach new subscriptions only).
  amount_minor           bigint NOT NULL,
  currency               text NOT NULL,
  billing_occurrence     integer NOT NULL,
  billing_unit           text NOT NULL,
  billing_cycles         integer NOT NULL,
  prepaid                boolean NOT NULL,
  trial_start_date       date,
  trial_end_date         date,
  -- Billing state.
  billing_cycles_remaining integer NOT NULL,
  cycles_created         integer NOT NULL DEFAULT 0,
  next_billing_date      date,
  balance_minor          bigint NOT NULL DEFAULT 0 CHECK (balance_minor >= 0),
  paused_at              timestamptz,
  -- Signed: positive lowers the first charge after a resume (README.md "Pause and resume").
  pause_credit_minor     bigint NOT NULL DEFAULT 0,
  billing_agreement_id   text,
  billing_address        jsonb NOT NULL,
  shipping_address       jsonb,
  consumer               jsonb,
  business_consumer      jsonb,
  external_merchant_id   text,
  merchant_metadata      text,
  custom_references      jsonb,
  test_clock_id          text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  deleted_at             timestamptz,
  PRIMARY KEY (merchant_id, environment, id)
);
CREATE INDEX sp_subscriptions_created ON sp_subscriptions (merchant_id, environment, created_at);

CREATE TABLE sp_billing_cycles (
  merchant_id          text NOT NULL REFERENCES merchants (id),
  environment          text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id                   text NOT NULL,
  subscription_id      text NOT NULL,
  cycle_no             integer NOT NULL,
  billing_date         date NOT NULL,
  period_start         date NOT NULL,
  period_end           date NOT NULL,
  charge_at            timestamptz NOT NULL,
  -- plan amount − pause credit (never below zero) + balance carried from failed cycles.
  amount_minor         bigint NOT NULL CHECK (amount_minor >= 0),
  credit_minor         bigint NOT NULL DEFAULT 0,
  balance_minor        bigint NOT NULL DEFAULT 0,
  currency             text NOT NULL,
  status               text NOT NULL CHECK (status IN
                         ('Scheduled', 'Processing', 'Retrying', 'Captured', 'Failed', 'Error', 'Canceled')),
  attempts             integer NOT NULL DEFAULT 0,
  next_attempt_at      timestamptz,
  locked_until         timestamptz,
  billing_agreement_id text,
  short_card_number    text,
  billing_agreement_name text,
  paid_at              timestamptz,
  -- A Failed/Error cycle whose amount a later charge collected from the balance.
  collected_by         text,
  test_clock_id        text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, id),
  UNIQUE (subscription_id, cycle_no)
);
-- The due-cycle query: real-time cycles by due time; test-clock cycles by clock and due time.
CREATE INDEX sp_cycles_due ON sp_billing_cycles (next_attempt_at)
  WHERE status IN ('Scheduled', 'Retrying') AND test_clock_id IS NULL;
CREATE INDEX sp_cycles_due_clock ON sp_billing_cycles (test_clock_id, next_attempt_at)
  WHERE status IN ('Scheduled', 'Retrying') AND test_clock_id IS NOT NULL;
CREATE INDEX sp_cycles_processing ON sp_billing_cycles (locked_until) WHERE status = 'Processing';

CREATE TABLE sp_payment_series (
  merchant_id          text NOT NULL REFERENCES merchants (id),
  environment          text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id                   text NOT NULL,
  customer_account_id  text NOT NULL,
  currency             text NOT NULL,
  billing_agreement_id text,
  billing_address      jsonb NOT NULL,
  shipping_address     jsonb,
  consumer             jsonb,
  business_consumer    jsonb,
  external_merchant_id text,
  external_reference   text,
  merchant_metadata    text,
  custom_references    jsonb,
  test_clock_id        text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  deleted_at           timestamptz,
  PRIMARY KEY (merchant_id, environment, id)
);

-- Every charge attempt: a billing cycle's scheduled attempts and retries, manual retries, and payment
-- series transactions. Exactly one per (cycle, attempt): the unique key decides between workers.
CREATE TABLE sp_transactions (
  merchant_id       text NOT NULL REFERENCES merchants (id),
  environment       text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id                text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('scheduled', 'retry', 'manual-retry', 'series')),
  subscription_id   text,
  billing_cycle_id  text,
  attempt_no        integer,
  series_id         text,
  payment_id        text NOT NULL,
  amount_minor      bigint NOT NULL,
  -- The part of amount_minor that collects the subscription's balance.
  balance_part_minor bigint NOT NULL DEFAULT 0,
  currency          text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'captured', 'declined', 'error', 'unknown')),
  decline_reason    text,
  raw_code          text,
  description       text,
  card_id           text,
  billing_agreement_id text,
  custom_references jsonb,
  criteria          jsonb,
  test_clock_id     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, id),
  UNIQUE (billing_cycle_id, attempt_no),
  UNIQUE (payment_id)
);
CREATE INDEX sp_transactions_series ON sp_transactions (merchant_id, series_id, created_at) WHERE series_id IS NOT NULL;
CREATE INDEX sp_transactions_unknown ON sp_transactions (updated_at) WHERE status IN ('unknown', 'pending');

CREATE TABLE sp_manual_retries (
  merchant_id      text NOT NULL REFERENCES merchants (id),
  environment      text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id               text NOT NULL,
  billing_cycle_id text NOT NULL,
  transaction_id   text NOT NULL,
  reason           text NOT NULL CHECK (length(reason) <= 128),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, id)
);

-- Card verifications started in the widget (zero-amount authorizations). One waiting for a 3-D Secure
-- challenge stays `challenge` until the customer completes it in the iframe.
CREATE TABLE sp_verifications (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  id           text NOT NULL,
  object_type  text NOT NULL,
  object_id    text NOT NULL,
  card_id      text NOT NULL,
  status       text NOT NULL CHECK (status IN ('challenge', 'succeeded', 'failed')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, id)
);

-- Vendor ids are UUID-based and globally unique: set-based statements find rows by id alone.
CREATE UNIQUE INDEX sp_plans_id ON sp_plans (id);
CREATE UNIQUE INDEX sp_subscriptions_id ON sp_subscriptions (id);
CREATE UNIQUE INDEX sp_billing_cycles_id ON sp_billing_cycles (id);
CREATE UNIQUE INDEX sp_payment_series_id ON sp_payment_series (id);
CREATE UNIQUE INDEX sp_transactions_id ON sp_transactions (id);
CREATE INDEX sp_transactions_cycle ON sp_transactions (billing_cycle_id) WHERE billing_cycle_id IS NOT NULL;

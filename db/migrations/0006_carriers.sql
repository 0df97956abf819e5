-- Carrier billing: carrier records (operator-managed, per environment; no merchant owns them), ported
-- numbers, and the sandbox's simulated carriers. Amounts are bigint minor units of the carrier's currency.

CREATE TABLE carriers (
  id                        text NOT NULL PRIMARY KEY CHECK (id ~ '^car_[A-Za-z0-9_]{1,60}$'),
  environment               text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  country                   text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  mcc                       text NOT NULL CHECK (mcc ~ '^[0-9]{3}$'),
  mnc                       text NOT NULL CHECK (mnc ~ '^[0-9]{2,3}$'),
  -- Prefixes of international digits (no +) this network's numbers start with; the longest match wins.
  number_ranges             text[] NOT NULL DEFAULT '{}'
                              CHECK (cardinality(number_ranges) <= 200
                                     AND array_position(number_ranges, NULL) IS NULL
                                     AND array_to_string(number_ranges, ',') ~ '^([1-9][0-9]{0,14}(,[1-9][0-9]{0,14})*)?$'),
  currency                  text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  refunds_supported         boolean NOT NULL DEFAULT false,
  partial_refunds_supported boolean NOT NULL DEFAULT false,
  -- The post-billing (payment confirmation) SMS is mandatory on this network / in its country.
  confirmation_sms_required boolean NOT NULL DEFAULT true,
  pin_length                integer NOT NULL DEFAULT 6 CHECK (pin_length BETWEEN 4 AND 8),
  -- Spend limits per MSISDN on this carrier, across all merchants: one charge, a UTC day, a calendar month.
  per_transaction_max_minor bigint NOT NULL CHECK (per_transaction_max_minor > 0
                                                   AND per_transaction_max_minor <= 1000000000000000),
  daily_max_minor           bigint NOT NULL CHECK (daily_max_minor <= 1000000000000000),
  monthly_max_minor         bigint NOT NULL CHECK (monthly_max_minor <= 1000000000000000),
  connector_id              text NOT NULL CHECK (connector_id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  connector_config          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(connector_config) = 'object'),
  enabled                   boolean NOT NULL DEFAULT true,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT carriers_environment_mcc_mnc_key UNIQUE (environment, mcc, mnc),
  -- Target of number_portability's foreign key: a ported number names a carrier of its own environment.
  CONSTRAINT carriers_environment_id_key UNIQUE (environment, id),
  CHECK (refunds_supported OR NOT partial_refunds_supported),
  CHECK (daily_max_minor >= per_transaction_max_minor),
  CHECK (monthly_max_minor >= daily_max_minor)
);

-- Numbers moved to another network keep their range's prefix; this table names their real network and
-- is consulted before MCC/MNC and ranges.
CREATE TABLE number_portability (
  environment text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  msisdn      text NOT NULL CHECK (msisdn ~ '^[1-9][0-9]{6,14}$'),
  carrier_id  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (environment, msisdn),
  FOREIGN KEY (environment, carrier_id) REFERENCES carriers (environment, id)
);
CREATE INDEX number_portability_carrier ON number_portability (carrier_id, msisdn);

-- Spend limits sum a subscriber's carrier-billing sales across merchants (checkSpendLimits).
CREATE INDEX payments_carrier_billing_spend ON payments (payer_ref, environment, created_at)
  WHERE product = 'carrier-billing' AND kind = 'sale';

-- The sandbox's simulated UK carriers (src/connectors/README.md: carrier simulator magic values). Limits
-- are high enough for load tests on the sandbox; operators change them with PATCH /v1/carriers/{id}.
INSERT INTO carriers (id, environment, name, country, mcc, mnc, number_ranges, currency,
                      refunds_supported, partial_refunds_supported, confirmation_sms_required, pin_length,
                      per_transaction_max_minor, daily_max_minor, monthly_max_minor, connector_id)
VALUES
  ('car_sandbox_uk_refunds', 'sandbox', 'Sandbox UK (refunds)', 'GB', '234', '10', ARRAY['447700900'], 'GBP',
   true, true, true, 6, 24000, 100000, 500000, 'carrier-simulator'),
  ('car_sandbox_uk_norefunds', 'sandbox', 'Sandbox UK (no refunds)', 'GB', '234', '15', ARRAY['447700901'], 'GBP',
   false, false, false, 6, 24000, 100000, 500000, 'carrier-simulator-no-refunds');

-- Ten numbers of the refunds carrier's range were ported to the no-refunds carrier.
INSERT INTO number_portability (environment, msisdn, carrier_id)
VALUES
  ('sandbox', '447700900500', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900501', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900502', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900503', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900504', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900505', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900506', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900507', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900508', 'car_sandbox_uk_norefunds'),
  ('sandbox', '447700900509', 'car_sandbox_uk_norefunds');

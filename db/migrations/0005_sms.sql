-- The SMS outbox and the delivery receipts gateways report.

CREATE TABLE sms_messages (
  merchant_id        text NOT NULL REFERENCES merchants (id),
  id                 text NOT NULL,
  environment        text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  to_msisdn          text NOT NULL CHECK (to_msisdn ~ '^[1-9][0-9]{6,14}$'),
  -- Leading digits (country and network range) for per-prefix limits.
  prefix             text NOT NULL,
  sender             text NOT NULL CHECK (length(sender) BETWEEN 1 AND 16),
  purpose            text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 50),
  language           text NOT NULL CHECK (length(language) BETWEEN 2 AND 10),
  body               text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
  segments           integer NOT NULL CHECK (segments BETWEEN 1 AND 10),
  status             text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'unknown')),
  gateway_id         text,
  gateway_refs       text[] NOT NULL DEFAULT '{}',
  delivered_segments integer NOT NULL DEFAULT 0,
  raw_code           text,
  raw_message        text,
  -- Sandbox only: what a test reads without parsing text (e.g. the PIN of a PIN message).
  sandbox_data       jsonb NOT NULL DEFAULT '{}'::jsonb,
  test_clock_id      text REFERENCES test_clocks (id),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  sent_at            timestamptz,
  delivered_at       timestamptz,
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id),
  CHECK (environment = 'sandbox' OR sandbox_data = '{}'::jsonb)
);
CREATE INDEX sms_messages_msisdn ON sms_messages (to_msisdn, created_at);
CREATE INDEX sms_messages_prefix ON sms_messages (prefix, created_at);
CREATE INDEX sms_messages_merchant ON sms_messages (merchant_id, environment, created_at);
CREATE INDEX sms_messages_refs ON sms_messages USING gin (gateway_refs);

CREATE TABLE sms_receipts (
  gateway_id  text NOT NULL,
  gateway_ref text NOT NULL,
  status      text NOT NULL,
  raw_status  text NOT NULL,
  final       boolean NOT NULL,
  at          timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (gateway_id, gateway_ref, status)
);

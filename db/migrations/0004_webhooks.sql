-- Webhook endpoints, deliveries (one per endpoint and event) and their attempts.

CREATE TABLE webhook_endpoints (
  merchant_id                text NOT NULL REFERENCES merchants (id),
  id                         text NOT NULL,
  environment                text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  description                text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  -- Empty: every event type.
  event_types                text[] NOT NULL DEFAULT '{}',
  enabled                    boolean NOT NULL DEFAULT true,
  disabled_reason            text,
  -- Signing secrets must be readable to sign; they are never returned after creation or rotation.
  secret                     text NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id)
);
CREATE INDEX webhook_endpoints_live ON webhook_endpoints (merchant_id, environment) WHERE enabled;

CREATE TABLE webhook_deliveries (
  merchant_id      text NOT NULL,
  id               text NOT NULL,
  environment      text NOT NULL,
  endpoint_id      text NOT NULL,
  event_id         text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  test_clock_id    text REFERENCES test_clocks (id),
  next_attempt_at  timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id),
  UNIQUE (endpoint_id, event_id),
  FOREIGN KEY (merchant_id, endpoint_id) REFERENCES webhook_endpoints (merchant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (merchant_id, environment, id);

CREATE TABLE webhook_attempts (
  merchant_id      text NOT NULL,
  delivery_id      text NOT NULL,
  attempt_no       integer NOT NULL,
  at               timestamptz NOT NULL DEFAULT now(),
  outcome          text NOT NULL,
  status_code      integer,
  latency_ms       integer NOT NULL,
  response_snippet text NOT NULL DEFAULT '',
  error            text,
  PRIMARY KEY (merchant_id, delivery_id, attempt_no),
  FOREIGN KEY (merchant_id, delivery_id) REFERENCES webhook_deliveries (merchant_id, id) ON DELETE CASCADE
);

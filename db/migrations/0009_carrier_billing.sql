-- Carrier billing: merchants' products (Infomedia `productId`s) and per-environment settings.

CREATE SEQUENCE cb_product_ids START 8000001;

CREATE TABLE cb_products (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  environment  text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  product_id   bigint NOT NULL DEFAULT nextval('cb_product_ids'),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  description  text NOT NULL DEFAULT '' CHECK (length(description) <= 255),
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment, product_id),
  UNIQUE (product_id)
);

CREATE TABLE cb_settings (
  merchant_id         text NOT NULL REFERENCES merchants (id),
  environment         text NOT NULL CHECK (environment IN ('sandbox', 'production')),
  -- The webhook endpoint (format infomedia-get) that receives charge and refund callbacks.
  webhook_endpoint_id text,
  support_contact     text NOT NULL DEFAULT '' CHECK (length(support_contact) <= 60),
  -- SendBill (a charge without a PIN) only for merchants an operator has allowed.
  send_bill_allowed   boolean NOT NULL DEFAULT false,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, environment)
);

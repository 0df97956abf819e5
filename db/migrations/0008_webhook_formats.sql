-- Endpoints can take a product's own callback format (e.g. Infomedia's GET callbacks) and be limited to
-- one product's events.
ALTER TABLE webhook_endpoints ADD COLUMN format text NOT NULL DEFAULT 'standard-webhooks';
ALTER TABLE webhook_endpoints ADD COLUMN product text
  CHECK (product IN ('carrier-billing', 'bill-payment', 'subscriptions', 'agreements'));

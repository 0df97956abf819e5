-- Running totals of busy accounts (a merchant's payable and receivable) are split over shard rows: each
-- posting adds to one shard picked at random, so concurrent payments of one merchant do not queue on
-- one row lock. An account's balance is the sum of its shards.
ALTER TABLE ledger_accounts ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 63);
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_pkey;
ALTER TABLE ledger_accounts ADD PRIMARY KEY (merchant_id, environment, currency, role, shard);

import { sql } from 'kysely';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import type { ProductRules } from './terms.js';

/** SQL of the bill-payment product (tables of migration 0013), as plain statements with typed rows. */

export const productTypes: Readonly<Record<number, string>> = {
  3: 'Airtime',
  5: 'Data',
  10: 'Voucher',
  17: 'ElecBillpayment',
  18: 'BillPayment',
  19: 'TV',
  20: 'SubscriptionVoucher',
};

export type IdentifierKind = 'msisdn' | 'meter' | 'account' | 'smart_card';

export interface ProductRow {
  environment: Environment;
  product_id: number;
  name: string;
  short_description: string;
  product_type_id: number;
  biller_connector_id: string;
  biller_product_code: string;
  currency: string;
  pricing_type: 'single' | 'range';
  amount_minor: string | null;
  minimum_minor: string | null;
  maximum_minor: string | null;
  increment_minor: string | null;
  fee_fixed_minor: string;
  fee_rate_ppm: number;
  share_fixed_minor: string;
  share_rate_ppm: number;
  identifier_kind: IdentifierKind;
  identifier_pattern: string;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

const big = (value: string | null) => (value === null ? undefined : BigInt(value));

export function rulesOf(row: ProductRow): ProductRules {
  const pricing =
    row.pricing_type === 'single'
      ? { type: 'single' as const, amount: big(row.amount_minor) ?? 0n }
      : {
          type: 'range' as const,
          minimumAmount: big(row.minimum_minor) ?? 1n,
          maximumAmount: big(row.maximum_minor) ?? 1n,
          increment: big(row.increment_minor) ?? 1n,
        };
  return {
    pricing,
    feeFixed: BigInt(row.fee_fixed_minor),
    feeRatePpm: row.fee_rate_ppm,
    shareFixed: BigInt(row.share_fixed_minor),
    shareRatePpm: row.share_rate_ppm,
  };
}

const productColumns = sql`p.environment, p.product_id, p.name, p.short_description, p.product_type_id,
  p.biller_connector_id, p.biller_product_code, p.currency, p.pricing_type, p.amount_minor::text AS amount_minor,
  p.minimum_minor::text AS minimum_minor, p.maximum_minor::text AS maximum_minor,
  p.increment_minor::text AS increment_minor, p.fee_fixed_minor::text AS fee_fixed_minor, p.fee_rate_ppm,
  p.share_fixed_minor::text AS share_fixed_minor, p.share_rate_ppm, p.identifier_kind, p.identifier_pattern,
  p.active, p.created_at, p.updated_at`;

export interface NewProduct {
  environment: Environment;
  productId: number;
  name: string;
  shortDescription: string;
  productTypeId: number;
  billerConnectorId: string;
  billerProductCode: string;
  currency: string;
  rules: ProductRules;
  identifierKind: IdentifierKind;
  identifierPattern: string;
  active: boolean;
}

export async function upsertProduct(db: Executor, p: NewProduct): Promise<ProductRow> {
  const pr = p.rules.pricing;
  const { rows } = await sql<ProductRow>`
    INSERT INTO bp_products AS p (environment, product_id, name, short_description, product_type_id,
      biller_connector_id, biller_product_code, currency, pricing_type, amount_minor, minimum_minor, maximum_minor,
      increment_minor, fee_fixed_minor, fee_rate_ppm, share_fixed_minor, share_rate_ppm, identifier_kind,
      identifier_pattern, active)
    VALUES (${p.environment}, ${p.productId}, ${p.name}, ${p.shortDescription}, ${p.productTypeId},
      ${p.billerConnectorId}, ${p.billerProductCode}, ${p.currency}, ${pr.type}, ${pr.amount?.toString() ?? null},
      ${pr.minimumAmount?.toString() ?? null}, ${pr.maximumAmount?.toString() ?? null},
      ${pr.increment?.toString() ?? null}, ${p.rules.feeFixed.toString()}, ${p.rules.feeRatePpm},
      ${p.rules.shareFixed.toString()}, ${p.rules.shareRatePpm}, ${p.identifierKind}, ${p.identifierPattern},
      ${p.active})
    ON CONFLICT (environment, product_id) DO UPDATE SET name = excluded.name,
      short_description = excluded.short_description, product_type_id = excluded.product_type_id,
      biller_connector_id = excluded.biller_connector_id, biller_product_code = excluded.biller_product_code,
      currency = excluded.currency, pricing_type = excluded.pricing_type, amount_minor = excluded.amount_minor,
      minimum_minor = excluded.minimum_minor, maximum_minor = excluded.maximum_minor,
      increment_minor = excluded.increment_minor, fee_fixed_minor = excluded.fee_fixed_minor,
      fee_rate_ppm = excluded.fee_rate_ppm, share_fixed_minor = excluded.share_fixed_minor,
      share_rate_ppm = excluded.share_rate_ppm, identifier_kind = excluded.identifier_kind,
      identifier_pattern = excluded.identifier_pattern, active = excluded.active, updated_at = now()
    RETURNING ${productColumns}`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('invariant violated: upsert returned no product');
  return row;
}

export async function listProducts(db: Executor, environment: Environment): Promise<ProductRow[]> {
  const { rows } = await sql<ProductRow>`
    SELECT ${productColumns} FROM bp_products p WHERE p.environment = ${environment} ORDER BY p.product_id`.execute(
    db,
  );
  return rows;
}

/** Products enabled for a client, optionally filtered (Product Lookup). */
export async function clientProducts(
  db: Executor,
  clientId: number,
  filter: { productId?: number; productTypeId?: number; includeInactive?: boolean },
): Promise<ProductRow[]> {
  const { rows } = await sql<ProductRow>`
    SELECT ${productColumns} FROM bp_client_products cp
      JOIN bp_products p ON p.environment = cp.environment AND p.product_id = cp.product_id
     WHERE cp.client_id = ${clientId}
       AND (${filter.productId ?? null}::int IS NULL OR p.product_id = ${filter.productId ?? null})
       AND (${filter.productTypeId ?? null}::int IS NULL OR p.product_type_id = ${filter.productTypeId ?? null})
       AND (${filter.includeInactive ?? false} OR p.active)
     ORDER BY p.product_id`.execute(db);
  return rows;
}

/** A product as the client may buy it: enabled for the client (active or not). */
export async function clientProduct(
  db: Executor,
  clientId: number,
  productId: number,
): Promise<ProductRow | undefined> {
  return (await clientProducts(db, clientId, { productId, includeInactive: true }))[0];
}

export interface ClientRow {
  client_id: number;
  merchant_id: string;
  environment: Environment;
  name: string;
  credential_id: string;
  signature_required: boolean;
  active: boolean;
  created_at: Date;
}

/**
 * The client of a token, checked against the presented API key in one round trip: the key must be the
 * client's own live `bill_payment` credential, the merchant active and bill payment approved.
 */
export async function authenticateClient(
  db: Executor,
  input: { clientId: number; environment: Environment; apiKeyHash: Buffer },
): Promise<(ClientRow & { usable: boolean }) | undefined> {
  const { rows } = await sql<ClientRow & { usable: boolean }>`
    SELECT c.client_id, c.merchant_id, c.environment, c.name, c.credential_id, c.signature_required, c.active,
           c.created_at,
           (c.active AND m.status = 'active' AND EXISTS (
              SELECT 1 FROM product_access pa WHERE pa.merchant_id = c.merchant_id
                 AND pa.environment = c.environment AND pa.product = 'bill-payment' AND pa.status = 'approved')) AS usable
      FROM bp_clients c
      JOIN credentials cr ON cr.id = c.credential_id AND cr.merchant_id = c.merchant_id
      JOIN merchants m ON m.id = c.merchant_id
     WHERE c.client_id = ${input.clientId} AND c.environment = ${input.environment}
       AND cr.secret_hash = ${input.apiKeyHash} AND cr.revoked_at IS NULL
       AND (cr.expires_at IS NULL OR cr.expires_at > now())`.execute(db);
  return rows[0];
}

export async function clientForToken(
  db: Executor,
  clientId: number,
): Promise<
  { client_id: number; environment: Environment; secret_hash: Buffer; active: boolean } | undefined
> {
  const { rows } = await sql<{
    client_id: number;
    environment: Environment;
    secret_hash: Buffer;
    active: boolean;
  }>`
    SELECT client_id, environment, secret_hash, active FROM bp_clients WHERE client_id = ${clientId}`.execute(
    db,
  );
  return rows[0];
}

export async function insertClient(
  db: Executor,
  input: {
    clientId?: number;
    merchantId: string;
    environment: Environment;
    name: string;
    secretHash: Buffer;
    credentialId: string;
    signatureRequired: boolean;
  },
): Promise<ClientRow> {
  const { rows } = await sql<ClientRow>`
    INSERT INTO bp_clients (client_id, merchant_id, environment, name, secret_hash, credential_id, signature_required)
    VALUES (coalesce(${input.clientId ?? null}::int, nextval('bp_client_ids')::int), ${input.merchantId},
            ${input.environment}, ${input.name}, ${input.secretHash}, ${input.credentialId}, ${input.signatureRequired})
    RETURNING client_id, merchant_id, environment, name, credential_id, signature_required, active, created_at`.execute(
    db,
  );
  const row = rows[0];
  if (!row) throw new Error('invariant violated: no client inserted');
  return row;
}

export async function listClients(
  db: Executor,
  merchantId: string,
  environment: Environment,
): Promise<ClientRow[]> {
  const { rows } = await sql<ClientRow>`
    SELECT client_id, merchant_id, environment, name, credential_id, signature_required, active, created_at
      FROM bp_clients WHERE merchant_id = ${merchantId} AND environment = ${environment} ORDER BY client_id`.execute(
    db,
  );
  return rows;
}

export async function getClient(db: Executor, clientId: number): Promise<ClientRow | undefined> {
  const { rows } = await sql<ClientRow>`
    SELECT client_id, merchant_id, environment, name, credential_id, signature_required, active, created_at
      FROM bp_clients WHERE client_id = ${clientId}`.execute(db);
  return rows[0];
}

export async function enableProduct(db: Executor, client: ClientRow, productId: number, enabled: boolean) {
  if (enabled) {
    await sql`INSERT INTO bp_client_products (client_id, environment, product_id)
              VALUES (${client.client_id}, ${client.environment}, ${productId}) ON CONFLICT DO NOTHING`.execute(
      db,
    );
  } else {
    await sql`DELETE FROM bp_client_products WHERE client_id = ${client.client_id} AND product_id = ${productId}`.execute(
      db,
    );
  }
}

export interface FundingSourceRow {
  funding_source_id: number;
  client_id: number;
  merchant_id: string;
  environment: Environment;
  name: string;
  connector_id: string;
  webhook_endpoint_id: string | null;
  active: boolean;
  created_at: Date;
}

export async function insertFundingSource(
  db: Executor,
  input: {
    clientId: number;
    merchantId: string;
    environment: Environment;
    name: string;
    connectorId: string;
  },
): Promise<FundingSourceRow> {
  const { rows } = await sql<FundingSourceRow>`
    INSERT INTO bp_funding_sources (client_id, merchant_id, environment, name, connector_id)
    VALUES (${input.clientId}, ${input.merchantId}, ${input.environment}, ${input.name}, ${input.connectorId})
    RETURNING *`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('invariant violated: no funding source inserted');
  return row;
}

export async function setFundingSourceEndpoint(
  db: Executor,
  fundingSourceId: number,
  endpointId: string | null,
) {
  await sql`UPDATE bp_funding_sources SET webhook_endpoint_id = ${endpointId}
             WHERE funding_source_id = ${fundingSourceId}`.execute(db);
}

export async function fundingSourcesOf(db: Executor, clientId: number): Promise<FundingSourceRow[]> {
  const { rows } = await sql<FundingSourceRow>`
    SELECT * FROM bp_funding_sources WHERE client_id = ${clientId} ORDER BY funding_source_id`.execute(db);
  return rows;
}

export interface TransactionRow {
  raas_txn_ref: string;
  merchant_id: string;
  environment: Environment;
  client_id: number;
  client_txn_ref: string;
  request_hash: string;
  kind: 'transact' | 'reserve_and_transact';
  payment_id: string;
  product_id: number;
  product_type_id: number;
  funding_source_id: number;
  currency: string;
  purchase_minor: string;
  fee_minor: string;
  reserve_minor: string;
  vend_minor: string;
  settlement_minor: string;
  client_share_minor: string;
  source_identifier: string;
  target_identifier: string;
  channel_id: number | null;
  channel_name: string | null;
  channel_session_id: string | null;
  reserve_funds_txn_ref: string | null;
  reserve_funds_code: string | null;
  state: 'pending' | 'vending' | 'succeeded' | 'failed';
  vend_state: 'none' | 'sending' | 'done' | 'unknown';
  vend_attempts: number;
  result_code: string | null;
  result_message: string | null;
  token: string | null;
  serial_number: string | null;
  receipt_number: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  /** The client's Signature setting and the funding source's connector, read with the row. */
  signature_required: boolean;
  funding_connector_id: string | null;
}

export const transactionColumns = sql`raas_txn_ref, merchant_id, environment, client_id, client_txn_ref,
  request_hash, kind, payment_id, product_id, product_type_id, funding_source_id, currency,
  purchase_minor::text AS purchase_minor, fee_minor::text AS fee_minor, reserve_minor::text AS reserve_minor,
  vend_minor::text AS vend_minor, settlement_minor::text AS settlement_minor,
  client_share_minor::text AS client_share_minor, source_identifier, target_identifier, channel_id, channel_name,
  channel_session_id, reserve_funds_txn_ref, reserve_funds_code, state, vend_state, vend_attempts, result_code,
  result_message, token, serial_number, receipt_number, created_at, updated_at, finished_at,
  coalesce((SELECT c.signature_required FROM bp_clients c WHERE c.client_id = bp_transactions.client_id), false)
    AS signature_required,
  (SELECT f.connector_id FROM bp_funding_sources f WHERE f.funding_source_id = bp_transactions.funding_source_id)
    AS funding_connector_id`;

export async function getTransaction(db: Executor, raasTxnRef: string): Promise<TransactionRow | undefined> {
  const { rows } = await sql<TransactionRow>`
    SELECT ${transactionColumns} FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}`.execute(db);
  return rows[0];
}

export async function findByClientRef(
  db: Executor,
  clientId: number,
  clientTxnRef: string,
): Promise<TransactionRow | undefined> {
  const { rows } = await sql<TransactionRow>`
    SELECT ${transactionColumns} FROM bp_transactions
     WHERE client_id = ${clientId} AND client_txn_ref = ${clientTxnRef}`.execute(db);
  return rows[0];
}

type Nullable<T> = { [K in keyof T]: T[K] | null };

export interface SubmitContext {
  product: ProductRow | undefined;
  fundingConnectorId: string | undefined;
  existing: Pick<TransactionRow, 'request_hash' | 'kind' | 'raas_txn_ref'> | undefined;
}

/**
 * Everything Transact needs to decide, in one round trip: an earlier transaction with this
 * `clientTxnRef`, the product as enabled for the client, and the client's funding source.
 */
export async function submitContext(
  db: Executor,
  input: { clientId: number; productId: bigint; fundingSourceId: bigint | undefined; clientTxnRef: string },
): Promise<SubmitContext> {
  const productId = input.productId <= 2_147_483_647n ? Number(input.productId) : -1;
  const fundingSourceId =
    input.fundingSourceId !== undefined && input.fundingSourceId <= 2_147_483_647n
      ? Number(input.fundingSourceId)
      : -1;
  const { rows } = await sql<
    Nullable<ProductRow> & {
      fs_connector_id: string | null;
      x_hash: string | null;
      x_kind: TransactionRow['kind'] | null;
      x_ref: string | null;
    }
  >`
    SELECT ${productColumns}, fs.connector_id AS fs_connector_id, x.request_hash AS x_hash, x.kind AS x_kind,
           x.raas_txn_ref AS x_ref
      FROM (SELECT 1) AS one
      LEFT JOIN bp_client_products cp ON cp.client_id = ${input.clientId} AND cp.product_id = ${productId}
      LEFT JOIN bp_products p ON p.environment = cp.environment AND p.product_id = cp.product_id
      LEFT JOIN bp_funding_sources fs ON fs.client_id = ${input.clientId} AND fs.funding_source_id = ${fundingSourceId}
                                     AND fs.active
      LEFT JOIN bp_transactions x ON x.client_id = ${input.clientId} AND x.client_txn_ref = ${input.clientTxnRef}`.execute(
    db,
  );
  const row = rows[0];
  if (!row) throw new Error('invariant violated: submit context returned no row');
  const { fs_connector_id, x_hash, x_kind, x_ref, ...product } = row;
  return {
    product: product.product_id === null ? undefined : (product as ProductRow),
    fundingConnectorId: fs_connector_id ?? undefined,
    existing:
      x_hash !== null && x_kind !== null && x_ref !== null
        ? { request_hash: x_hash, kind: x_kind, raas_txn_ref: x_ref }
        : undefined,
  };
}

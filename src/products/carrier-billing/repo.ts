import { sql, type Selectable } from 'kysely';
import type { Executor } from '../../core/db/db.js';
import type { CbProductsTable, CbSettingsTable, Environment } from '../../core/db/schema.js';

/** SQL of the carrier-billing product: its products (Infomedia `productId`s) and settings. */
export type CbProductRow = Selectable<CbProductsTable>;
export type CbSettingsRow = Selectable<CbSettingsTable>;

export interface Scope {
  merchantId: string;
  environment: Environment;
}

export async function findProduct(
  db: Executor,
  scope: Scope,
  productId: bigint,
): Promise<CbProductRow | undefined> {
  return db
    .selectFrom('cb_products')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('product_id', '=', productId)
    .executeTakeFirst();
}

export async function listProducts(db: Executor, scope: Scope): Promise<CbProductRow[]> {
  return db
    .selectFrom('cb_products')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .orderBy('product_id')
    .limit(1000)
    .execute();
}

export async function insertProduct(
  db: Executor,
  scope: Scope,
  input: { name: string; description?: string },
): Promise<CbProductRow> {
  return db
    .insertInto('cb_products')
    .values({
      merchant_id: scope.merchantId,
      environment: scope.environment,
      name: input.name,
      description: input.description ?? '',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateProduct(
  db: Executor,
  scope: Scope,
  productId: bigint,
  patch: { name?: string; description?: string; enabled?: boolean },
): Promise<CbProductRow | undefined> {
  return db
    .updateTable('cb_products')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    })
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('product_id', '=', productId)
    .returningAll()
    .executeTakeFirst();
}

export async function getSettings(db: Executor, scope: Scope): Promise<CbSettingsRow> {
  const row = await db
    .selectFrom('cb_settings')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .executeTakeFirst();
  return (
    row ?? {
      merchant_id: scope.merchantId,
      environment: scope.environment,
      webhook_endpoint_id: null,
      support_contact: '',
      send_bill_allowed: false,
      updated_at: new Date(0),
    }
  );
}

export async function upsertSettings(
  db: Executor,
  scope: Scope,
  patch: { webhookEndpointId?: string | null; supportContact?: string; sendBillAllowed?: boolean },
): Promise<CbSettingsRow> {
  const current = await getSettings(db, scope);
  return db
    .insertInto('cb_settings')
    .values({
      merchant_id: scope.merchantId,
      environment: scope.environment,
      webhook_endpoint_id:
        patch.webhookEndpointId === undefined ? current.webhook_endpoint_id : patch.webhookEndpointId,
      support_contact: patch.supportContact ?? current.support_contact,
      send_bill_allowed: patch.sendBillAllowed ?? current.send_bill_allowed,
    })
    .onConflict((oc) =>
      oc.columns(['merchant_id', 'environment']).doUpdateSet({
        webhook_endpoint_id: (eb) => eb.ref('excluded.webhook_endpoint_id'),
        support_contact: (eb) => eb.ref('excluded.support_contact'),
        send_bill_allowed: (eb) => eb.ref('excluded.send_bill_allowed'),
        updated_at: sql<Date>`now()`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A bill by its txid (the payment's `reference`), for GetTransaction and Refund. */
export async function findBillByTxid(db: Executor, scope: Scope, txid: string) {
  return db
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('product', '=', 'carrier-billing')
    .where('kind', '=', 'sale')
    .where('reference', '=', txid)
    .executeTakeFirst();
}

export async function refundsOf(db: Executor, merchantId: string, paymentId: string) {
  return db
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('parent_payment_id', '=', paymentId)
    .orderBy('id')
    .execute();
}

/** The merchant's name and support contact, named in PIN and confirmation SMS: one query. */
export async function merchantContact(
  db: Executor,
  scope: Scope,
): Promise<{ name: string; support: string }> {
  const row = await db
    .selectFrom('merchants as m')
    .leftJoin('cb_settings as s', (join) =>
      join.onRef('s.merchant_id', '=', 'm.id').on('s.environment', '=', scope.environment),
    )
    .select(['m.name', 's.support_contact'])
    .where('m.id', '=', scope.merchantId)
    .executeTakeFirstOrThrow();
  return { name: row.name, support: row.support_contact || row.name };
}

/** The settings as the native API shows them: the callback URL is the (enabled) endpoint's. */
export async function settingsView(db: Executor, scope: Scope) {
  const settings = await getSettings(db, scope);
  const endpoint = settings.webhook_endpoint_id
    ? await db
        .selectFrom('webhook_endpoints')
        .select(['url', 'enabled'])
        .where('merchant_id', '=', scope.merchantId)
        .where('id', '=', settings.webhook_endpoint_id)
        .executeTakeFirst()
    : undefined;
  return {
    webhook_url: endpoint?.enabled ? endpoint.url : null,
    support_contact: settings.support_contact,
    send_bill_allowed: settings.send_bill_allowed,
  };
}

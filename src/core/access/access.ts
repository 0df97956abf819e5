import { sql, type Selectable } from 'kysely';
import { AppError } from '../errors/errors.js';
import { isUniqueViolation, type Executor } from '../db/db.js';
import type { Environment, Product, ProductAccessTable } from '../db/schema.js';
import { newId } from '../ids/ids.js';

/**
 * Product access, the developer portal's "subscription" to a product (seed 000): a merchant asks for a
 * product in an environment; sandbox access is granted at once, production access waits for an
 * operator. A product's credentials work only while its access here is `approved`.
 */
export type AccessRow = Selectable<ProductAccessTable>;

export const products: readonly Product[] = [
  'carrier-billing',
  'bill-payment',
  'subscriptions',
  'agreements',
];

export interface AccessView {
  id: string;
  merchant_id: string;
  environment: Environment;
  product: Product;
  name: string;
  status: AccessRow['status'];
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
}

export function accessView(row: AccessRow): AccessView {
  return {
    id: row.id,
    merchant_id: row.merchant_id,
    environment: row.environment,
    product: row.product,
    name: row.name,
    status: row.status,
    requested_at: row.requested_at.toISOString(),
    decided_at: row.decided_at?.toISOString() ?? null,
    decided_by: row.decided_by,
    decision_reason: row.decision_reason,
  };
}

export async function requestAccess(
  db: Executor,
  input: { merchantId: string; environment: Environment; product: Product; name: string },
): Promise<AccessRow> {
  const sandbox = input.environment === 'sandbox';
  try {
    return await db
      .insertInto('product_access')
      .values({
        merchant_id: input.merchantId,
        id: newId('accessRequest'),
        environment: input.environment,
        product: input.product,
        name: input.name,
        status: sandbox ? 'approved' : 'pending',
        decided_at: sandbox ? sql<Date>`now()` : null,
        decided_by: sandbox ? 'system:sandbox' : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError(
        'conflict',
        `Access to ${input.product} in ${input.environment} is already pending or approved.`,
        { field: 'product' },
      );
    }
    throw error;
  }
}

export async function listAccess(
  db: Executor,
  filter: {
    merchantId?: string;
    environment?: Environment;
    status?: AccessRow['status'];
    limit: number;
    startingAfter?: string;
  },
): Promise<AccessRow[]> {
  let query = db
    .selectFrom('product_access')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.environment) query = query.where('environment', '=', filter.environment);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  return query.execute();
}

export async function getAccess(
  db: Executor,
  scope: { merchantId?: string; environment?: Environment },
  id: string,
): Promise<AccessRow> {
  let query = db.selectFrom('product_access').selectAll().where('id', '=', id);
  if (scope.merchantId) query = query.where('merchant_id', '=', scope.merchantId);
  if (scope.environment) query = query.where('environment', '=', scope.environment);
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('not_found', `No access request ${id}.`);
  return row;
}

const allowedFrom: Readonly<Record<'approved' | 'rejected' | 'revoked', readonly AccessRow['status'][]>> = {
  approved: ['pending'],
  rejected: ['pending'],
  revoked: ['approved'],
};

/** An operator's decision; the guard on the current status makes concurrent decisions race safely. */
export async function decideAccess(
  db: Executor,
  id: string,
  decision: 'approved' | 'rejected' | 'revoked',
  operator: string,
  reason: string | undefined,
): Promise<AccessRow> {
  const row = await db
    .updateTable('product_access')
    .set({
      status: decision,
      decided_at: sql<Date>`now()`,
      decided_by: operator,
      decision_reason: reason ?? null,
    })
    .where('id', '=', id)
    .where('status', 'in', allowedFrom[decision])
    .returningAll()
    .executeTakeFirst();
  if (row) return row;
  const current = await getAccess(db, {}, id);
  throw new AppError('conflict', `Access request ${id} is ${current.status}; it cannot become ${decision}.`);
}

export async function renameAccess(
  db: Executor,
  scope: { merchantId: string; environment: Environment },
  id: string,
  name: string,
): Promise<AccessRow> {
  const row = await db
    .updateTable('product_access')
    .set({ name })
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No access request ${id}.`);
  return row;
}

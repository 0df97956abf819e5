import { sql, type Selectable } from 'kysely';
import { AppError } from '../errors/errors.js';
import type { Executor } from '../db/db.js';
import type { MerchantsTable } from '../db/schema.js';
import { newId } from '../ids/ids.js';

export type MerchantRow = Selectable<MerchantsTable>;

export interface MerchantView {
  id: string;
  name: string;
  status: 'active' | 'disabled';
  is_demo: boolean;
  created_at: string;
  disabled_at: string | null;
}

export function merchantView(row: MerchantRow): MerchantView {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    is_demo: row.is_demo,
    created_at: row.created_at.toISOString(),
    disabled_at: row.disabled_at?.toISOString() ?? null,
  };
}

export async function insertMerchant(
  db: Executor,
  input: { name: string; isDemo?: boolean },
): Promise<MerchantRow> {
  return db
    .insertInto('merchants')
    .values({ id: newId('merchant'), name: input.name, is_demo: input.isDemo ?? false })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getMerchant(db: Executor, id: string): Promise<MerchantRow> {
  const row = await db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('not_found', `No merchant ${id}.`);
  return row;
}

export async function listMerchants(
  db: Executor,
  page: { limit: number; startingAfter?: string; status?: 'active' | 'disabled' },
): Promise<MerchantRow[]> {
  let query = db
    .selectFrom('merchants')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (page.startingAfter) query = query.where('id', '<', page.startingAfter);
  if (page.status) query = query.where('status', '=', page.status);
  return query.execute();
}

/** Disabling stops every credential of the merchant at once (authentication checks merchant status). */
export async function setMerchantStatus(
  db: Executor,
  id: string,
  status: 'active' | 'disabled',
): Promise<MerchantRow> {
  const row = await db
    .updateTable('merchants')
    .set({ status, disabled_at: status === 'disabled' ? sql<Date>`now()` : null })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No merchant ${id}.`);
  return row;
}

import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/db.js';
import type { TestClocksTable } from '../db/schema.js';
import { AppError } from '../errors/errors.js';
import { newId } from '../ids/ids.js';

/**
 * Sandbox test clocks: frozen times that only move when advanced. Sandbox objects created with a clock
 * use its time; their due work runs when the clock is advanced past it. Production never has clocks.
 */
export type TestClockRow = Selectable<TestClocksTable>;

/** How far one advance may move a clock: two years, enough for any billing schedule. */
export const advanceSecondsMax = 2 * 366 * 86_400;

export function testClockView(row: TestClockRow) {
  return {
    id: row.id,
    name: row.name,
    frozen_time: row.frozen_time.toISOString(),
    created_at: row.created_at.toISOString(),
  };
}

export async function createTestClock(
  db: Executor,
  input: { merchantId: string; frozenTime: Date; name?: string },
): Promise<TestClockRow> {
  return db
    .insertInto('test_clocks')
    .values({
      merchant_id: input.merchantId,
      id: newId('testClock'),
      environment: 'sandbox',
      name: input.name ?? '',
      frozen_time: input.frozenTime,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getTestClock(db: Executor, merchantId: string, id: string): Promise<TestClockRow> {
  const row = await db
    .selectFrom('test_clocks')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No test clock ${id}.`);
  return row;
}

export async function listTestClocks(db: Executor, merchantId: string): Promise<TestClockRow[]> {
  return db
    .selectFrom('test_clocks')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id', 'desc')
    .limit(100)
    .execute();
}

/** Moves a clock forward (never back). Concurrent advances serialise on the row. */
export async function moveTestClock(
  db: Executor,
  merchantId: string,
  id: string,
  to: Date,
): Promise<TestClockRow> {
  const current = await getTestClock(db, merchantId, id);
  // Equal is a no-op, so a retried advance is harmless; backwards is an error.
  if (to.getTime() < current.frozen_time.getTime()) {
    throw new AppError(
      'validation_failed',
      'frozen_time must not be earlier than the clock’s current time.',
      {
        field: '/frozen_time',
      },
    );
  }
  if ((to.getTime() - current.frozen_time.getTime()) / 1000 > advanceSecondsMax) {
    throw new AppError('validation_failed', 'A clock moves at most two years per advance.', {
      field: '/frozen_time',
    });
  }
  const row = await db
    .updateTable('test_clocks')
    .set({ frozen_time: sql<Date>`greatest(frozen_time, ${to.toISOString()}::timestamptz)` })
    .where('merchant_id', '=', merchantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return row;
}

/** The time for an object: its test clock's frozen time, or real (database) time. */
export async function clockNow(db: Executor, testClockId: string | null): Promise<Date> {
  if (testClockId === null) {
    const { rows } = await sql<{ now: Date }>`SELECT now() AS now`.execute(db);
    return rows[0]?.now ?? new Date();
  }
  const row = await db
    .selectFrom('test_clocks')
    .select('frozen_time')
    .where('id', '=', testClockId)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No test clock ${testClockId}.`);
  return row.frozen_time;
}

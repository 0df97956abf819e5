import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDueCycles } from '../../bench/subscriptions.js';
import { verifyLedger } from '../../src/core/ledger/verify.js';
import { backend, createTestDatabase, type TestDatabase } from '../harness.js';

/**
 * Two charge workers (built code, separate processes) over 1 000 due cycles; one is killed with
 * kill -9 while charges are in flight. Every cycle ends with exactly one successful charge: the dead
 * worker's attempts are found by the survivor after their lease and settled under the same reference.
 */
const script = path.resolve(import.meta.dirname, '../../dist/bench/subscriptions.js');

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [script, 'worker', '--loop', '--lease', '3', '--delay-ms', '20', '--concurrency', '8'],
    {
      env: { PATH: process.env.PATH, DATABASE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('charge worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached in 60 s');
}

describe.runIf(backend() === 'postgres')('two charge workers, one killed with kill -9 mid-charge', () => {
  let database: TestDatabase;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database.close();
  });

  it('charges each of 1 000 due cycles exactly once', async () => {
    const db = database.handle.db;
    const url = database.url ?? '';
    const seeded = await seedDueCycles(db, { count: 1000, clock: false });
    const first = await startWorker(url);
    const second = await startWorker(url);
    children.push(first, second);
    const captured = () =>
      sql<{ n: string }>`SELECT count(*) AS n FROM sp_billing_cycles WHERE status = 'Captured'`.execute(db);
    await until(captured, (r) => Number(r.rows[0]?.n) >= 150);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const inFlight = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM sp_transactions WHERE status = 'pending'`.execute(db);
    expect(Number(inFlight.rows[0]?.n)).toBeGreaterThan(0);

    await until(captured, (r) => Number(r.rows[0]?.n) === 1000);
    const { rows } = await sql<{
      cycles: string;
      captured_tx: string;
      succeeded: string;
      amount: string;
      doubled: string;
    }>`
      SELECT (SELECT count(*) FROM sp_billing_cycles WHERE merchant_id = ${seeded.merchantId}) AS cycles,
             (SELECT count(*) FROM sp_transactions WHERE merchant_id = ${seeded.merchantId} AND status = 'captured') AS captured_tx,
             (SELECT count(*) FROM payments WHERE merchant_id = ${seeded.merchantId} AND status = 'succeeded') AS succeeded,
             (SELECT coalesce(sum(amount_minor), 0) FROM payments WHERE merchant_id = ${seeded.merchantId} AND status = 'succeeded') AS amount,
             (SELECT count(*) FROM (SELECT billing_cycle_id FROM sp_transactions WHERE status = 'captured'
                                     GROUP BY billing_cycle_id HAVING count(*) > 1) d) AS doubled`.execute(
      db,
    );
    const counts = Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
    expect(counts).toEqual({ cycles: 1000, captured_tx: 1000, succeeded: 1000, amount: 999000, doubled: 0 });
    const ledger = await verifyLedger(db);
    expect(ledger.findings).toEqual([]);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillerConnector } from '../../src/connectors/contracts/biller.js';
import type { Db } from '../../src/core/db/db.js';
import { parseCurrency } from '../../src/core/money/money.js';
import { processTransaction } from '../../src/products/bill-payment/processing.js';
import { backend, startTestApp, type TestApp } from '../harness.js';
import { demoOf, demoPayd, nowIso, type Payd } from './helpers.js';

const script = path.resolve(import.meta.dirname, 'vend-worker.mjs');

function startWorker(url: string, hang: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH, DATABASE_URL: url, HANG: hang ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached in 30 s');
}

// Worker processes share a database only on PostgreSQL; on PGlite the same crash is played in-process.
const onPostgres = backend() === 'postgres';

function probeBiller(db: Db, crash: boolean): BillerConnector {
  const read = async (reference: string) =>
    (
      await sql<{ account_number: string; product_code: string; amount_minor: string; currency: string }>`
        SELECT account_number, product_code, amount_minor::text AS amount_minor, currency FROM probe_vends
         WHERE reference = ${reference} LIMIT 1`.execute(db)
    ).rows[0];
  const vendOf = (reference: string, row: NonNullable<Awaited<ReturnType<typeof read>>>) => ({
    accountNumber: row.account_number,
    productCode: row.product_code,
    amount: { amountMinor: BigInt(row.amount_minor), currency: parseCurrency(row.currency) },
    receiptNumber: `RCP${reference.slice(0, 12)}`,
    token: '12345678901234567890',
  });
  return {
    id: 'biller-simulator',
    capabilities: () => ({ currencies: [], products: [] }),
    validateAccount: async () => ({ status: 'not_sent', rawCode: 'UNUSED' }),
    async vend(request) {
      await sql`INSERT INTO probe_vends (reference, account_number, product_code, amount_minor, currency, pid)
                VALUES (${request.reference}, ${request.accountNumber}, ${request.productCode},
                        ${request.amount.amountMinor.toString()}, ${request.amount.currency}, 0)`.execute(db);
      // The process dies here: the vend happened at the biller, nothing of its answer was recorded.
      if (crash) throw new Error('simulated crash after the vend reached the biller');
      const row = await read(request.reference);
      if (!row) throw new Error('probe vend row missing');
      return { status: 'succeeded', rawCode: '0000', data: vendOf(request.reference, row) };
    },
    async status(request) {
      const row = await read(request.reference);
      if (!row) return { status: 'not_sent', rawCode: 'NOT_FOUND' };
      return { status: 'succeeded', rawCode: '0000', data: vendOf(request.reference, row) };
    },
  };
}

if (!onPostgres)
  describe('bill payment: a worker that dies mid-vend (in-process, PGlite)', () => {
    let t: TestApp;
    let api: Payd;
    beforeAll(async () => {
      t = await startTestApp();
      api = await demoPayd(t);
      await sql`CREATE TABLE probe_vends (reference text, account_number text, product_code text, amount_minor bigint,
                                        currency text, pid int)`.execute(t.database.handle.db);
    });
    afterAll(async () => {
      await t.close();
    });

    it('the next attempt asks the biller and completes with exactly one vend', async () => {
      const db = t.database.handle.db;
      const res = await api.post('/transact/4.0', killOrder(t, api));
      const raasTxnRef = res.body.raasTxnRef as string;
      const deps = (crash: boolean) => ({
        db,
        sealKey: t.services.keys.derive('bill-payment:token-seal'),
        connectors: {
          billers: new Map([['biller-simulator', probeBiller(db, crash)]]),
          fundingSources: new Map(),
        },
      });
      await expect(processTransaction(deps(true), raasTxnRef)).rejects.toThrow(/simulated crash/);
      const state = await sql<{ state: string; vend_state: string }>`
      SELECT state, vend_state FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}`.execute(db);
      expect(state.rows[0]).toEqual({ state: 'vending', vend_state: 'sending' });
      await processTransaction(deps(false), raasTxnRef);
      await processTransaction(deps(false), raasTxnRef);
      const vends = await sql<{ reference: string }>`SELECT reference FROM probe_vends`.execute(db);
      expect(vends.rows).toEqual([{ reference: `${raasTxnRef}-0000` }]);
      const lookup = await api.get('/lookup-api/2.0', { clientId: api.clientId, raasTxnRef });
      expect(lookup.body).toMatchObject({ transactionStatus: 'SUCCESS', token: '12345678901234567890' });
    });
  });

function killOrder(t: TestApp, api: Payd) {
  return {
    clientId: api.clientId,
    clientTxnRef: 'kill-9-order',
    productId: 100,
    purchaseAmount: 20000,
    feeAmount: 150,
    sourceIdentifier: '27821234567',
    targetIdentifier: '2341234567891',
    channelId: 3,
    currencyCode: 'ZAR',
    fundingSourceId: demoOf(t).fundingSourceId,
    reserveFundsTxnRef: 'bank-reservation-1',
    timestamp: nowIso(),
  };
}

if (onPostgres)
  describe('bill payment: a worker killed with kill -9 mid-vend', () => {
    let t: TestApp;
    let api: Payd;
    const children: ChildProcess[] = [];
    beforeAll(async () => {
      t = await startTestApp();
      api = await demoPayd(t);
      await sql`CREATE TABLE probe_vends (reference text, account_number text, product_code text, amount_minor bigint,
                                        currency text, pid int)`.execute(t.database.handle.db);
    });
    afterAll(async () => {
      for (const child of children) child.kill('SIGKILL');
      await t.close();
    });

    it('after restart the purchase completes with exactly one vend', async () => {
      const db = t.database.handle.db;
      const url = t.database.url ?? '';
      const res = await api.post('/transact/4.0', killOrder(t, api));
      expect(res.body).toMatchObject({ responseCode: '0000' });
      const raasTxnRef = res.body.raasTxnRef as string;
      const vends = () =>
        sql<{ reference: string; pid: number }>`SELECT reference, pid FROM probe_vends`.execute(db);

      const first = await startWorker(url, true);
      children.push(first);
      await until(vends, (r) => r.rows.length === 1);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      const state = await sql<{ state: string; vend_state: string }>`
      SELECT state, vend_state FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}`.execute(db);
      expect(state.rows[0]).toEqual({ state: 'vending', vend_state: 'sending' });

      const second = await startWorker(url, false);
      children.push(second);
      await until(
        () =>
          sql<{
            state: string;
          }>`SELECT state FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}`.execute(db),
        (r) => r.rows[0]?.state === 'succeeded',
      );
      const all = (await vends()).rows;
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ reference: `${raasTxnRef}-0000`, pid: first.pid });
      const lookup = await api.get('/lookup-api/2.0', { clientId: api.clientId, raasTxnRef });
      expect(lookup.body).toMatchObject({ transactionStatus: 'SUCCESS', token: '12345678901234567890' });
      second.kill('SIGTERM');
    });
  });

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCarrierSimulator } from '../src/connectors/carrier/simulator/carrier-simulator.js';
import { transaction } from '../src/core/db/db.js';
import { parseCurrency } from '../src/core/money/money.js';
import { reconcilePayments } from '../src/core/payments/reconcile.js';
import { createPayment, recordOutcome } from '../src/core/payments/service.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
const GBP = parseCurrency('GBP');
const silent = { error: () => undefined };
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const db = () => t.database.handle.db;

/** Persist intent, call the connector with our id as its reference, record the answer (STYLE.md §4). */
async function charge(carrier: ReturnType<typeof createCarrierSimulator>, msisdn: string) {
  const payment = await transaction(db(), (tx) =>
    createPayment(tx, {
      merchantId: t.demo.merchantId,
      environment: 'sandbox',
      product: 'carrier-billing',
      kind: 'sale',
      amount: { amountMinor: 499n, currency: GBP },
      payerRef: msisdn,
      connectorId: 'carrier-simulator',
    }),
  );
  const outcome = await carrier.charge(
    {
      reference: payment.id,
      msisdn,
      amount: { amountMinor: 499n, currency: GBP },
      description: 'Game credits',
    },
    { timeoutMs: 200 },
  );
  return recordOutcome(db(), {
    merchantId: t.demo.merchantId,
    paymentId: payment.id,
    answer: { status: outcome.status, rawCode: outcome.rawCode, rawMessage: outcome.rawMessage },
  });
}

describe('reconciliation of unknown and stale pending payments', () => {
  it('asks the connector for the truth and settles each payment once, never charging again', async () => {
    const carrier = createCarrierSimulator('ukWithRefunds');
    const registry = new Map([['carrier-simulator', carrier]]);
    const lostButCharged = await charge(carrier, '447700900004');
    const neverSent = await charge(carrier, '447700900005');
    const slow = await charge(carrier, '447700900003');
    const declinedLater = await charge(carrier, '447700900008');
    expect([lostButCharged.status, neverSent.status, slow.status, declinedLater.status]).toEqual([
      'unknown',
      'failed',
      'pending',
      'pending',
    ]);
    // Pending payments are asked about only once they are stale.
    await sql`UPDATE payments SET updated_at = now() - interval '2 minutes' WHERE status = 'pending'`.execute(
      db(),
    );
    const records = carrier.recordCount;
    const report = await reconcilePayments(db(), registry, silent);
    expect(report).toMatchObject({ asked: 3, settled: 3 });
    expect(carrier.recordCount).toBe(records);
    const statuses = await db()
      .selectFrom('payments')
      .select(['id', 'status'])
      .where('id', 'in', [lostButCharged.id, slow.id, declinedLater.id])
      .execute();
    const byId = new Map(statuses.map((r) => [r.id, r.status]));
    expect(byId.get(lostButCharged.id)).toBe('succeeded');
    expect(byId.get(slow.id)).toBe('succeeded');
    expect(byId.get(declinedLater.id)).toBe('failed');
    const posted = await db()
      .selectFrom('ledger_transactions')
      .select('payment_id')
      .where('payment_id', '=', lostButCharged.id)
      .execute();
    expect(posted).toHaveLength(1);
    const again = await reconcilePayments(db(), registry, silent);
    expect(again.asked).toBe(0);
  });

  it('a payment the vendor has no record of fails; an unknown connector is left for later', async () => {
    const carrier = createCarrierSimulator('ukWithRefunds');
    const p = await transaction(db(), (tx) =>
      createPayment(tx, {
        merchantId: t.demo.merchantId,
        environment: 'sandbox',
        product: 'carrier-billing',
        kind: 'sale',
        amount: { amountMinor: 100n, currency: GBP },
        payerRef: '447700900777',
        connectorId: 'carrier-simulator',
      }),
    );
    await recordOutcome(db(), {
      merchantId: t.demo.merchantId,
      paymentId: p.id,
      answer: { status: 'unknown', rawCode: 'TIMEOUT' },
    });
    const elsewhere = await transaction(db(), (tx) =>
      createPayment(tx, {
        merchantId: t.demo.merchantId,
        environment: 'sandbox',
        product: 'carrier-billing',
        kind: 'sale',
        amount: { amountMinor: 100n, currency: GBP },
        payerRef: '447700900778',
        connectorId: 'some-real-carrier',
      }),
    );
    await recordOutcome(db(), {
      merchantId: t.demo.merchantId,
      paymentId: elsewhere.id,
      answer: { status: 'unknown', rawCode: 'TIMEOUT' },
    });
    const report = await reconcilePayments(db(), new Map([['carrier-simulator', carrier]]), silent);
    expect(report).toMatchObject({ settled: 1, skipped: 1 });
    const row = await db()
      .selectFrom('payments')
      .select('status')
      .where('id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
  });
});

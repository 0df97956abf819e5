import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../src/core/clocks/test-clocks.js';
import { transaction } from '../src/core/db/db.js';
import { balances } from '../src/core/ledger/ledger.js';
import { verifyLedger } from '../src/core/ledger/verify.js';
import { parseCurrency } from '../src/core/money/money.js';
import {
  capturePayment,
  createPayment,
  createRefund,
  expirePayment,
  recordOutcome,
  voidPayment,
  type CreatePaymentInput,
} from '../src/core/payments/service.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
let merchantId: string;
const EUR = parseCurrency('EUR');
beforeAll(async () => {
  t = await startTestApp();
  merchantId = t.demo.merchantId;
});
afterAll(async () => {
  const report = await verifyLedger(t.database.handle.db);
  expect(report.findings).toEqual([]);
  await t.close();
});

const db = () => t.database.handle.db;
const base = (): CreatePaymentInput => ({
  merchantId,
  environment: 'sandbox',
  product: 'carrier-billing',
  kind: 'sale',
  amount: { amountMinor: 1000n, currency: EUR },
  payerRef: '447700900123',
  connectorId: 'simulator',
});

async function authorized(amountMinor = 1000n, testClockId: string | null = null) {
  const p = await transaction(db(), (tx) =>
    createPayment(tx, {
      ...base(),
      kind: 'authorization',
      amount: { amountMinor, currency: EUR },
      testClockId,
    }),
  );
  return recordOutcome(db(), { merchantId, paymentId: p.id, answer: { status: 'succeeded', rawCode: '00' } });
}

const scope = () => ({ merchantId, environment: 'sandbox' as const });

describe('payments and the ledger', () => {
  it('a sale that succeeds posts one balanced transaction; the same answer twice changes nothing', async () => {
    const before = await balances(db(), merchantId, 'sandbox');
    const p = await transaction(db(), (tx) => createPayment(tx, base()));
    expect(p.status).toBe('pending');
    const done = await recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'succeeded', rawCode: '00', connectorRef: 'c-1' },
    });
    expect(done).toMatchObject({
      status: 'succeeded',
      captured_minor: 1000n,
      connector_ref: 'c-1',
      raw_code: '00',
    });
    const again = await recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'succeeded', rawCode: '00' },
    });
    expect(again.status).toBe('succeeded');
    const late = recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'declined', rawCode: '51' },
    });
    await expect(late).rejects.toMatchObject({ code: 'invalid_state_transition' });
    const after = await balances(db(), merchantId, 'sandbox');
    const available = (v: typeof after) =>
      BigInt(v.find((b) => b.currency === 'EUR')?.available_minor ?? '0');
    expect(available(after) - available(before)).toBe(1000n);
    const entries = await db()
      .selectFrom('ledger_transactions')
      .select('id')
      .where('payment_id', '=', p.id)
      .execute();
    expect(entries).toHaveLength(1);
  });

  it('a declined sale fails with its raw code and posts nothing; the timeline records every step', async () => {
    const p = await transaction(db(), (tx) => createPayment(tx, base()));
    const failed = await recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'declined', rawCode: '51', rawMessage: 'NSF' },
    });
    expect(failed).toMatchObject({ status: 'failed', raw_code: '51', raw_message: 'NSF' });
    const posted = await db()
      .selectFrom('ledger_transactions')
      .select('id')
      .where('payment_id', '=', p.id)
      .execute();
    expect(posted).toHaveLength(0);
    const res = await t.request('GET', `/v1/payments/${p.id}`, { key: t.demo.native.apiKey });
    expect(res.status).toBe(200);
    expect(res.body.timeline.map((s: { to_status: string }) => s.to_status)).toEqual(['pending', 'failed']);
  });

  it('a lost answer makes a payment unknown; reconciliation settles it once', async () => {
    const p = await transaction(db(), (tx) => createPayment(tx, base()));
    const unknown = await recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'unknown', rawCode: 'timeout' },
    });
    expect(unknown.status).toBe('unknown');
    const settled = await recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'succeeded', rawCode: '00' },
    });
    expect(settled.status).toBe('succeeded');
  });

  it('capture at most once and never above the authorized amount; the rest of the hold is released', async () => {
    const p = await authorized(1000n);
    expect(p.status).toBe('authorized');
    const over = capturePayment(db(), { ...scope(), paymentId: p.id, amountMinor: 1001n });
    await expect(over).rejects.toMatchObject({ code: 'exceeds_held_amount' });
    const captured = await capturePayment(db(), { ...scope(), paymentId: p.id, amountMinor: 600n });
    expect(captured).toMatchObject({ status: 'captured', captured_minor: 600n });
    await expect(capturePayment(db(), { ...scope(), paymentId: p.id })).rejects.toMatchObject({
      code: 'hold_already_resolved',
    });
    await expect(voidPayment(db(), { ...scope(), paymentId: p.id })).rejects.toMatchObject({
      code: 'hold_already_resolved',
    });
    const hold = await db()
      .selectFrom('ledger_holds')
      .selectAll()
      .where('payment_id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(hold).toMatchObject({ status: 'posted', posted_minor: 600n, amount_minor: 1000n });
  });

  it('200 concurrent captures of one authorization: exactly one succeeds', async () => {
    const p = await authorized(5000n);
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        capturePayment(db(), { ...scope(), paymentId: p.id, amountMinor: 5000n }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('hold_already_resolved');
    }
    expect((await verifyLedger(db())).findings).toEqual([]);
  });

  it('capture vs void vs expiry over 200 authorizations: one terminal state each, ledger consistent', async () => {
    const clock = await createTestClock(db(), { merchantId, frozenTime: new Date('2031-01-01T00:00:00Z') });
    const payments = [];
    for (let i = 0; i < 200; i++) payments.push(await authorized(100n + BigInt(i), clock.id));
    // Every authorization is past its expiry on the clock, so the sweeper competes too.
    await db()
      .updateTable('test_clocks')
      .set({ frozen_time: new Date('2031-01-02T00:00:01Z') })
      .where('id', '=', clock.id)
      .execute();
    await db()
      .updateTable('payments')
      .set({ expires_at: new Date('2031-01-02T00:00:00Z') })
      .where('test_clock_id', '=', clock.id)
      .where(
        'id',
        'in',
        payments.filter((_, i) => i % 2 === 0).map((p) => p.id),
      )
      .execute();
    await db()
      .updateTable('payments')
      .set({ expires_at: new Date('2031-01-03T00:00:00Z') })
      .where('test_clock_id', '=', clock.id)
      .where(
        'id',
        'in',
        payments.filter((_, i) => i % 2 === 1).map((p) => p.id),
      )
      .execute();
    const attempts = payments.flatMap((p) => [
      capturePayment(db(), { ...scope(), paymentId: p.id }),
      voidPayment(db(), { ...scope(), paymentId: p.id }),
      expirePayment(db(), { merchantId, paymentId: p.id }),
    ]);
    await Promise.allSettled(attempts);
    const rows = await db()
      .selectFrom('payments')
      .select(['id', 'status'])
      .where(
        'id',
        'in',
        payments.map((p) => p.id),
      )
      .execute();
    expect(rows).toHaveLength(200);
    for (const row of rows) expect(['captured', 'voided', 'expired']).toContain(row.status);
    const holds = await db()
      .selectFrom('ledger_holds')
      .select(['payment_id', 'status'])
      .where(
        'payment_id',
        'in',
        payments.map((p) => p.id),
      )
      .execute();
    const byPayment = new Map(holds.map((h) => [h.payment_id, h.status]));
    const expected = { captured: 'posted', voided: 'voided', expired: 'expired' } as const;
    for (const row of rows) expect(byPayment.get(row.id)).toBe(expected[row.status as keyof typeof expected]);
    // Odd ones had not expired yet: the sweeper cannot have taken them.
    const odd = new Set(payments.filter((_, i) => i % 2 === 1).map((p) => p.id));
    expect(rows.filter((r) => odd.has(r.id) && r.status === 'expired')).toHaveLength(0);
    expect((await verifyLedger(db())).findings).toEqual([]);
  });

  it('refunds: partial then the rest, never more than captured, even concurrently; failures give the amount back', async () => {
    const p = await transaction(db(), (tx) => createPayment(tx, base()));
    await recordOutcome(db(), {
      merchantId,
      paymentId: p.id,
      answer: { status: 'succeeded', rawCode: '00' },
    });
    const r1 = await transaction(db(), (tx) =>
      createRefund(tx, { ...scope(), paymentId: p.id, amountMinor: 300n }),
    );
    await recordOutcome(db(), {
      merchantId,
      paymentId: r1.id,
      answer: { status: 'succeeded', rawCode: '00' },
    });
    const tooMuch = transaction(db(), (tx) =>
      createRefund(tx, { ...scope(), paymentId: p.id, amountMinor: 701n }),
    );
    await expect(tooMuch).rejects.toMatchObject({ code: 'refund_exceeds_captured' });
    const concurrent = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        transaction(db(), (tx) => createRefund(tx, { ...scope(), paymentId: p.id, amountMinor: 100n })),
      ),
    );
    const created = concurrent.filter((r) => r.status === 'fulfilled');
    expect(created).toHaveLength(7);
    const [firstRefund] = created;
    if (firstRefund?.status !== 'fulfilled') throw new Error('no refund');
    await recordOutcome(db(), {
      merchantId,
      paymentId: firstRefund.value.id,
      answer: { status: 'declined', rawCode: 'R1' },
    });
    const parent = await db()
      .selectFrom('payments')
      .selectAll()
      .where('id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(parent.refunded_minor).toBe(900n);
    for (const r of created.slice(1)) {
      if (r.status === 'fulfilled')
        await recordOutcome(db(), {
          merchantId,
          paymentId: r.value.id,
          answer: { status: 'succeeded', rawCode: '00' },
        });
    }
    const declined = await transaction(db(), (tx) =>
      createRefund(tx, { ...scope(), paymentId: r1.id, amountMinor: 1n }),
    ).catch((e: unknown) => e);
    expect(declined).toMatchObject({ code: 'not_found' });
    expect((await verifyLedger(db())).findings).toEqual([]);
  });

  it('the ledger is append-only', async () => {
    await expect(sql`UPDATE ledger_entries SET debit_minor = debit_minor + 1`.execute(db())).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM ledger_transactions`.execute(db())).rejects.toThrow(/append-only/);
  });

  it('an authorization on a test clock expires when the clock passes its expiry', async () => {
    const key = t.demo.native.apiKey;
    const clock = await t.request('POST', '/v1/sandbox/test-clocks', {
      key,
      body: { frozen_time: '2032-05-01T10:00:00.000Z' },
    });
    const p = await authorized(700n, clock.body.id);
    expect(p.expires_at?.toISOString()).toBe('2032-05-02T10:00:00.000Z');
    await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
      key,
      body: { frozen_time: '2032-05-02T09:59:59.000Z' },
    });
    expect(
      (await db().selectFrom('payments').select('status').where('id', '=', p.id).executeTakeFirstOrThrow())
        .status,
    ).toBe('authorized');
    const advanced = await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
      key,
      body: { frozen_time: '2032-05-02T10:00:00.000Z' },
    });
    expect(advanced.body.jobs_run).toBe(1);
    expect(
      (await db().selectFrom('payments').select('status').where('id', '=', p.id).executeTakeFirstOrThrow())
        .status,
    ).toBe('expired');
    await expect(capturePayment(db(), { ...scope(), paymentId: p.id })).rejects.toMatchObject({
      code: 'hold_already_resolved',
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** 200 reservations and 600 concurrent calls: minutes on a busy 2-core machine, not a speed test. */
const raceTimeoutMs = 300_000;
import { moveTestClock } from '../../src/core/clocks/test-clocks.js';
import { expireReservation, reservationTtlSeconds } from '../../src/products/agreements/service.js';
import { agr } from '../../src/products/agreements/schema.js';
import { startTestApp, type TestApp } from '../harness.js';
import { agreementBody, MobilePayClient, type AgrDemo } from './helpers.js';

let t: TestApp;
let mp: MobilePayClient;
let merchantId: string;
const start = new Date('2030-05-01T08:00:00Z');

beforeAll(async () => {
  t = await startTestApp();
  mp = new MobilePayClient(t, t.demo.agreements as AgrDemo);
  await mp.login();
  merchantId = t.demo.merchantId;
});
afterAll(async () => t.close());

async function reservations(count: number, clock: string): Promise<{ agreementId: string; ids: string[] }> {
  const a = await mp.call('POST', '{p}/agreements', {
    body: agreementBody('https://merchant.example'),
    headers: { 'payloom-test-clock': clock },
  });
  await t.request('POST', `/v1/sandbox/agreements/${a.body.id}/accept`, { key: t.demo.native.apiKey });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const o = await mp.call('POST', `{p}/agreements/${a.body.id}/oneoffpayments`, {
      body: { amount: '1.01', external_id: `R${i}`, description: 'race' },
    });
    const accepted = await t.request('POST', `/v1/sandbox/agreements/one-off-payments/${o.body.id}/accept`, {
      key: t.demo.native.apiKey,
    });
    expect(accepted.status).toBe(200);
    ids.push(o.body.id as string);
  }
  return { agreementId: a.body.id as string, ids };
}

async function newClock(): Promise<string> {
  const res = await t.request('POST', '/v1/sandbox/test-clocks', {
    key: t.demo.native.apiKey,
    body: { frozen_time: start.toISOString() },
  });
  return res.body.id as string;
}

describe('agreements: races decided once', () => {
  it(
    'capture vs cancel vs expiry on 200 reservations: one outcome each, matching the ledger',
    async () => {
      const clock = await newClock();
      const { agreementId, ids } = await reservations(200, clock);
      // The clock reaches the reservations' expiry while captures and cancels are in flight.
      const moved = moveTestClock(
        t.database.handle.db,
        merchantId,
        clock,
        new Date(start.getTime() + reservationTtlSeconds * 1000),
      );
      const results = await Promise.all(
        ids.map(async (id) => {
          const [capture, cancel] = await Promise.all([
            mp.call('POST', `{p}/agreements/${agreementId}/oneoffpayments/${id}/capture`),
            mp.call('DELETE', `{p}/agreements/${agreementId}/oneoffpayments/${id}`),
            moved.then(() => expireReservation(t.database.handle.db, id)),
          ]);
          return { id, capture: capture.status, cancel: cancel.status };
        }),
      );
      const rows = await agr(t.database.handle.db)
        .selectFrom('agr_one_offs as o')
        .innerJoin('payments as p', 'p.id', 'o.payment_id')
        .select(['o.id', 'p.status', 'p.captured_minor'])
        .where('o.id', 'in', ids)
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      const outcomes = { captured: 0, voided: 0, expired: 0 };
      for (const r of results) {
        const payment = byId.get(r.id);
        expect(payment).toBeDefined();
        const status = payment?.status as 'captured' | 'voided' | 'expired';
        expect(['captured', 'voided', 'expired']).toContain(status);
        outcomes[status]++;
        // Exactly the winner's request succeeded; the others were refused.
        expect(r.capture === 204).toBe(status === 'captured');
        expect(r.cancel === 204).toBe(status === 'voided');
        expect(payment?.captured_minor).toBe(status === 'captured' ? 101n : 0n);
        const view = await mp.call('GET', `{p}/agreements/${agreementId}/oneoffpayments/${r.id}`);
        expect(view.body.status).toBe(
          { captured: 'Captured', voided: 'Canceled', expired: 'Expired' }[status],
        );
      }
      expect(outcomes.captured + outcomes.voided + outcomes.expired).toBe(200);
      const holds = await t.database.handle.db
        .selectFrom('ledger_holds')
        .select(['status'])
        .where('merchant_id', '=', merchantId)
        .execute();
      expect(holds.filter((h) => h.status === 'pending')).toEqual([]);
    },
    raceTimeoutMs,
  );

  it(
    '200 concurrent captures of one reservation: exactly one 204',
    async () => {
      const clock = await newClock();
      const { agreementId, ids } = await reservations(1, clock);
      const id = ids[0] ?? '';
      const statuses = await Promise.all(
        Array.from({ length: 200 }, () =>
          mp.call('POST', `{p}/agreements/${agreementId}/oneoffpayments/${id}/capture`).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(199);
      const view = await mp.call('GET', `{p}/agreements/${agreementId}/oneoffpayments/${id}`);
      expect(view.body.status).toBe('Captured');
    },
    raceTimeoutMs,
  );
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentSmsGatewayLog } from '../src/connectors/contracts/sms-gateway.js';
import { SandboxSmsGateway } from '../src/connectors/sms/sandbox/sandbox-gateway.js';
import { parseSmppGatewayConfig } from '../src/connectors/sms/smpp/config.js';
import { SmppSmsGateway } from '../src/connectors/sms/smpp/smpp-gateway.js';
import { TestSmsc } from '../src/connectors/sms/smpp/test-smsc.js';
import { transaction } from '../src/core/db/db.js';
import { claimDueJobs, completeJob, failJob } from '../src/core/jobs/jobs.js';
import { recordReceipt, SmsDispatcher } from '../src/core/sms/dispatcher.js';
import type { SmsGateway } from '../src/connectors/contracts/sms-gateway.js';
import { queueSms, type QueueSms, type SmsLimits } from '../src/core/sms/outbox.js';
import { Secret } from '../src/core/secrets/secrets.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
const limits: SmsLimits = { perMsisdnPerDay: 3, perPrefixPerDay: 1000, perMerchantPerDay: 1000 };
const pinTemplates = { en: 'Your {merchant} PIN is {code}', da: 'Din {merchant} PIN-kode er {code}' };
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

const db = () => t.database.handle.db;

function message(to: string, extra: Partial<QueueSms> = {}): QueueSms {
  return {
    merchantId: t.demo.merchantId,
    environment: 'sandbox',
    to,
    sender: 'Payloom',
    purpose: 'pin',
    language: 'en',
    templates: pinTemplates,
    vars: { merchant: 'Demo', code: '123456' },
    sandboxData: { code: '123456' },
    ...extra,
  };
}

/** Runs the queued `sms.send` jobs once, as a worker would, with the given dispatcher. */
async function sendQueued(dispatcher: SmsDispatcher): Promise<void> {
  const jobs = await claimDueJobs(db(), { workerId: 'test', queues: ['sms.send'], limit: 100 });
  for (const job of jobs) {
    const { merchantId, smsId } = job.payload as { merchantId: string; smsId: string };
    try {
      await dispatcher.send({ merchantId, smsId, attempt: job.attempts });
      await completeJob(db(), job, 'test');
    } catch (error) {
      await failJob(db(), job, 'test', String(error));
    }
  }
}

async function status(id: string): Promise<string> {
  return (
    await db().selectFrom('sms_messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()
  ).status;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached');
}

describe('SMS outbox', () => {
  it('queues in the transaction, sends through the sandbox gateway, settles from the receipt, shows in the inbox', async () => {
    const row = await transaction(db(), (tx) => queueSms(tx, message('447700900201'), limits));
    expect(row).toMatchObject({
      status: 'queued',
      body: 'Your Demo PIN is 123456',
      segments: 1,
      purpose: 'pin',
    });
    await sendQueued(t.sms);
    await until(async () => (await status(row.id)) === 'delivered');
    const inbox = await t.request('GET', '/v1/sandbox/sms?to=447700900201', { key: t.demo.native.apiKey });
    expect(inbox.status).toBe(200);
    expect(inbox.body.data[0]).toMatchObject({
      id: row.id,
      to: '447700900201',
      purpose: 'pin',
      code: '123456',
      text: 'Your Demo PIN is 123456',
      status: 'delivered',
    });
  });

  it('renders the template in the asked language, falling back to English', async () => {
    const danish = await transaction(db(), (tx) =>
      queueSms(tx, message('447700900202', { language: 'da-DK' }), limits),
    );
    expect(danish).toMatchObject({ language: 'da', body: 'Din Demo PIN-kode er 123456' });
    const other = await transaction(db(), (tx) =>
      queueSms(tx, message('447700900202', { language: 'fr' }), limits),
    );
    expect(other.language).toBe('en');
  });

  it('the inbox is newest first and is sandbox-only', async () => {
    const a = await transaction(db(), (tx) => queueSms(tx, message('447700900203'), limits));
    const b = await transaction(db(), (tx) => queueSms(tx, message('447700900203'), limits));
    const inbox = await t.request('GET', '/v1/sandbox/sms?to=447700900203', { key: t.demo.native.apiKey });
    expect(inbox.body.data.map((m: { id: string }) => m.id)).toEqual([b.id, a.id]);
    const m = await t.createMerchant();
    expect((await t.request('GET', '/v1/sandbox/sms', { key: m.productionKey })).status).toBe(404);
  });

  it('limits per MSISDN, per prefix and per merchant per day: over the limit is 429 and nothing is queued', async () => {
    for (let i = 0; i < 3; i++)
      await transaction(db(), (tx) => queueSms(tx, message('447700900204'), limits));
    const over = transaction(db(), (tx) => queueSms(tx, message('447700900204'), limits));
    await expect(over).rejects.toMatchObject({ code: 'rate_limited', status: 429 });
    const count = await db()
      .selectFrom('sms_messages')
      .select('id')
      .where('to_msisdn', '=', '447700900204')
      .execute();
    expect(count).toHaveLength(3);
    await transaction(db(), (tx) => queueSms(tx, message('331234567801'), { ...limits, perPrefixPerDay: 1 }));
    await expect(
      transaction(db(), (tx) => queueSms(tx, message('331234567802'), { ...limits, perPrefixPerDay: 1 })),
    ).rejects.toMatchObject({ code: 'rate_limited' });
    const m = await t.createMerchant();
    const mine = (to: string) => message(to, { merchantId: m.id });
    await transaction(db(), (tx) => queueSms(tx, mine('4915100000001'), { ...limits, perMerchantPerDay: 1 }));
    await expect(
      transaction(db(), (tx) => queueSms(tx, mine('4915100000002'), { ...limits, perMerchantPerDay: 1 })),
    ).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('concurrent sends to one number never exceed its daily limit', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        transaction(db(), (tx) => queueSms(tx, message('447700900205'), limits)),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });

  it('gateway outcomes: declined fails, not sent is retried later, unknown is never resent, a failed receipt fails', async () => {
    const declined = await transaction(db(), (tx) => queueSms(tx, message('447700900091'), limits));
    const notSent = await transaction(db(), (tx) => queueSms(tx, message('447700900092'), limits));
    const failedReceipt = await transaction(db(), (tx) => queueSms(tx, message('447700900093'), limits));
    const unknown = await transaction(db(), (tx) => queueSms(tx, message('447700900094'), limits));
    await sendQueued(t.sms);
    expect(await status(declined.id)).toBe('failed');
    expect(await status(notSent.id)).toBe('queued');
    const retry = await db().selectFrom('jobs').selectAll().where('queue', '=', 'sms.send').execute();
    expect(retry.map((j) => (j.payload as { smsId: string }).smsId)).toContain(notSent.id);
    expect(await status(unknown.id)).toBe('unknown');
    await until(async () => (await status(failedReceipt.id)) === 'failed');
    await db().deleteFrom('jobs').execute();
  });
});

describe('receipts that arrive before the send is recorded', () => {
  /** A gateway whose SMSC answers with known references (as two-segment SMPP sends do). */
  function gatewayAnswering(refs: string[]): SmsGateway {
    return {
      id: 'early-receipts',
      send: async () => ({
        status: 'succeeded',
        gatewayReference: refs[0] ?? '',
        segmentGatewayReferences: refs,
        rawCode: '0x00000000',
        segmentCount: refs.length,
      }),
      onDeliveryReceipt: () => () => undefined,
      close: async () => undefined,
    };
  }

  it('every segment delivered before the send was stored: delivered with the send', async () => {
    const m = await t.createMerchant();
    const gateway = gatewayAnswering(['early-1', 'early-2']);
    const dispatcher = new SmsDispatcher(
      db(),
      { sandbox: gateway, production: gateway },
      silentSmsGatewayLog,
    );
    for (const ref of ['early-1', 'early-2']) {
      await recordReceipt(db(), {
        gatewayId: gateway.id,
        gatewayReference: ref,
        status: 'delivered',
        final: true,
        rawStatus: 'DELIVRD',
        at: new Date(),
      });
    }
    const row = await transaction(db(), (tx) =>
      queueSms(tx, message('447700900401', { merchantId: m.id, environment: 'production' }), limits),
    );
    await dispatcher.send({ merchantId: m.id, smsId: row.id, attempt: 1 });
    const sent = await db()
      .selectFrom('sms_messages')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(sent).toMatchObject({ status: 'delivered', delivered_segments: 2, gateway_id: 'early-receipts' });
    expect(sent.delivered_at).not.toBeNull();
    expect(sent.sent_at).not.toBeNull();
  });

  it('one segment delivered, one failed before the send was stored: failed', async () => {
    const m = await t.createMerchant();
    const gateway = gatewayAnswering(['early-3', 'early-4']);
    const dispatcher = new SmsDispatcher(
      db(),
      { sandbox: gateway, production: gateway },
      silentSmsGatewayLog,
    );
    for (const [ref, status] of [
      ['early-3', 'delivered'],
      ['early-4', 'failed'],
    ] as const) {
      await recordReceipt(db(), {
        gatewayId: gateway.id,
        gatewayReference: ref,
        status,
        final: true,
        rawStatus: status === 'failed' ? 'UNDELIV' : 'DELIVRD',
        at: new Date(),
      });
    }
    const row = await transaction(db(), (tx) =>
      queueSms(tx, message('447700900402', { merchantId: m.id, environment: 'production' }), limits),
    );
    await dispatcher.send({ merchantId: m.id, smsId: row.id, attempt: 1 });
    expect(await status(row.id)).toBe('failed');
  });

  it('no receipt yet: sent, and the later receipt delivers it', async () => {
    const m = await t.createMerchant();
    const gateway = gatewayAnswering(['late-1']);
    const dispatcher = new SmsDispatcher(
      db(),
      { sandbox: gateway, production: gateway },
      silentSmsGatewayLog,
    );
    const row = await transaction(db(), (tx) =>
      queueSms(tx, message('447700900403', { merchantId: m.id, environment: 'production' }), limits),
    );
    await dispatcher.send({ merchantId: m.id, smsId: row.id, attempt: 1 });
    expect(await status(row.id)).toBe('sent');
    await recordReceipt(db(), {
      gatewayId: gateway.id,
      gatewayReference: 'late-1',
      status: 'delivered',
      final: true,
      rawStatus: 'DELIVRD',
      at: new Date(),
    });
    expect(await status(row.id)).toBe('delivered');
  });
});

describe('SMS over SMPP 3.4 against a real SMSC', () => {
  it('sends through the SMPP gateway and the delivery receipt marks it delivered', async () => {
    const smsc = await TestSmsc.start({ systemId: 'payloom', password: 'secret12' });
    const smpp = new SmppSmsGateway(
      parseSmppGatewayConfig(
        { host: '127.0.0.1', port: smsc.port, systemId: 'payloom' },
        new Secret('secret12'),
      ),
      { log: silentSmsGatewayLog },
    );
    const dispatcher = new SmsDispatcher(
      db(),
      { sandbox: new SandboxSmsGateway(), production: smpp },
      silentSmsGatewayLog,
    );
    try {
      const m = await t.createMerchant();
      const long = 'Payment of GBP 4.99 to Demo Shop confirmed. '.repeat(6).trim();
      const row = await transaction(db(), (tx) =>
        queueSms(
          tx,
          message('447700900301', {
            merchantId: m.id,
            environment: 'production',
            purpose: 'payment_confirmation',
            templates: { en: long },
            vars: {},
          }),
          limits,
        ),
      );
      expect(row.segments).toBeGreaterThan(1);
      expect(row.sandbox_data).toEqual({});
      await sendQueued(dispatcher);
      await until(async () => (await status(row.id)) === 'delivered');
      const sent = await db()
        .selectFrom('sms_messages')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      expect(sent.gateway_id).toBe('smpp');
      expect(sent.gateway_refs).toHaveLength(row.segments);
      expect(sent.delivered_segments).toBe(row.segments);
    } finally {
      await dispatcher.close();
      await smsc.close();
    }
  });
});

import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../core/secrets/secrets.js';
import { describeSmsGatewayConformance } from '../../contracts/sms-gateway.conformance.js';
import {
  smsLocalRawCodes,
  type SmsDeliveryReceipt,
  type SmsGatewayDeps,
  type SmsSendOutcome,
} from '../../contracts/sms-gateway.js';
import { parseSmppGatewayConfig, type SmppGatewaySettings } from './config.js';
import { SmppSmsGateway } from './smpp-gateway.js';
import { TestSmsc, testSmscMagic } from './test-smsc.js';

/**
 * The SMPP gateway against a real SMSC (node-smpp's server) on 127.0.0.1, an ephemeral port. Waits are
 * for events, each bounded; the only timing assertions are "returned before a generous bound".
 */

const credentials = { systemId: 'payloom', password: 'pw-12345' };
const msisdn = (suffix: string): string => `4520${suffix.padStart(6, '5')}`;
const DELIVERED = msisdn('1234');

let smsc: TestSmsc;
beforeAll(async () => {
  smsc = await TestSmsc.start(credentials);
});
afterAll(async () => {
  await smsc.close();
});

/** Fast reconnects and short timeouts so failures show within a test; production defaults are longer. */
const testSettings = {
  reconnectDelayMinMs: 10,
  reconnectDelayMaxMs: 50,
  connectTimeoutMs: 2_000,
  bindTimeoutMs: 2_000,
  submitTimeoutMs: 3_000,
  unbindTimeoutMs: 500,
} as const;

function makeGateway(
  settings: Partial<SmppGatewaySettings> = {},
  password = credentials.password,
  deps: SmsGatewayDeps = {},
): SmppSmsGateway {
  const config = parseSmppGatewayConfig(
    { host: '127.0.0.1', port: smsc.port, systemId: credentials.systemId, ...testSettings, ...settings },
    new Secret(password),
  );
  return new SmppSmsGateway(config, deps);
}

describeSmsGatewayConformance('smpp', () => makeGateway(), {
  from: 'Payloom',
  delivered: DELIVERED,
  declined: msisdn(testSmscMagic.invalidDestination),
  notSent: msisdn(testSmscMagic.throttled),
  failedReceipt: msisdn(testSmscMagic.undeliverable),
  unknown: msisdn(testSmscMagic.silent),
});

interface LogLine {
  readonly level: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

function capturingLog(): { readonly lines: LogLine[]; readonly log: NonNullable<SmsGatewayDeps['log']> } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: Readonly<Record<string, unknown>>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

function receiptsOf(gateway: SmppSmsGateway): SmsDeliveryReceipt[] {
  const receipts: SmsDeliveryReceipt[] = [];
  gateway.onDeliveryReceipt((receipt) => {
    receipts.push(receipt);
  });
  return receipts;
}

/** Waits (bounded, driven by SMSC events) until the gateway has reported receipts for every reference. */
async function receiptsFor(
  receipts: SmsDeliveryReceipt[],
  outcome: SmsSendOutcome,
): Promise<SmsDeliveryReceipt[]> {
  const references = outcome.segmentGatewayReferences ?? [];
  expect(references.length).toBeGreaterThan(0);
  const ids = new Set(references);
  await smsc.waitFor(
    () => references.every((id) => smsc.deliverSmResponses.some((r) => r.messageId === id)),
    `deliver_sm_resp for ${references.join(',')}`,
  );
  return receipts.filter((receipt) => ids.has(receipt.gatewayReference));
}

describe('SMPP gateway against a test SMSC', () => {
  const opened: SmppSmsGateway[] = [];
  const open = (...args: Parameters<typeof makeGateway>): SmppSmsGateway => {
    const gateway = makeGateway(...args);
    opened.push(gateway);
    return gateway;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((gateway) => gateway.close()));
    smsc.answerEnquireLink = true;
    smsc.receiptFormat = 'text';
  });
  const send = (gateway: SmppSmsGateway, to: string, text = 'Your Payloom code is 123456') =>
    gateway.send({ reference: 'msg_1', to, from: 'Payloom', text });

  it('binds as an SMPP 3.4 transceiver, submits with registered delivery and reports the receipt', async () => {
    const gateway = open();
    const receipts = receiptsOf(gateway);
    const bindsBefore = smsc.binds.length;
    const outcome = await send(gateway, DELIVERED);
    expect(outcome).toMatchObject({
      status: 'pending',
      rawCode: '0x00000000',
      segmentCount: 1,
      encoding: 'gsm7',
    });
    expect(smsc.binds.slice(bindsBefore)).toEqual([
      { command: 'bind_transceiver', systemId: 'payloom', interfaceVersion: 0x34, accepted: true },
    ]);
    const submit = smsc.submits.find((s) => s.messageId === outcome.gatewayReference);
    expect(submit).toMatchObject({
      sourceAddr: 'Payloom',
      sourceTon: 5,
      destinationAddr: DELIVERED,
      destTon: 1,
      destNpi: 1,
      registeredDelivery: 1,
      dataCoding: 0,
      esmClass: 0,
      text: 'Your Payloom code is 123456',
    });
    const [receipt] = await receiptsFor(receipts, outcome);
    expect(receipt).toMatchObject({
      gatewayId: 'smpp',
      gatewayReference: outcome.gatewayReference,
      status: 'delivered',
      rawStatus: 'DELIVRD',
      rawDoneAt: '2603011201',
    });
    expect(smsc.deliverSmResponses.find((r) => r.messageId === outcome.gatewayReference)?.commandStatus).toBe(
      0,
    );
  });

  it('answers succeeded, not pending, when receipts are off, and asks for none', async () => {
    const gateway = open({ deliveryReceipts: false });
    const outcome = await send(gateway, DELIVERED);
    expect(outcome.status).toBe('succeeded');
    expect(smsc.submits.find((s) => s.messageId === outcome.gatewayReference)?.registeredDelivery).toBe(0);
  });

  it('splits a long GSM-7 message into concatenated segments and matches each segment receipt', async () => {
    const gateway = open();
    const receipts = receiptsOf(gateway);
    const text = `Payment of 100.00 DKK confirmed {ref: [A-1]} €. ${'Thank you for using Payloom. '.repeat(12)}`;
    const outcome = await send(gateway, DELIVERED, text);
    expect(outcome).toMatchObject({ status: 'pending', segmentCount: 3, encoding: 'gsm7' });
    expect(outcome.segmentGatewayReferences).toHaveLength(3);
    const submits = (outcome.segmentGatewayReferences ?? []).map((id) =>
      smsc.submits.find((s) => s.messageId === id),
    );
    const headers = submits.map((s) => [...(s?.udh[0] ?? [])]);
    const reference = headers[0]?.[2];
    expect(headers).toEqual([
      [0x00, 0x03, reference, 3, 1],
      [0x00, 0x03, reference, 3, 2],
      [0x00, 0x03, reference, 3, 3],
    ]);
    expect(submits.map((s) => s?.esmClass)).toEqual([0x40, 0x40, 0x40]);
    expect(submits.map((s) => s?.dataCoding)).toEqual([0, 0, 0]);
    expect(submits.map((s) => s?.text).join('')).toBe(text);
    const segmentReceipts = await receiptsFor(receipts, outcome);
    expect(segmentReceipts.map((r) => r.gatewayReference).sort()).toEqual(
      [...(outcome.segmentGatewayReferences ?? [])].sort(),
    );
    expect(segmentReceipts.every((r) => r.status === 'delivered')).toBe(true);
  });

  it('sends non-GSM text as UCS-2 (data_coding 8), long ones in 67-character segments', async () => {
    const gateway = open();
    const short = await send(gateway, DELIVERED, 'Ваш код: 1234 ✓');
    expect(short).toMatchObject({ status: 'pending', segmentCount: 1, encoding: 'ucs2' });
    expect(smsc.submits.find((s) => s.messageId === short.gatewayReference)).toMatchObject({
      dataCoding: 8,
      text: 'Ваш код: 1234 ✓',
    });
    const text = 'Платёж на 100 ₽ подтверждён. '.repeat(4);
    const long = await send(gateway, DELIVERED, text);
    expect(long).toMatchObject({ status: 'pending', segmentCount: 2, encoding: 'ucs2' });
    const parts = (long.segmentGatewayReferences ?? []).map((id) =>
      smsc.submits.find((s) => s.messageId === id),
    );
    expect(parts.map((s) => s?.dataCoding)).toEqual([8, 8]);
    expect(parts.map((s) => s?.text).join('')).toBe(text);
  });

  it('sends a long message whole in message_payload when configured: one id, one receipt', async () => {
    const gateway = open({ longMessages: 'message_payload' });
    const receipts = receiptsOf(gateway);
    const text = 'a'.repeat(400);
    const outcome = await send(gateway, DELIVERED, text);
    expect(outcome).toMatchObject({ status: 'pending', segmentCount: 3 });
    expect(outcome.segmentGatewayReferences).toEqual([outcome.gatewayReference]);
    const submit = smsc.submits.find((s) => s.messageId === outcome.gatewayReference);
    expect(submit).toMatchObject({ viaMessagePayload: true, udh: [], esmClass: 0 });
    expect(submit?.text).toBe(text);
    expect(await receiptsFor(receipts, outcome)).toHaveLength(1);
  });

  it('maps throttling to not_sent and an invalid destination to declined, keeping the raw code', async () => {
    const gateway = open();
    const throttled = await send(gateway, msisdn(testSmscMagic.throttled));
    expect(throttled).toMatchObject({ status: 'not_sent', rawCode: '0x00000058' });
    expect(throttled.rawMessage).toMatch(/ESME_RTHROTTLED/);
    const invalid = await send(gateway, msisdn(testSmscMagic.invalidDestination));
    expect(invalid).toMatchObject({ status: 'declined', rawCode: '0x0000000B' });
    expect(invalid.rawMessage).toMatch(/ESME_RINVDSTADR/);
  });

  it('returns unknown when the SMSC does not answer within the timeout', async () => {
    const gateway = open();
    await send(gateway, DELIVERED); // bound first, so the timeout measures only the submit
    const startedAt = performance.now();
    const outcome = await gateway.send({
      reference: 'msg_2',
      to: msisdn(testSmscMagic.silent),
      from: 'Payloom',
      text: 'hello',
      timeoutMs: 150,
    });
    expect(outcome).toMatchObject({ status: 'unknown', rawCode: smsLocalRawCodes.timeout });
    expect(outcome.rawMessage).toMatch(/no submit_sm_resp/);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  it('fails the bind clearly on a wrong password: not_sent with the SMSC code, password never logged', async () => {
    const { lines, log } = capturingLog();
    const gateway = open({}, 'wrong-pw', { log });
    const outcome = await send(gateway, DELIVERED);
    expect(outcome).toMatchObject({ status: 'not_sent', rawCode: '0x0000000E' });
    expect(outcome.rawMessage).toBe(
      'the SMSC refused bind_transceiver for system_id "payloom": ESME_RINVPASWD (invalid password)',
    );
    // While it backs off, further sends fail fast with the same reason instead of waiting.
    expect((await send(gateway, DELIVERED)).rawCode).toBe('0x0000000E');
    const logged = JSON.stringify(lines);
    expect(lines.some((line) => line.level === 'warn')).toBe(true);
    expect(logged).not.toContain('wrong-pw');
    expect(inspect(gateway, { depth: 10, showHidden: true })).not.toContain('wrong-pw');
    expect(smsc.binds.at(-1)).toMatchObject({ systemId: 'payloom', accepted: false });
  });

  it('says not_sent when nothing listens on the port', async () => {
    const port = await freePort();
    const gateway = new SmppSmsGateway(
      parseSmppGatewayConfig(
        { host: '127.0.0.1', port, systemId: 'payloom', ...testSettings },
        new Secret('x'),
      ),
    );
    opened.push(gateway);
    const outcome = await send(gateway, DELIVERED);
    expect(outcome).toMatchObject({ status: 'not_sent', rawCode: smsLocalRawCodes.notConnected });
    expect(outcome.rawMessage).toMatch(/could not connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('reconnects and re-binds after the SMSC drops the connection; a submit in flight becomes unknown', async () => {
    const gateway = open();
    const receipts = receiptsOf(gateway);
    expect((await send(gateway, DELIVERED)).status).toBe('pending');
    const bindsBefore = smsc.binds.filter((b) => b.accepted).length;
    const inFlight = gateway.send({
      reference: 'msg_3',
      to: msisdn(testSmscMagic.silent),
      from: 'Payloom',
      text: 'in flight',
      timeoutMs: 10_000,
    });
    await smsc.waitFor(() => smsc.submits.some((s) => s.text === 'in flight'), 'the in-flight submit');
    smsc.dropConnections();
    expect(await inFlight).toMatchObject({ status: 'unknown', rawCode: smsLocalRawCodes.connectionLost });
    await smsc.waitFor(() => smsc.binds.filter((b) => b.accepted).length > bindsBefore, 'a new bind');
    const after = await gateway.send({ reference: 'msg_4', to: DELIVERED, from: 'Payloom', text: 'after' });
    expect(after.status).toBe('pending');
    expect(await receiptsFor(receipts, after)).toHaveLength(1);
  });

  it('answers an unbind from the SMSC and binds again', async () => {
    const gateway = open();
    await send(gateway, DELIVERED);
    const bindsBefore = smsc.binds.filter((b) => b.accepted).length;
    smsc.unbindAll();
    await smsc.waitFor(
      () => smsc.binds.filter((b) => b.accepted).length > bindsBefore,
      'a bind after unbind',
    );
    expect((await send(gateway, DELIVERED)).status).toBe('pending');
  });

  it('keeps the link alive with enquire_link and drops a link whose SMSC stops answering', async () => {
    const gateway = open({ enquireLinkIntervalMs: 20, enquireLinkTimeoutMs: 100 });
    await send(gateway, DELIVERED);
    const seen = smsc.enquireLinksReceived.length;
    await smsc.waitFor(() => smsc.enquireLinksReceived.length >= seen + 2, 'two enquire_link');
    const bindsBefore = smsc.binds.filter((b) => b.accepted).length;
    smsc.answerEnquireLink = false;
    await smsc.waitFor(
      () => smsc.binds.filter((b) => b.accepted).length > bindsBefore,
      'a bind after a dead link',
    );
  });

  it('answers the SMSC enquire_link', async () => {
    const gateway = open();
    await send(gateway, DELIVERED);
    const statuses = await smsc.enquireLinkAll();
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 0)).toBe(true);
  });

  it('reads receipts carried only in TLVs (receipted_message_id, message_state)', async () => {
    smsc.receiptFormat = 'tlv';
    const gateway = open();
    const receipts = receiptsOf(gateway);
    const outcome = await send(gateway, msisdn(testSmscMagic.expired));
    const [receipt] = await receiptsFor(receipts, outcome);
    expect(receipt).toMatchObject({
      gatewayReference: outcome.gatewayReference,
      status: 'expired',
      rawStatus: 'EXPIRED',
    });
  });

  it('acknowledges a receipt only after the listener settles, and asks for redelivery when it fails', async () => {
    const gateway = open();
    const order: string[] = [];
    let fail = false;
    gateway.onDeliveryReceipt(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      order.push('handled');
      if (fail) throw new Error('database down');
    });
    const ok = await send(gateway, DELIVERED);
    await smsc.waitFor(
      () => smsc.deliverSmResponses.find((r) => r.messageId === ok.gatewayReference),
      'resp',
    );
    order.push('acknowledged');
    expect(order).toEqual(['handled', 'acknowledged']);
    expect(smsc.deliverSmResponses.find((r) => r.messageId === ok.gatewayReference)?.commandStatus).toBe(0);
    fail = true;
    const failed = await send(gateway, DELIVERED);
    const resp = await smsc.waitFor(
      () => smsc.deliverSmResponses.find((r) => r.messageId === failed.gatewayReference),
      'resp after a failing listener',
    );
    expect(resp.commandStatus).toBe(0x64); // ESME_RX_T_APPN: temporary, the SMSC redelivers
  });

  it('asks the SMSC to redeliver a receipt when no listener is registered', async () => {
    const gateway = open();
    const outcome = await send(gateway, DELIVERED);
    const resp = await smsc.waitFor(
      () => smsc.deliverSmResponses.find((r) => r.messageId === outcome.gatewayReference),
      'resp without listener',
    );
    expect(resp.commandStatus).toBe(0x64);
  });

  it('bounds the window: a send that finds every slot busy until its deadline is not_sent', async () => {
    const gateway = open({ inFlightMax: 1 });
    await send(gateway, DELIVERED);
    const blocking = gateway.send({
      reference: 'm1',
      to: msisdn(testSmscMagic.silent),
      from: 'Payloom',
      text: 'x',
      timeoutMs: 400,
    });
    const waiting = await gateway.send({
      reference: 'm2',
      to: DELIVERED,
      from: 'Payloom',
      text: 'y',
      timeoutMs: 100,
    });
    expect(waiting).toMatchObject({ status: 'not_sent', rawCode: smsLocalRawCodes.timeout });
    expect(waiting.rawMessage).toMatch(/window slots/);
    expect((await blocking).status).toBe('unknown');
  });

  it('unbinds on close, once, however often close is called', async () => {
    const gateway = open();
    await send(gateway, DELIVERED);
    const unbindsBefore = smsc.unbindsReceived.length;
    await Promise.all([gateway.close(), gateway.close()]);
    await gateway.close();
    expect(smsc.unbindsReceived.length).toBe(unbindsBefore + 1);
    expect(gateway.connectionState).toBe('closed');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

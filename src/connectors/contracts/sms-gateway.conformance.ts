import { afterEach, describe, expect, it } from 'vitest';
import {
  countSmsSegments,
  smsLocalRawCodes,
  smsSendStatuses,
  type SmsDeliveryReceipt,
  type SmsGateway,
  type SmsSendOutcome,
} from './sms-gateway.js';

/**
 * The guarantees every SMS gateway gives the outbox (STYLE.md §5, §11). Each gateway's test file runs
 * it against its own implementation: the sandbox directly, SMPP against a real SMSC started in the test.
 */

/** Destinations (MSISDNs) that make the gateway under test behave a given way. */
export interface SmsGatewayConformanceMagic {
  /** A sender id the gateway accepts. */
  readonly from: string;
  /** Taken, then a `delivered` receipt. */
  readonly delivered: string;
  /** Refused: `declined`, no receipt. */
  readonly declined: string;
  /** Throttled: `not_sent`, no receipt. */
  readonly notSent: string;
  /** Taken, then a `failed` receipt. */
  readonly failedReceipt: string;
  /** Never answered: `unknown` once the (short) timeout passes. */
  readonly unknown: string;
}

export interface SmsGatewayConformanceOptions {
  /** How long to wait for a receipt before failing the test. */
  readonly receiptWaitMs?: number;
  /** The `timeoutMs` used for the never-answered destination; keep it short. */
  readonly unknownTimeoutMs?: number;
}

const RECEIPT_WAIT_MS_DEFAULT = 5_000;
const UNKNOWN_TIMEOUT_MS_DEFAULT = 300;
/** The abort test's timeout: far longer than an abort needs, so returning early proves the abort. */
const ABORT_TEST_TIMEOUT_MS = 20_000;

interface ReceiptCollector {
  readonly receipts: SmsDeliveryReceipt[];
  next(predicate: (receipt: SmsDeliveryReceipt) => boolean): Promise<SmsDeliveryReceipt>;
  stop(): void;
}

function collectReceipts(gateway: SmsGateway, waitMs: number): ReceiptCollector {
  const receipts: SmsDeliveryReceipt[] = [];
  const waiters = new Set<() => void>();
  const stop = gateway.onDeliveryReceipt((receipt) => {
    receipts.push(receipt);
    for (const waiter of [...waiters]) waiter();
  });
  return {
    receipts,
    stop,
    next: (predicate) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = receipts.find(predicate);
          if (found === undefined) return false;
          clearTimeout(timer);
          waiters.delete(onReceipt);
          resolve(found);
          return true;
        };
        const onReceipt = (): void => {
          check();
        };
        const timer = setTimeout(() => {
          waiters.delete(onReceipt);
          reject(new Error(`no matching receipt within ${waitMs} ms (got ${JSON.stringify(receipts)})`));
        }, waitMs);
        if (!check()) waiters.add(onReceipt);
      }),
  };
}

function expectWellFormed(outcome: SmsSendOutcome): void {
  expect(smsSendStatuses).toContain(outcome.status);
  expect(typeof outcome.rawCode).toBe('string');
  expect(outcome.rawCode.length).toBeGreaterThan(0);
  expect(Number.isInteger(outcome.segmentCount)).toBe(true);
}

function expectTaken(outcome: SmsSendOutcome): string {
  expectWellFormed(outcome);
  expect(['succeeded', 'pending']).toContain(outcome.status);
  const reference = outcome.gatewayReference;
  expect(typeof reference).toBe('string');
  expect(reference?.length ?? 0).toBeGreaterThan(0);
  expect(outcome.segmentGatewayReferences?.[0]).toBe(reference);
  return reference ?? '';
}

function belongsTo(outcome: SmsSendOutcome): (receipt: SmsDeliveryReceipt) => boolean {
  const references = new Set(outcome.segmentGatewayReferences ?? []);
  return (receipt) => references.has(receipt.gatewayReference);
}

export function describeSmsGatewayConformance(
  name: string,
  makeGateway: () => SmsGateway | Promise<SmsGateway>,
  magic: SmsGatewayConformanceMagic,
  options: SmsGatewayConformanceOptions = {},
): void {
  const receiptWaitMs = options.receiptWaitMs ?? RECEIPT_WAIT_MS_DEFAULT;
  const unknownTimeoutMs = options.unknownTimeoutMs ?? UNKNOWN_TIMEOUT_MS_DEFAULT;
  let counter = 0;
  const message = (to: string, text = 'Your Payloom code is 123456') => ({
    reference: `conformance-${name}-${++counter}`,
    to,
    from: magic.from,
    text,
  });

  describe(`SMS gateway conformance: ${name}`, () => {
    const opened: SmsGateway[] = [];
    const open = async (): Promise<SmsGateway> => {
      const gateway = await makeGateway();
      opened.push(gateway);
      return gateway;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((gateway) => gateway.close()));
    });

    it('takes a message: succeeded or pending, with a gateway reference, the raw code and one segment', async () => {
      const gateway = await open();
      const outcome = await gateway.send(message(magic.delivered));
      expectTaken(outcome);
      expect(outcome.segmentCount).toBe(1);
      expect(outcome.encoding).toBe('gsm7');
    });

    it('reports a delivered receipt carrying the gateway reference the send returned', async () => {
      const gateway = await open();
      const receipts = collectReceipts(gateway, receiptWaitMs);
      const outcome = await gateway.send(message(magic.delivered));
      const reference = expectTaken(outcome);
      const receipt = await receipts.next((r) => r.gatewayReference === reference);
      expect(receipt.status).toBe('delivered');
      expect(receipt.final).toBe(true);
      expect(receipt.gatewayId).toBe(gateway.id);
      expect(receipt.rawStatus.length).toBeGreaterThan(0);
      expect(receipt.at).toBeInstanceOf(Date);
    });

    it('reports a failed receipt for a message that is taken but not delivered', async () => {
      const gateway = await open();
      const receipts = collectReceipts(gateway, receiptWaitMs);
      const outcome = await gateway.send(message(magic.failedReceipt));
      const reference = expectTaken(outcome);
      const receipt = await receipts.next((r) => r.gatewayReference === reference);
      expect(receipt.status).toBe('failed');
    });

    it('returns a refusal as declined with the raw code, and no receipt follows', async () => {
      const gateway = await open();
      const receipts = collectReceipts(gateway, receiptWaitMs);
      const declined = await gateway.send(message(magic.declined));
      expectWellFormed(declined);
      expect(declined.status).toBe('declined');
      expect(declined.gatewayReference).toBeUndefined();
      // Receipts arrive in order: once a later message's receipt is in, none for the refusal is coming.
      const sentinel = await gateway.send(message(magic.delivered));
      await receipts.next(belongsTo(sentinel));
      expect(receipts.receipts.every(belongsTo(sentinel))).toBe(true);
    });

    it('returns throttling as not_sent with the raw code', async () => {
      const gateway = await open();
      const outcome = await gateway.send(message(magic.notSent));
      expectWellFormed(outcome);
      expect(outcome.status).toBe('not_sent');
      expect(outcome.gatewayReference).toBeUndefined();
    });

    it('returns unknown when the gateway never answers, once the timeout passes', async () => {
      const gateway = await open();
      const outcome = await gateway.send({ ...message(magic.unknown), timeoutMs: unknownTimeoutMs });
      expectWellFormed(outcome);
      expect(outcome.status).toBe('unknown');
    });

    it('declines an invalid request without sending it', async () => {
      const gateway = await open();
      for (const to of ['+4512345678', '0045123456', '45 1234 5678', '12']) {
        const outcome = await gateway.send(message(to));
        expect(outcome).toMatchObject({ status: 'declined', rawCode: smsLocalRawCodes.invalidRequest });
      }
      const badSender = await gateway.send({
        ...message(magic.delivered),
        from: 'A sender that is too long',
      });
      expect(badSender.status).toBe('declined');
      const empty = await gateway.send(message(magic.delivered, ''));
      expect(empty).toMatchObject({ status: 'declined', rawCode: smsLocalRawCodes.invalidRequest });
    });

    it('counts segments and picks the encoding the way countSmsSegments does', async () => {
      const gateway = await open();
      const texts = ['x'.repeat(161), 'Ваш код 1234', 'Код: '.repeat(30), '{[€]}'.repeat(40)];
      for (const text of texts) {
        const outcome = await gateway.send(message(magic.delivered, text));
        const expected = countSmsSegments(text);
        expectTaken(outcome);
        expect(outcome.segmentCount).toBe(expected?.segmentCount);
        expect(outcome.encoding).toBe(expected?.encoding);
      }
    });

    it('honours an abort before sending: not_sent, and no receipt follows', async () => {
      const gateway = await open();
      const receipts = collectReceipts(gateway, receiptWaitMs);
      const controller = new AbortController();
      controller.abort();
      const outcome = await gateway.send({ ...message(magic.delivered), abortSignal: controller.signal });
      expect(outcome).toMatchObject({ status: 'not_sent', rawCode: smsLocalRawCodes.aborted });
      const sentinel = await gateway.send(message(magic.delivered));
      await receipts.next(belongsTo(sentinel));
      expect(receipts.receipts.every(belongsTo(sentinel))).toBe(true);
    });

    it('honours an abort while waiting for an answer: returns long before the timeout', async () => {
      const gateway = await open();
      const controller = new AbortController();
      const startedAt = performance.now();
      const sending = gateway.send({
        ...message(magic.unknown),
        abortSignal: controller.signal,
        timeoutMs: ABORT_TEST_TIMEOUT_MS,
      });
      setTimeout(() => controller.abort(), 20);
      const outcome = await sending;
      expect(['unknown', 'not_sent']).toContain(outcome.status);
      expect(performance.now() - startedAt).toBeLessThan(ABORT_TEST_TIMEOUT_MS / 2);
    });

    it('stops giving receipts to a listener once it is removed', async () => {
      const gateway = await open();
      const kept = collectReceipts(gateway, receiptWaitMs);
      const removed = collectReceipts(gateway, receiptWaitMs);
      removed.stop();
      const outcome = await gateway.send(message(magic.delivered));
      await kept.next(belongsTo(outcome));
      expect(removed.receipts).toHaveLength(0);
    });

    it('closes idempotently; a send after close is not_sent', async () => {
      const gateway = await open();
      expectTaken(await gateway.send(message(magic.delivered)));
      await gateway.close();
      await gateway.close();
      await Promise.all([gateway.close(), gateway.close()]);
      const outcome = await gateway.send(message(magic.delivered));
      expect(outcome).toMatchObject({ status: 'not_sent', rawCode: smsLocalRawCodes.closed });
    });
  });
}

import { randomBytes } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import {
  silentSmsGatewayLog,
  smsLocalRawCodes,
  type SmsDeliveryReceipt,
  type SmsDeliveryReceiptListener,
  type SmsGateway,
  type SmsGatewayClass,
  type SmsGatewayDeps,
  type SmsGatewayLog,
  type SmsReceiptStatus,
  type SmsSendOutcome,
  type SmsSendRequest,
} from '../../contracts/sms-gateway.js';
import { parseSmsRequest } from '../request.js';

/**
 * The sandbox gateway: never sends anything out. It takes every valid message, answers `succeeded`
 * with a generated reference and, on a later turn of the event loop, reports a `delivered` receipt,
 * so sandbox merchants see the same sequence production gives them. Destinations ending in the magic
 * suffixes below simulate failures (README "Sandbox magic values").
 */
export const sandboxSmsMagic = {
  /** Refused as a barred destination: `declined`, no receipt. */
  declined: '0091',
  /** Throttled: `not_sent`, no receipt; a retry later succeeds the same way. */
  notSent: '0092',
  /** Taken (`succeeded`), then a `failed` receipt (UNDELIV) instead of `delivered`. */
  failedReceipt: '0093',
  /** No answer from the "network": `unknown`, no receipt. */
  unknown: '0094',
  /** Taken as an SMSC with receipts takes it: `pending`, then a `delivered` receipt. */
  pending: '0095',
  /** Taken (`succeeded`), then an `expired` receipt. */
  expiredReceipt: '0096',
} as const;

export const SandboxSmsGatewayConfigSchema = Type.Object(
  {
    /** Whether receipts are emitted at all; tests of receipt-less flows turn it off. */
    deliveryReceipts: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export type SandboxSmsGatewayConfig = Static<typeof SandboxSmsGatewayConfigSchema>;

export function parseSandboxSmsGatewayConfig(input: unknown): SandboxSmsGatewayConfig {
  if (!Value.Check(SandboxSmsGatewayConfigSchema, input)) {
    const problems = [...Value.Errors(SandboxSmsGatewayConfigSchema, input)]
      .map((error) => `${error.instancePath || '/'} ${error.message}`)
      .join('; ');
    throw new Error(`invalid sandbox SMS gateway config: ${problems}`);
  }
  return input;
}

/** Raw codes the sandbox answers with, shaped like a vendor's so the outbox stores them the same way. */
export const sandboxRawCodes = {
  accepted: 'SANDBOX_ACCEPTED',
  barred: 'SANDBOX_DESTINATION_BARRED',
  throttled: 'SANDBOX_THROTTLED',
  noResponse: 'SANDBOX_NO_RESPONSE',
} as const;

export class SandboxSmsGateway implements SmsGateway {
  static readonly id = 'sandbox';
  readonly id = SandboxSmsGateway.id;

  readonly #receiptsEnabled: boolean;
  readonly #log: SmsGatewayLog;
  readonly #now: () => Date;
  readonly #listeners = new Set<SmsDeliveryReceiptListener>();
  /** Receipts scheduled but not yet emitted; cancelled by close(). */
  readonly #scheduled = new Set<NodeJS.Immediate>();
  #closed = false;

  constructor(config: SandboxSmsGatewayConfig = {}, deps: SmsGatewayDeps = {}) {
    this.#receiptsEnabled = config.deliveryReceipts ?? true;
    this.#log = deps.log ?? silentSmsGatewayLog;
    this.#now = deps.now ?? (() => new Date());
  }

  async send(request: SmsSendRequest): Promise<SmsSendOutcome> {
    if (this.#closed) {
      return {
        status: 'not_sent',
        rawCode: smsLocalRawCodes.closed,
        rawMessage: 'gateway closed',
        segmentCount: 0,
      };
    }
    const parsed = parseSmsRequest(request);
    if (!parsed.ok) return parsed.outcome;
    const { to, plan } = parsed.request;
    const sized = { segmentCount: plan.segmentCount, encoding: plan.encoding };
    if (request.abortSignal?.aborted) {
      return {
        status: 'not_sent',
        rawCode: smsLocalRawCodes.aborted,
        rawMessage: 'aborted before sending',
        ...sized,
      };
    }
    if (to.endsWith(sandboxSmsMagic.declined)) {
      return {
        status: 'declined',
        rawCode: sandboxRawCodes.barred,
        rawMessage: 'destination barred',
        ...sized,
      };
    }
    if (to.endsWith(sandboxSmsMagic.notSent)) {
      return { status: 'not_sent', rawCode: sandboxRawCodes.throttled, rawMessage: 'throttled', ...sized };
    }
    if (to.endsWith(sandboxSmsMagic.unknown)) {
      return { status: 'unknown', rawCode: sandboxRawCodes.noResponse, rawMessage: 'no answer', ...sized };
    }
    // One reference for the whole message: the sandbox behaves like a gateway that segments itself.
    const gatewayReference = `sbx_${randomBytes(12).toString('hex')}`;
    const receipt = this.#receiptFor(to);
    if (receipt !== undefined && this.#receiptsEnabled) this.#scheduleReceipt(gatewayReference, receipt);
    return {
      status: to.endsWith(sandboxSmsMagic.pending) ? 'pending' : 'succeeded',
      gatewayReference,
      segmentGatewayReferences: [gatewayReference],
      rawCode: sandboxRawCodes.accepted,
      ...sized,
    };
  }

  onDeliveryReceipt(listener: SmsDeliveryReceiptListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const handle of this.#scheduled) clearImmediate(handle);
    this.#scheduled.clear();
  }

  #receiptFor(to: string): { status: SmsReceiptStatus; rawStatus: string; rawErrorCode?: string } {
    if (to.endsWith(sandboxSmsMagic.failedReceipt))
      return { status: 'failed', rawStatus: 'UNDELIV', rawErrorCode: '001' };
    if (to.endsWith(sandboxSmsMagic.expiredReceipt)) return { status: 'expired', rawStatus: 'EXPIRED' };
    return { status: 'delivered', rawStatus: 'DELIVRD' };
  }

  /**
   * On the next turn rather than synchronously: the sender gets its outcome first, as with a real
   * gateway. A receipt may still arrive before the caller has recorded that outcome; the outbox copes.
   */
  #scheduleReceipt(
    gatewayReference: string,
    report: { status: SmsReceiptStatus; rawStatus: string; rawErrorCode?: string },
  ): void {
    const handle = setImmediate(() => {
      this.#scheduled.delete(handle);
      const receipt: SmsDeliveryReceipt = {
        gatewayId: this.id,
        gatewayReference,
        status: report.status,
        final: true,
        rawStatus: report.rawStatus,
        ...(report.rawErrorCode === undefined ? {} : { rawErrorCode: report.rawErrorCode }),
        at: this.#now(),
      };
      for (const listener of this.#listeners) {
        // A listener's failure must not stop the others; the sandbox has no vendor to redeliver.
        Promise.resolve()
          .then(() => listener(receipt))
          .catch((error: unknown) => {
            this.#log.warn({ gatewayReference, error: String(error) }, 'sandbox SMS receipt listener failed');
          });
      }
    });
    this.#scheduled.add(handle);
  }
}

// Compile-time check that the class has the static shape every gateway class has.
const _sandboxGatewayClass: SmsGatewayClass<SandboxSmsGatewayConfig> = SandboxSmsGateway;

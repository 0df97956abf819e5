/**
 * The SMS gateway contract (STYLE.md §3, §5). The SMS outbox (core/sms) calls `send` outside any
 * transaction with our message id as `reference`, records the five-valued outcome, and matches
 * delivery receipts to the message by `gatewayReference`. Every gateway (sandbox, SMPP, HTTP ones)
 * implements this interface and passes `describeSmsGatewayConformance` (sms-gateway.conformance.ts).
 * The full rules are in src/connectors/sms/README.md.
 */

// Segment counting is part of the contract (the outbox bills and limits per segment before it sends);
// it lives beside the gateways so every gateway and the outbox share one implementation.
export {
  countSmsSegments,
  planSmsText,
  SMS_SEGMENTS_MAX,
  type SmsEncoding,
  type SmsTextPlan,
  type SmsTextPlanResult,
} from '../sms/encoding.js';
import type { SmsEncoding } from '../sms/encoding.js';

/**
 * The same five values as the shared connector outcome (contracts/outcome.ts, STYLE.md §3):
 * - `succeeded`: the gateway took the message and will report nothing more that changes that (a gateway
 *   with no delivery receipts, or the sandbox).
 * - `pending`: the gateway took the message; a delivery receipt will settle it (SMPP with
 *   `registered_delivery`: "accepted by the SMSC" is `pending`, never `succeeded`).
 * - `declined`: refused for good (invalid destination, barred, invalid request); do not retry as is.
 * - `not_sent`: definitely not sent (throttled, queue full, not bound, aborted before sending); safe to
 *   retry later.
 * - `unknown`: it may or may not have been taken (no answer within the timeout, connection lost after
 *   writing). Never blindly retried: a resend may reach the phone twice.
 */
export type SmsSendStatus = 'succeeded' | 'declined' | 'pending' | 'unknown' | 'not_sent';

export const smsSendStatuses: readonly SmsSendStatus[] = [
  'succeeded',
  'declined',
  'pending',
  'unknown',
  'not_sent',
];

/** Raw codes for outcomes decided inside Payloom, before or instead of a gateway answer. */
export const smsLocalRawCodes = {
  /** The request itself is invalid (destination, sender, text, reference); `declined`. */
  invalidRequest: 'payloom:invalid_request',
  /** `abortSignal` fired: `not_sent` before anything was written, `unknown` after. */
  aborted: 'payloom:aborted',
  /** No answer before the deadline: `not_sent` while waiting to connect, `unknown` after writing. */
  timeout: 'payloom:timeout',
  /** The gateway has no usable connection (connect failed, bind failed without a code); `not_sent`. */
  notConnected: 'payloom:not_connected',
  /** The connection dropped after the message was written; `unknown`. */
  connectionLost: 'payloom:connection_lost',
  /** Too many sends are already waiting for this gateway; `not_sent`. */
  busy: 'payloom:busy',
  /** `close()` was called; `not_sent`. */
  closed: 'payloom:closed',
} as const;

export interface SmsSendRequest {
  /** Our id for the message (the outbox row id), kept in logs; never sent twice on purpose. */
  readonly reference: string;
  /** The destination MSISDN in international form, digits only, no `+` (e.g. `4512345678`). */
  readonly to: string;
  /**
   * The sender id: 1-11 characters alphanumeric (letters, digits, space, `.`, `-`; at least one letter)
   * or 1-15 digits (short code or MSISDN).
   */
  readonly from: string;
  readonly text: string;
  /** Abort before sending gives `not_sent`; abort while waiting for the gateway's answer gives `unknown`. */
  readonly abortSignal?: AbortSignal;
  /** The most this call may take, all segments included; defaults to the gateway's configured timeout. */
  readonly timeoutMs?: number;
}

export interface SmsSendOutcome {
  readonly status: SmsSendStatus;
  /** The gateway's id of the message (SMPP `message_id` of the first segment); set when taken. */
  readonly gatewayReference?: string;
  /**
   * The gateway's id of every segment it took, in order; `[gatewayReference]` when the message travels
   * as one unit. Receipts may come per segment (SMPP with UDH concatenation): each receipt's
   * `gatewayReference` is one of these, so the outbox stores them all.
   */
  readonly segmentGatewayReferences?: readonly string[];
  /** The vendor's raw code (SMPP `command_status` as `0x0000000B`), or a `payloom:` code. */
  readonly rawCode: string;
  readonly rawMessage?: string;
  /** Segments the text needs (what the outbox bills); 0 when the request was invalid. */
  readonly segmentCount: number;
  readonly encoding?: SmsEncoding;
}

/**
 * - `delivered`: on the handset. `failed`: undeliverable or deleted. `expired`: validity period ran out.
 * - `rejected`: the network refused it after accepting it. `enroute`: intermediate, more will follow.
 * - `unknown`: a final report the gateway cannot interpret (SMPP `UNKNOWN`, `ACCEPTD`).
 */
export type SmsReceiptStatus = 'delivered' | 'failed' | 'expired' | 'rejected' | 'enroute' | 'unknown';

export interface SmsDeliveryReceipt {
  /** The static id of the gateway that received it. */
  readonly gatewayId: string;
  /** Matches `gatewayReference` or one of `segmentGatewayReferences` of an earlier send. */
  readonly gatewayReference: string;
  readonly status: SmsReceiptStatus;
  /** False only for `enroute`: a later receipt will follow. */
  readonly final: boolean;
  /** The vendor's status as sent (SMPP `stat:` text such as `DELIVRD`, or the `message_state` name). */
  readonly rawStatus: string;
  /** The vendor's error code (SMPP `err:` or `network_error_code`), when given. */
  readonly rawErrorCode?: string;
  /** When Payloom received the receipt (the injected clock). */
  readonly at: Date;
  /** The gateway's own "done date" text, kept raw: SMSCs send local time without a zone. */
  readonly rawDoneAt?: string;
}

/**
 * Receives receipts. The gateway acknowledges a receipt to the vendor only after every listener has
 * settled; a listener that throws or rejects makes the vendor redeliver it later (at-least-once), so
 * listeners must be idempotent. A listener registered first also starts the gateway's connection.
 */
export type SmsDeliveryReceiptListener = (receipt: SmsDeliveryReceipt) => void | Promise<void>;

export interface SmsGateway {
  /** The static id of the implementation (`SandboxSmsGateway.id`, `SmppSmsGateway.id`). */
  readonly id: string;
  /** Never throws for an expected failure: a failure is an outcome (STYLE.md §3). */
  send(request: SmsSendRequest): Promise<SmsSendOutcome>;
  /** Returns a function that removes the listener. */
  onDeliveryReceipt(listener: SmsDeliveryReceiptListener): () => void;
  /** Stops the gateway (SMPP: unbind, then close the socket). Idempotent; later sends are `not_sent`. */
  close(): Promise<void>;
}

/** A secret that logs cannot print (core/secrets `Secret` is one); only `reveal()` gives the value. */
export interface SecretText {
  reveal(): string;
}

/** The structured logger a gateway may write to (pino's `Logger` fits). Fields never contain secrets. */
export interface SmsGatewayLog {
  info(fields: Readonly<Record<string, unknown>>, message: string): void;
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
  error(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export interface SmsGatewayDeps {
  readonly log?: SmsGatewayLog;
  /** Time for receipts (`at`); tests and sandbox test clocks pass their own. */
  readonly now?: () => Date;
}

/** What every gateway class exposes statically: its id and how to build it from validated config. */
export interface SmsGatewayClass<Config> {
  readonly id: string;
  new (config: Config, deps?: SmsGatewayDeps): SmsGateway;
}

export const silentSmsGatewayLog: SmsGatewayLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

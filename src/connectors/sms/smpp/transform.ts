import type { SmsDeliveryReceipt, SmsReceiptStatus, SmsSendStatus } from '../../contracts/sms-gateway.js';
import type { ParsedSmsRequest, SmsSender } from '../request.js';

/**
 * The pure half of the SMPP gateway (STYLE.md §5): request → `submit_sm` fields, `command_status` →
 * outcome, `deliver_sm` → receipt. No sockets, no library objects.
 */

/** SMPP 3.4 §5.1.3 command_status values this gateway names; others are shown as hex. */
export const commandStatus = {
  ESME_ROK: 0x0000,
  ESME_RINVMSGLEN: 0x0001,
  ESME_RINVCMDLEN: 0x0002,
  ESME_RINVCMDID: 0x0003,
  ESME_RINVBNDSTS: 0x0004,
  ESME_RALYBND: 0x0005,
  ESME_RINVREGDLVFLG: 0x0007,
  ESME_RSYSERR: 0x0008,
  ESME_RINVSRCADR: 0x000a,
  ESME_RINVDSTADR: 0x000b,
  ESME_RINVMSGID: 0x000c,
  ESME_RBINDFAIL: 0x000d,
  ESME_RINVPASWD: 0x000e,
  ESME_RINVSYSID: 0x000f,
  ESME_RMSGQFUL: 0x0014,
  ESME_RINVSERTYP: 0x0015,
  ESME_RINVESMCLASS: 0x0043,
  ESME_RSUBMITFAIL: 0x0045,
  ESME_RINVSRCTON: 0x0048,
  ESME_RINVSRCNPI: 0x0049,
  ESME_RINVDSTTON: 0x0050,
  ESME_RINVDSTNPI: 0x0051,
  ESME_RINVSYSTYP: 0x0053,
  ESME_RTHROTTLED: 0x0058,
  ESME_RINVSCHED: 0x0061,
  ESME_RINVEXPIRY: 0x0062,
  ESME_RX_T_APPN: 0x0064,
  ESME_RX_P_APPN: 0x0065,
  ESME_RX_R_APPN: 0x0066,
  ESME_RINVTLVSTREAM: 0x00c0,
  ESME_RTLVNOTALLWD: 0x00c1,
  ESME_RINVTLVLEN: 0x00c2,
  ESME_RMISSINGTLV: 0x00c3,
  ESME_RINVTLVVAL: 0x00c4,
  ESME_RDELIVERYFAILURE: 0x00fe,
  ESME_RUNKNOWNERR: 0x00ff,
} as const;

const commandStatusTitles: ReadonlyMap<number, string> = new Map([
  [commandStatus.ESME_ROK, 'no error'],
  [commandStatus.ESME_RINVMSGLEN, 'message length is invalid'],
  [commandStatus.ESME_RINVCMDLEN, 'command length is invalid'],
  [commandStatus.ESME_RINVCMDID, 'invalid command id'],
  [commandStatus.ESME_RINVBNDSTS, 'incorrect bind status for this command'],
  [commandStatus.ESME_RALYBND, 'already bound'],
  [commandStatus.ESME_RINVREGDLVFLG, 'invalid registered delivery flag'],
  [commandStatus.ESME_RSYSERR, 'system error'],
  [commandStatus.ESME_RINVSRCADR, 'invalid source address'],
  [commandStatus.ESME_RINVDSTADR, 'invalid destination address'],
  [commandStatus.ESME_RINVMSGID, 'message id is invalid'],
  [commandStatus.ESME_RBINDFAIL, 'bind failed'],
  [commandStatus.ESME_RINVPASWD, 'invalid password'],
  [commandStatus.ESME_RINVSYSID, 'invalid system id'],
  [commandStatus.ESME_RMSGQFUL, 'message queue full'],
  [commandStatus.ESME_RINVSERTYP, 'invalid service type'],
  [commandStatus.ESME_RINVESMCLASS, 'invalid esm_class'],
  [commandStatus.ESME_RSUBMITFAIL, 'submit_sm failed'],
  [commandStatus.ESME_RINVSRCTON, 'invalid source address TON'],
  [commandStatus.ESME_RINVSRCNPI, 'invalid source address NPI'],
  [commandStatus.ESME_RINVDSTTON, 'invalid destination address TON'],
  [commandStatus.ESME_RINVDSTNPI, 'invalid destination address NPI'],
  [commandStatus.ESME_RINVSYSTYP, 'invalid system_type'],
  [commandStatus.ESME_RTHROTTLED, 'throttling error: the ESME exceeded its allowed message rate'],
  [commandStatus.ESME_RINVSCHED, 'invalid scheduled delivery time'],
  [commandStatus.ESME_RINVEXPIRY, 'invalid validity period'],
  [commandStatus.ESME_RX_T_APPN, 'temporary application error'],
  [commandStatus.ESME_RX_P_APPN, 'permanent application error'],
  [commandStatus.ESME_RX_R_APPN, 'application rejected the message'],
  [commandStatus.ESME_RINVTLVSTREAM, 'invalid TLV stream'],
  [commandStatus.ESME_RTLVNOTALLWD, 'TLV not allowed'],
  [commandStatus.ESME_RINVTLVLEN, 'invalid TLV length'],
  [commandStatus.ESME_RMISSINGTLV, 'expected TLV missing'],
  [commandStatus.ESME_RINVTLVVAL, 'invalid TLV value'],
  [commandStatus.ESME_RDELIVERYFAILURE, 'delivery failure'],
  [commandStatus.ESME_RUNKNOWNERR, 'unknown error'],
]);

const commandStatusNames: ReadonlyMap<number, string> = new Map(
  Object.entries(commandStatus).map(([name, code]) => [code, name] as const),
);

/** `0x0000000B`: the raw code as SMPP documents print it; kept whatever the SMSC sends. */
export function rawCommandStatus(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** `ESME_RINVDSTADR (invalid destination address)`, or a hex code for vendor-specific values. */
export function describeCommandStatus(code: number): string {
  const name = commandStatusNames.get(code);
  if (name === undefined)
    return `${rawCommandStatus(code)} (not an SMPP 3.4 code; see the SMSC's documentation)`;
  return `${name} (${commandStatusTitles.get(code) ?? 'no description'})`;
}

/**
 * Refusals worth retrying later: the SMSC is busy or briefly unable, and took nothing. Every other
 * non-zero status is `declined` — including vendor-specific codes, so an unexplained refusal is not
 * retried in a loop (the outbox may still retry a `declined` message it decides to).
 */
const retryLater: ReadonlySet<number> = new Set([
  commandStatus.ESME_RTHROTTLED,
  commandStatus.ESME_RMSGQFUL,
  commandStatus.ESME_RSYSERR,
  commandStatus.ESME_RX_T_APPN,
  commandStatus.ESME_RINVBNDSTS,
]);

/** Maps a `submit_sm_resp` command_status. Any non-zero status means the SMSC did not take the message. */
export function submitOutcome(
  code: number,
  deliveryReceipts: boolean,
): { readonly status: SmsSendStatus; readonly rawCode: string; readonly rawMessage: string } {
  const rawCode = rawCommandStatus(code);
  const rawMessage = describeCommandStatus(code);
  if (code === commandStatus.ESME_ROK) {
    return { status: deliveryReceipts ? 'pending' : 'succeeded', rawCode, rawMessage };
  }
  return { status: retryLater.has(code) ? 'not_sent' : 'declined', rawCode, rawMessage };
}

/** SMPP 3.4 §5.2.5-5.2.6. */
const ton = { unknown: 0, international: 1, networkSpecific: 3, alphanumeric: 5 } as const;
const npi = { unknown: 0, isdn: 1 } as const;
const dataCoding = { smscDefault: 0x00, ucs2: 0x08 } as const;
const esmClassUdhIndicator = 0x40;
/** registered_delivery: SMSC delivery receipt requested on final outcome, success or failure. */
const registeredDeliveryFinal = 0x01;

/** Alphanumeric: TON 5 / NPI 0. International MSISDN: 1 / 1. Short code: 0 / 1, read by the SMSC's plan. */
export function sourceAddressing(sender: SmsSender): { readonly ton: number; readonly npi: number } {
  switch (sender.kind) {
    case 'alphanumeric':
      return { ton: ton.alphanumeric, npi: npi.unknown };
    case 'international':
      return { ton: ton.international, npi: npi.isdn };
    case 'short_code':
      return { ton: ton.unknown, npi: npi.isdn };
  }
}

export interface SubmitSmOptions {
  readonly longMessages: 'udh' | 'message_payload';
  readonly deliveryReceipts: boolean;
  readonly sourceTon: number | undefined;
  readonly sourceNpi: number | undefined;
  /** The 8-bit concatenation reference shared by this message's segments. */
  readonly concatenationReference: number;
}

/** The parameters of one `submit_sm`, named as in SMPP 3.4 §4.4.1. */
export interface SubmitSmFields {
  readonly source_addr_ton: number;
  readonly source_addr_npi: number;
  readonly source_addr: string;
  readonly dest_addr_ton: number;
  readonly dest_addr_npi: number;
  readonly destination_addr: string;
  readonly esm_class: number;
  readonly registered_delivery: number;
  readonly data_coding: number;
  readonly short_message: Buffer;
  readonly message_payload?: Buffer;
}

/** One `submit_sm` per segment (UDH), or one carrying the whole text (message_payload / one segment). */
export function submitSmFields(request: ParsedSmsRequest, options: SubmitSmOptions): SubmitSmFields[] {
  const source = sourceAddressing(request.from);
  const { plan } = request;
  const base = {
    source_addr_ton: options.sourceTon ?? source.ton,
    source_addr_npi: options.sourceNpi ?? source.npi,
    source_addr: request.from.value,
    dest_addr_ton: ton.international,
    dest_addr_npi: npi.isdn,
    destination_addr: request.to,
    registered_delivery: options.deliveryReceipts ? registeredDeliveryFinal : 0,
    data_coding: plan.encoding === 'gsm7' ? dataCoding.smscDefault : dataCoding.ucs2,
  };
  if (plan.segmentCount === 1) {
    return [{ ...base, esm_class: 0, short_message: plan.encoded }];
  }
  if (options.longMessages === 'message_payload') {
    // short_message must be empty when message_payload is present (SMPP 3.4 §5.3.2.32).
    return [{ ...base, esm_class: 0, short_message: Buffer.alloc(0), message_payload: plan.encoded }];
  }
  const reference = options.concatenationReference & 0xff;
  return plan.segments.map((segment, index) => ({
    ...base,
    esm_class: esmClassUdhIndicator,
    short_message: Buffer.concat([concatenationHeader(reference, plan.segmentCount, index + 1), segment]),
  }));
}

/** UDH with one IE: concatenated short message, 8-bit reference (IEI 0x00, 3GPP TS 23.040 §9.2.3.24.1). */
export function concatenationHeader(reference: number, total: number, sequence: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference & 0xff, total, sequence]);
}

/** esm_class bits 2-5 (SMPP 3.4 §5.2.12): MC delivery receipt, or an intermediate notification. */
const esmClassTypeMask = 0x3c;
const esmClassDeliveryReceipt = 0x04;
const esmClassIntermediateNotification = 0x20;

/** message_state TLV values (SMPP 3.4 §5.2.28; 0 and 9 come from SMPP 5.0 SMSCs). */
const messageStates: ReadonlyMap<number, { readonly name: string; readonly status: SmsReceiptStatus }> =
  new Map([
    [0, { name: 'SCHEDULED', status: 'enroute' }],
    [1, { name: 'ENROUTE', status: 'enroute' }],
    [2, { name: 'DELIVERED', status: 'delivered' }],
    [3, { name: 'EXPIRED', status: 'expired' }],
    [4, { name: 'DELETED', status: 'failed' }],
    [5, { name: 'UNDELIVERABLE', status: 'failed' }],
    // ACCEPTED means someone at the operator acted on it, not that the handset has it.
    [6, { name: 'ACCEPTED', status: 'unknown' }],
    [7, { name: 'UNKNOWN', status: 'unknown' }],
    [8, { name: 'REJECTED', status: 'rejected' }],
    [9, { name: 'SKIPPED', status: 'failed' }],
  ]);

/** The `stat:` words of the receipt text (SMPP 3.4 Appendix B). */
const statWords: ReadonlyMap<string, SmsReceiptStatus> = new Map([
  ['DELIVRD', 'delivered'],
  ['EXPIRED', 'expired'],
  ['DELETED', 'failed'],
  ['UNDELIV', 'failed'],
  ['ACCEPTD', 'unknown'],
  ['UNKNOWN', 'unknown'],
  ['REJECTD', 'rejected'],
  ['ENROUTE', 'enroute'],
]);

export interface ReceiptText {
  readonly id?: string;
  readonly stat?: string;
  readonly err?: string;
  readonly doneDate?: string;
}

/**
 * Parses `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E
 * text:...`. Keys are matched case-insensitively and only before `text:`, whose content is free.
 */
export function parseReceiptText(text: string): ReceiptText {
  const head = text.split(/\btext:/i)[0] ?? '';
  const field = (pattern: RegExp): string | undefined => pattern.exec(head)?.[1];
  const id = field(/\bid:(\S+)/i);
  const stat = field(/\bstat:(\w+)/i)?.toUpperCase();
  const err = field(/\berr:(\w+)/i);
  const doneDate = field(/\bdone date:(\d+)/i);
  return {
    ...(id === undefined ? {} : { id }),
    ...(stat === undefined ? {} : { stat }),
    ...(err === undefined ? {} : { err }),
    ...(doneDate === undefined ? {} : { doneDate }),
  };
}

export interface DeliverSmInput {
  readonly esmClass: number;
  /** short_message (or message_payload) as text. */
  readonly text: string | undefined;
  readonly receiptedMessageId: string | undefined;
  readonly messageState: number | undefined;
  readonly networkErrorCode: Buffer | undefined;
}

/**
 * A `deliver_sm` → a receipt, or undefined when it is not one (a mobile-originated message) or names no
 * message. The TLVs (receipted_message_id, message_state) win over the text when both are present:
 * they are exact, while the text is decoded with the SMSC's default alphabet.
 */
export function parseDeliveryReceipt(
  input: DeliverSmInput,
  gatewayId: string,
  at: Date,
): SmsDeliveryReceipt | undefined {
  const type = input.esmClass & esmClassTypeMask;
  const flaggedAsReceipt = type === esmClassDeliveryReceipt || type === esmClassIntermediateNotification;
  if (!flaggedAsReceipt && input.receiptedMessageId === undefined) return undefined;
  const text = input.text === undefined ? {} : parseReceiptText(input.text);
  const gatewayReference = nonEmpty(input.receiptedMessageId) ?? nonEmpty(text.id);
  if (gatewayReference === undefined) return undefined;
  const state = input.messageState === undefined ? undefined : messageStates.get(input.messageState);
  const fromText = text.stat === undefined ? undefined : statWords.get(text.stat);
  const status: SmsReceiptStatus = state?.status ?? fromText ?? 'unknown';
  const rawStatus =
    text.stat ??
    state?.name ??
    (input.messageState === undefined ? 'none' : `message_state=${input.messageState}`);
  const rawErrorCode =
    text.err ?? (input.networkErrorCode ? input.networkErrorCode.toString('hex') : undefined);
  return {
    gatewayId,
    gatewayReference,
    status,
    final: status !== 'enroute',
    rawStatus,
    ...(rawErrorCode === undefined ? {} : { rawErrorCode }),
    at,
    ...(text.doneDate === undefined ? {} : { rawDoneAt: text.doneDate }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.length === 0 ? undefined : value;
}

import smpp from 'smpp';

/**
 * The one place that touches node-smpp's PDU objects: building them and narrowing their untyped fields.
 * The library decodes `short_message` / `message_payload` into `{ message, udh? }` using `data_coding`.
 */

export type SmppPdu = smpp.PDU;
export type SmppSession = smpp.Session;
export type SmppServer = smpp.Server;

export type SmppCommand =
  | 'bind_transceiver'
  | 'bind_transceiver_resp'
  | 'submit_sm'
  | 'submit_sm_resp'
  | 'deliver_sm'
  | 'deliver_sm_resp'
  | 'enquire_link'
  | 'enquire_link_resp'
  | 'unbind'
  | 'unbind_resp'
  | 'generic_nack';

export function createPdu(command: SmppCommand, fields: Readonly<Record<string, unknown>> = {}): SmppPdu {
  return new smpp.PDU(command, fields);
}

export function connectSession(options: smpp.ConnectOptions): SmppSession {
  return smpp.connect(options);
}

export function createSmppServer(onSession: (session: SmppSession) => void): SmppServer {
  return smpp.createServer({}, onSession);
}

export function pduString(pdu: SmppPdu, field: string): string | undefined {
  const value = pdu[field];
  return typeof value === 'string' ? value : undefined;
}

export function pduNumber(pdu: SmppPdu, field: string): number | undefined {
  const value = pdu[field];
  return typeof value === 'number' ? value : undefined;
}

export function pduBuffer(pdu: SmppPdu, field: string): Buffer | undefined {
  const value = pdu[field];
  return Buffer.isBuffer(value) ? value : undefined;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null;
}

/** The decoded text of `short_message` or `message_payload`, as the library decoded it. */
export function pduMessageText(pdu: SmppPdu, field: 'short_message' | 'message_payload'): string | undefined {
  const value = pdu[field];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (isRecord(value)) {
    const message = value.message;
    if (typeof message === 'string') return message;
    if (Buffer.isBuffer(message)) return message.toString('latin1');
  }
  return undefined;
}

/** The user data header information elements of a decoded `short_message`, each as IEI, length, data. */
export function pduUdh(pdu: SmppPdu): readonly Buffer[] {
  const value = pdu.short_message;
  if (!isRecord(value)) return [];
  const udh: unknown = value.udh;
  if (!Array.isArray(udh)) return [];
  const elements: readonly unknown[] = udh;
  return elements.filter((element): element is Buffer => Buffer.isBuffer(element));
}

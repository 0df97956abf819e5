/**
 * The Infomedia-style response codes (`description: "NN - text"`). `00` and the carrier's billing codes
 * (`AA`, `A5`, `A3`, `A6`-`AD`, `01`…) follow Infomedia's published `transactionStatus` table; the other
 * codes are Payloom's, chosen in the vendor's two-character style and documented in README.md.
 */
export const dcbCodes = {
  ok: { code: '00', text: 'Everything was OK' },
  billingFailed: { code: '01', text: 'Billing attempt failed' },
  validation: { code: '02', text: 'Invalid request' },
  authentication: { code: '03', text: 'Authentication failed' },
  carrierUnsupported: { code: '04', text: 'MSISDN not served by a supported carrier' },
  currencyUnsupported: { code: '05', text: 'Currency not supported by the carrier' },
  productNotFound: { code: '06', text: 'Unknown productId' },
  methodNotFound: { code: '07', text: 'Unknown method' },
  notAllowed: { code: '08', text: 'Method not enabled for this account' },
  pinInvalid: { code: '10', text: 'PIN is invalid' },
  pinExpired: { code: '11', text: 'PIN has expired' },
  pinUsed: { code: '12', text: 'PIN has already been used' },
  pinAttemptsExceeded: { code: '13', text: 'Too many PIN attempts' },
  tooManyPins: { code: '14', text: 'Too many PINs requested for this MSISDN' },
  msisdnLocked: { code: '15', text: 'MSISDN temporarily locked after failed PIN attempts' },
  pinNotFound: { code: '16', text: 'Unknown pinId' },
  smsLimit: { code: '17', text: 'SMS limit reached' },
  refundNotSupported: { code: '20', text: 'Refunds are not supported by this carrier' },
  refundExceeds: { code: '21', text: 'Refund exceeds the amount billed' },
  transactionNotFound: { code: '22', text: 'Unknown txid' },
  notRefundable: { code: '23', text: 'Transaction was not billed' },
  pending: { code: '30', text: 'Outcome pending; the final result follows by webhook' },
  insufficientCredit: { code: 'AA', text: 'Insufficient credit' },
  operatorBar: { code: 'A5', text: 'Operator bar on this MSISDN' },
  unknownMsisdn: { code: 'A3', text: 'MSISDN not recognised by network' },
  dailyLimit: { code: 'A6', text: 'MSISDN daily expenditure limit reached' },
  monthlyLimit: { code: 'A7', text: 'MSISDN monthly expenditure limit reached' },
  transactionLimit: { code: 'A8', text: 'Amount above the per-transaction limit' },
  internal: { code: '99', text: 'Internal error; nothing was charged' },
} as const;

export type DcbCode = (typeof dcbCodes)[keyof typeof dcbCodes];

/** Carrier raw codes passed through as they are (Infomedia's transactionStatus values). */
export const carrierPassThrough: ReadonlySet<string> = new Set([
  '00',
  '01',
  '48',
  '74',
  'A0',
  'A1',
  'A2',
  'A3',
  'A4',
  'A5',
  'A6',
  'A7',
  'A8',
  'A9',
  'AA',
  'AB',
  'AC',
  'AD',
  'AF',
]);

export function describe(code: DcbCode, detail?: string): string {
  return `${code.code} - ${code.text}${detail ? `: ${detail}` : ''}`;
}

/** The description for a carrier's raw code: known codes keep their text, others become `01`. */
export function carrierDescription(rawCode: string, rawMessage: string | null | undefined): string {
  const known = Object.values(dcbCodes).find((c) => c.code === rawCode);
  if (known) return `${known.code} - ${known.text}`;
  if (carrierPassThrough.has(rawCode)) return `${rawCode} - ${rawMessage ?? dcbCodes.billingFailed.text}`;
  return `${dcbCodes.billingFailed.code} - ${dcbCodes.billingFailed.text} (${rawCode})`;
}

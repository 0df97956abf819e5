/**
 * SMS text encoding and segmentation, shared by every SMS gateway so that the outbox counts (and bills,
 * and limits) segments the same way whichever gateway sends them. Pure: no I/O, no vendor types.
 *
 * Rules (README "Encoding and segments"):
 * - The text is NFC-normalised first, so a decomposed "é" (e + combining accent) stays GSM-7.
 * - GSM-7 (3GPP TS 23.038 default alphabet + its extension table) when every character is in it;
 *   otherwise UCS-2 (UTF-16BE; characters outside the BMP travel as surrogate pairs, which current
 *   handsets display).
 * - One segment holds 160 septets (GSM-7) or 70 UTF-16 code units (UCS-2). A longer text is split into
 *   segments of 153 septets or 67 code units: 6 octets of each 140-octet segment carry the
 *   concatenation header. An extension character (2 septets) and a surrogate pair are never split.
 * - GSM-7 septets are produced unpacked, one per octet, which is how SMPP carries the SMSC default
 *   alphabet (data_coding 0); the SMSC packs them for the air interface.
 */

export type SmsEncoding = 'gsm7' | 'ucs2';

/** Longest message we accept, in segments. A PIN or a payment confirmation needs one; 10 bounds cost. */
export const SMS_SEGMENTS_MAX = 10;

export const GSM7_SEPTETS_SINGLE = 160;
export const GSM7_SEPTETS_PER_SEGMENT = 153;
export const UCS2_UNITS_SINGLE = 70;
export const UCS2_UNITS_PER_SEGMENT = 67;

/** The GSM 03.38 default alphabet; the index of a character is its septet. 0x1B (escape) is excluded below. */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

const GSM7_ESCAPE = 0x1b;

/** The extension table: each character is sent as escape + this septet (two septets in all). */
const GSM7_EXTENSION: ReadonlyMap<string, number> = new Map([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

const GSM7_BASIC_INDEX: ReadonlyMap<string, number> = new Map(
  // A literal escape character in the text would be read as the start of an extension pair.
  [...GSM7_BASIC]
    .map((char, septet) => [char, septet] as const)
    .filter(([, septet]) => septet !== GSM7_ESCAPE),
);

/** The septets of each character, or undefined when some character is not in GSM-7. */
function gsm7Groups(chars: readonly string[]): number[][] | undefined {
  const groups: number[][] = [];
  for (const char of chars) {
    const basic = GSM7_BASIC_INDEX.get(char);
    const extension = GSM7_EXTENSION.get(char);
    if (basic !== undefined) groups.push([basic]);
    else if (extension !== undefined) groups.push([GSM7_ESCAPE, extension]);
    else return undefined;
  }
  return groups;
}

export interface SmsTextPlan {
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text. */
  readonly units: number;
  readonly segmentCount: number;
  /** The encoded payload of each segment, without any concatenation header. */
  readonly segments: readonly Buffer[];
  /** The whole text encoded, for gateways that send it in one piece (SMPP `message_payload`). */
  readonly encoded: Buffer;
}

export type SmsTextPlanResult =
  | { readonly ok: true; readonly plan: SmsTextPlan }
  | { readonly ok: false; readonly reason: 'empty' | 'too_long'; readonly message: string };

/** Chooses the encoding and splits the text into segments. */
export function planSmsText(text: string): SmsTextPlanResult {
  const normalized = text.normalize('NFC');
  if (normalized.length === 0) return { ok: false, reason: 'empty', message: 'the text is empty' };
  const chars = [...normalized]; // code points, so a surrogate pair is one element
  const gsm = gsm7Groups(chars);
  const encoding: SmsEncoding = gsm === undefined ? 'ucs2' : 'gsm7';
  // Octets of each character; a group is never split across segments.
  const groups = gsm ?? chars.map((char) => [...utf16be(char)]);
  const octetsSingle = encoding === 'gsm7' ? GSM7_SEPTETS_SINGLE : UCS2_UNITS_SINGLE * 2;
  const octetsPerSegment = encoding === 'gsm7' ? GSM7_SEPTETS_PER_SEGMENT : UCS2_UNITS_PER_SEGMENT * 2;
  const encoded = Buffer.from(groups.flat());
  const unitCount = encoding === 'gsm7' ? encoded.length : encoded.length / 2;
  const segments = encoded.length <= octetsSingle ? [encoded] : split(groups, octetsPerSegment);
  if (segments.length > SMS_SEGMENTS_MAX) {
    return {
      ok: false,
      reason: 'too_long',
      message: `the text needs ${segments.length} segments; at most ${SMS_SEGMENTS_MAX} are allowed`,
    };
  }
  return {
    ok: true,
    plan: { encoding, units: unitCount, segmentCount: segments.length, segments, encoded },
  };
}

/** What the outbox needs to bill and limit a message before it is sent. */
export function countSmsSegments(
  text: string,
): { readonly encoding: SmsEncoding; readonly segmentCount: number; readonly units: number } | undefined {
  const result = planSmsText(text);
  if (!result.ok) return undefined;
  const { encoding, segmentCount, units } = result.plan;
  return { encoding, segmentCount, units };
}

/** Packs whole character groups (octets of one character) into segments of at most `octetsMax` octets. */
function split(groups: readonly (readonly number[])[], octetsMax: number): Buffer[] {
  const segments: Buffer[] = [];
  let current: number[] = [];
  for (const group of groups) {
    if (current.length + group.length > octetsMax) {
      segments.push(Buffer.from(current));
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) segments.push(Buffer.from(current));
  return segments;
}

function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** Decodes unpacked GSM-7 septets (the inverse of the GSM-7 branch of `planSmsText`). */
export function decodeGsm7(septets: Uint8Array): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i];
    if (septet === GSM7_ESCAPE) {
      const next = septets[i + 1];
      const extension = [...GSM7_EXTENSION].find(([, value]) => value === next);
      out += extension ? extension[0] : ' ';
      i++;
      continue;
    }
    out += septet === undefined ? '' : (GSM7_BASIC[septet] ?? ' ');
  }
  return out;
}

export function decodeUcs2(octets: Uint8Array): string {
  return Buffer.from(octets).swap16().toString('utf16le');
}

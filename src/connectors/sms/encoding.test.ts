import { describe, expect, it } from 'vitest';
import {
  countSmsSegments,
  decodeGsm7,
  decodeUcs2,
  planSmsText,
  SMS_SEGMENTS_MAX,
  type SmsTextPlan,
} from './encoding.js';
import { parseSender, parseSmsRequest } from './request.js';

function plan(text: string): SmsTextPlan {
  const result = planSmsText(text);
  if (!result.ok) throw new Error(result.message);
  return result.plan;
}

function decode(p: SmsTextPlan, segment: Buffer): string {
  return p.encoding === 'gsm7' ? decodeGsm7(segment) : decodeUcs2(segment);
}

describe('SMS encoding and segments (what the outbox bills)', () => {
  it('uses GSM-7 for the default alphabet, one septet per character, 160 in one segment', () => {
    const text = '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà';
    const p = plan(text);
    expect(p.encoding).toBe('gsm7');
    expect(p.units).toBe([...text].length);
    expect(decodeGsm7(p.encoded)).toBe(text);
    expect(countSmsSegments('a'.repeat(160))).toEqual({ encoding: 'gsm7', segmentCount: 1, units: 160 });
    expect(countSmsSegments('a'.repeat(161))).toEqual({ encoding: 'gsm7', segmentCount: 2, units: 161 });
  });

  it('splits long GSM-7 text into 153-septet segments', () => {
    expect(countSmsSegments('a'.repeat(306))?.segmentCount).toBe(2);
    expect(countSmsSegments('a'.repeat(307))?.segmentCount).toBe(3);
    const p = plan('a'.repeat(400));
    expect(p.segments.map((s) => s.length)).toEqual([153, 153, 94]);
  });

  it('counts an extension character as two septets and never splits one across segments', () => {
    expect(countSmsSegments('€'.repeat(80))).toEqual({ encoding: 'gsm7', segmentCount: 1, units: 160 });
    expect(countSmsSegments('€'.repeat(81))?.segmentCount).toBe(2);
    const text = `${'a'.repeat(152)}€${'b'.repeat(10)}`;
    const p = plan(text);
    expect(p.segments.map((s) => s.length)).toEqual([152, 12]);
    expect(p.segments.map((s) => decodeGsm7(s))).toEqual(['a'.repeat(152), `€${'b'.repeat(10)}`]);
    expect(decodeGsm7(p.encoded)).toBe(text);
  });

  it('uses UCS-2 as soon as one character is outside GSM-7: 70 units single, 67 per segment', () => {
    expect(countSmsSegments('Привет')).toEqual({ encoding: 'ucs2', segmentCount: 1, units: 6 });
    expect(countSmsSegments(`${'a'.repeat(69)}ç`)).toEqual({ encoding: 'ucs2', segmentCount: 1, units: 70 });
    expect(countSmsSegments(`${'a'.repeat(70)}ç`)?.segmentCount).toBe(2);
    expect(countSmsSegments('я'.repeat(134))?.segmentCount).toBe(2);
    expect(countSmsSegments('я'.repeat(135))?.segmentCount).toBe(3);
    const p = plan('Платёж 100 ₽ принят');
    expect(p.encoded.subarray(0, 2)).toEqual(Buffer.from([0x04, 0x1f])); // UTF-16BE "П"
    expect(decodeUcs2(p.encoded)).toBe('Платёж 100 ₽ принят');
  });

  it('keeps a surrogate pair (emoji) in one segment', () => {
    const text = `${'a'.repeat(66)}😀b`;
    const p = plan(text);
    expect(p.units).toBe(69);
    expect(p.segmentCount).toBe(1);
    const long = plan(`${'a'.repeat(66)}😀${'b'.repeat(10)}`);
    expect(long.segments.map((s) => s.length / 2)).toEqual([66, 12]);
    expect(long.segments.map((s) => decode(long, s)).join('')).toBe(`${'a'.repeat(66)}😀${'b'.repeat(10)}`);
  });

  it('normalises to NFC so a decomposed accent stays GSM-7', () => {
    expect(countSmsSegments('Cafe\u0301')).toEqual({ encoding: 'gsm7', segmentCount: 1, units: 4 });
  });

  it('treats a literal escape character as outside GSM-7', () => {
    expect(countSmsSegments('a\u001bb')?.encoding).toBe('ucs2');
  });

  it('refuses empty text and text longer than the segment limit', () => {
    expect(planSmsText('')).toMatchObject({ ok: false, reason: 'empty' });
    expect(countSmsSegments('a'.repeat(153 * SMS_SEGMENTS_MAX))?.segmentCount).toBe(SMS_SEGMENTS_MAX);
    expect(planSmsText('a'.repeat(153 * SMS_SEGMENTS_MAX + 1))).toMatchObject({
      ok: false,
      reason: 'too_long',
    });
  });

  it('round-trips every segment of a long mixed message', () => {
    for (const text of ['Hello {world} ~ [x] | ^ \\ €'.repeat(12), 'Ζ Привет 你好 '.repeat(20)]) {
      const p = plan(text);
      expect(p.segments.map((s) => decode(p, s)).join('')).toBe(text);
    }
  });
});

describe('SMS request parsing', () => {
  it('classifies senders: alphanumeric, short code, international', () => {
    expect(parseSender('Payloom')).toEqual({ kind: 'alphanumeric', value: 'Payloom' });
    expect(parseSender('Pay Loom-1')).toEqual({ kind: 'alphanumeric', value: 'Pay Loom-1' });
    expect(parseSender('1234')).toEqual({ kind: 'short_code', value: '1234' });
    expect(parseSender('4512345678')).toEqual({ kind: 'international', value: '4512345678' });
    expect(parseSender('PayloomPayloom')).toBeUndefined();
    expect(parseSender('12345678901234567')).toBeUndefined();
    expect(parseSender('')).toBeUndefined();
    expect(parseSender('Pay!')).toBeUndefined();
  });

  it('declines bad references, destinations and texts with a message naming the field', () => {
    const base = { reference: 'msg_1', to: '4512345678', from: 'Payloom', text: 'hi' };
    expect(parseSmsRequest(base).ok).toBe(true);
    const bad = (patch: object) => {
      const result = parseSmsRequest({ ...base, ...patch });
      return result.ok ? undefined : result.outcome;
    };
    expect(bad({ reference: '' })?.rawMessage).toMatch(/reference/);
    expect(bad({ reference: 'r'.repeat(129) })?.rawMessage).toMatch(/reference/);
    expect(bad({ to: '+4512345678' })?.rawMessage).toMatch(/^to /);
    expect(bad({ text: '' })).toMatchObject({ status: 'declined', rawMessage: 'text: the text is empty' });
  });
});

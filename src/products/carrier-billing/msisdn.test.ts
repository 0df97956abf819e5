import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors/errors.js';
import { callingCodeOf, isCountryCode, parseMsisdn } from './msisdn.js';

function rejection(input: unknown, field?: string): AppError {
  try {
    parseMsisdn(input, field);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`${String(input)} was accepted`);
}

describe('parseMsisdn', () => {
  it('accepts international digits with or without + or 00, and JSON integers', () => {
    for (const input of ['447400123456', '+447400123456', '00447400123456', ' 447400123456 ', 447400123456]) {
      expect(parseMsisdn(input)).toEqual({ msisdn: '447400123456', country: 'GB' });
    }
  });

  it('gives the numbering region of real mobiles in several countries', () => {
    expect(parseMsisdn('971500000000')).toEqual({ msisdn: '971500000000', country: 'AE' });
    expect(parseMsisdn('4915112345678').country).toBe('DE');
    expect(parseMsisdn('33612345678').country).toBe('FR');
    expect(parseMsisdn('447624123456').country).toBe('IM');
    // North American numbers cannot be told apart: fixed line or mobile is accepted.
    expect(parseMsisdn('+14155552671').country).toBe('US');
  });

  it('accepts the whole sandbox UK ranges 447700900000-447700901999 as GB mobiles', () => {
    for (const msisdn of ['447700900000', '447700900123', '447700900999', '447700901000', '447700901999']) {
      expect(parseMsisdn(msisdn)).toEqual({ msisdn, country: 'GB' });
      expect(parseMsisdn(`+${msisdn}`).msisdn).toBe(msisdn);
      expect(parseMsisdn(Number(msisdn)).msisdn).toBe(msisdn);
    }
  });

  it('accepts no other Ofcom drama number (the library calls them invalid)', () => {
    expect(rejection('447700902000').message).toMatch(/not a valid phone number/);
    expect(rejection('447700900').message).toMatch(/not a valid phone number/);
    expect(rejection('4477009001234').message).toMatch(/not a valid phone number/);
  });

  it('refuses numbers the library knows are not mobiles', () => {
    expect(rejection('442071234567').message).toMatch(/not a mobile number \(fixed line\)/);
    expect(rejection('448001234567').message).toMatch(/toll free/);
    expect(rejection('447012345678').message).toMatch(/personal number/);
    expect(rejection('445612345678').message).toMatch(/voip/);
  });

  it('refuses letters, separators, national forms, bad lengths and other types', () => {
    const cases: unknown[] = [
      '44770090012a',
      'abc',
      '+44 7400 123456',
      '44-7400-123456',
      '07400123456',
      '+0447400123456',
      '++447400123456',
      '123456',
      '1234567890123456',
      '',
      '+',
      '4407400123456',
      '9'.repeat(40),
      -447400123456,
      0,
      4.474001234565e11,
      Number.MAX_SAFE_INTEGER * 2,
      null,
      undefined,
      true,
      ['447400123456'],
      { mx: '447400123456' },
    ];
    for (const input of cases) {
      const error = rejection(input);
      expect(error.code, JSON.stringify(input)).toBe('validation_failed');
      expect(error.field).toBe('mx');
      expect(error.errors).toEqual([{ field: 'mx', message: error.message }]);
    }
  });

  it('names the field it was given', () => {
    expect(rejection('nope', '/msisdn').field).toBe('/msisdn');
    expect(rejection('nope', '/msisdn').message).toMatch(/^\/msisdn /);
  });

  it('asks for the international form when a national trunk 0 follows the country code', () => {
    expect(rejection('4407400123456').message).toMatch(/not in international form \(expected 447400123456\)/);
  });
});

describe('country codes', () => {
  it('knows ISO alpha-2 regions and their calling codes', () => {
    expect(isCountryCode('GB')).toBe(true);
    expect(isCountryCode('GG')).toBe(true);
    expect(isCountryCode('gb')).toBe(false);
    expect(isCountryCode('XX')).toBe(false);
    expect(isCountryCode('GBR')).toBe(false);
    expect(callingCodeOf('GB')).toBe('44');
    expect(callingCodeOf('AE')).toBe('971');
  });
});

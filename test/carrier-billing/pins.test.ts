import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../../src/core/db/db.js';
import type { Environment } from '../../src/core/db/schema.js';
import { Secret } from '../../src/core/secrets/secrets.js';
import {
  findOpenPinSession,
  generatePin,
  getPinSession,
  readMsisdnPinState,
  unlockMsisdn,
  verifyPin,
  type GeneratePinInput,
  type GeneratePinResult,
  type PinSession,
  type VerifyPinInput,
  type VerifyPinResult,
} from '../../src/products/carrier-billing/pins.js';
import { startTestApp, type TestApp } from '../harness.js';

// The PIN repository against a real database (PGlite always, PostgreSQL with TEST_DATABASE_URL). Time is
// the `now` each call is given: a fake clock, no sleeps.

let t: TestApp;
let merchantA: string;
let merchantB: string;
beforeAll(async () => {
  t = await startTestApp();
  merchantA = (await t.createMerchant('PIN merchant A')).id;
  merchantB = (await t.createMerchant('PIN merchant B')).id;
});
afterAll(async () => t.close());

const db = () => t.database.handle.db;
const pepper = new Secret('integration-test-pepper-0123456789abcdef');
const start = new Date('2031-03-01T12:00:00.000Z');
/** The fake clock: `start` plus some seconds. */
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);

let msisdnSeq = 0;
/** Limits count per MSISDN across merchants, so every test takes numbers of its own. */
const freshMsisdn = () => `4477009${String(++msisdnSeq).padStart(5, '0')}`;

function generate(input: Partial<GeneratePinInput> & { msisdn: string }) {
  return generatePin(db(), {
    merchantId: merchantA,
    environment: 'sandbox',
    productId: 'prod-1',
    amountMinor: 150n,
    currency: 'GBP',
    description: 'Game credits',
    language: 'en',
    pinLength: 6,
    pepper,
    now: start,
    ...input,
  });
}

async function issue(input: Partial<GeneratePinInput> & { msisdn: string }) {
  const result = await generate(input);
  if (!result.ok) throw new Error(`generatePin refused: ${result.reason}`);
  return { session: result.session, pin: result.pin.reveal() };
}

function verify(session: PinSession, pin: string, input: Partial<VerifyPinInput> = {}) {
  return verifyPin(db(), {
    merchantId: session.merchantId,
    environment: session.environment,
    pinId: session.id,
    pin,
    pepper,
    now: session.createdAt,
    consume: true,
    ...input,
  });
}

const reasonOf = (result: VerifyPinResult | GeneratePinResult): string => (result.ok ? 'ok' : result.reason);

/** Another PIN of the same length (last digit changed). */
const wrong = (pin: string) => `${pin.slice(0, -1)}${(Number(pin.slice(-1)) + 1) % 10}`;

async function guessWrong(session: PinSession, pin: string, times: number, now: Date) {
  const results = [];
  for (let i = 0; i < times; i++) results.push(await verify(session, wrong(pin), { now }));
  return results;
}

async function storedRow(id: string) {
  const { rows } = await sql<Record<string, unknown>>`SELECT * FROM pin_sessions WHERE id = ${id}`.execute(
    db(),
  );
  return rows[0];
}

describe('generatePin', () => {
  it('creates a session bound to merchant, environment, MSISDN, product, amount and currency, valid 5 minutes', async () => {
    const msisdn = freshMsisdn();
    const result = await generate({ msisdn, now: at(0) });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.session).toMatchObject({
      merchantId: merchantA,
      environment: 'sandbox',
      msisdn,
      productId: 'prod-1',
      amountMinor: 150n,
      currency: 'GBP',
      description: 'Game credits',
      language: 'en',
      attempts: 0,
      attemptsMax: 5,
      usedAt: null,
    });
    expect(result.session.id).toMatch(/^pin_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(result.session.createdAt).toEqual(at(0));
    expect(result.session.expiresAt).toEqual(at(300));
    expect(result.pin.reveal()).toMatch(/^\d{6}$/);
    // The PIN cannot reach a log by accident.
    expect(JSON.stringify({ pin: result.pin })).toBe('{"pin":"[redacted]"}');
    expect(String(result.pin)).toBe('[redacted]');
  });

  it('stores only a 32-byte keyed hash: the PIN is in no column', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    const row = await storedRow(session.id);
    const hash = Buffer.from(row?.pin_hash as Uint8Array);
    expect(hash).toHaveLength(32);
    expect(hash.equals(Buffer.from(pin, 'utf8'))).toBe(false);
    for (const [column, value] of Object.entries(row ?? {})) {
      if (column === 'pin_hash') continue;
      expect(String(value)).not.toBe(pin);
    }
  });

  it('makes PINs of the carrier length, 4 and 8 digits, that verify', async () => {
    for (const pinLength of [4, 8]) {
      const { session, pin } = await issue({ msisdn: freshMsisdn(), pinLength });
      expect(pin).toMatch(new RegExp(`^\\d{${pinLength}}$`));
      expect(await verify(session, pin)).toMatchObject({ ok: true });
    }
  });

  it('refuses a 4th PIN for an MSISDN within 10 minutes (across merchants), until the first leaves the window', async () => {
    const msisdn = freshMsisdn();
    await issue({ msisdn, now: at(0) });
    await issue({ msisdn, now: at(60), merchantId: merchantB });
    await issue({ msisdn, now: at(120) });
    expect(await generate({ msisdn, now: at(180) })).toEqual({
      ok: false,
      reason: 'too_many_pins',
      retryAt: at(600),
    });
    expect(await generate({ msisdn, now: at(599.999), merchantId: merchantB })).toMatchObject({
      ok: false,
      reason: 'too_many_pins',
    });
    // The other environment keeps its own count.
    expect(await generate({ msisdn, now: at(180), environment: 'production' })).toMatchObject({ ok: true });
    expect(await generate({ msisdn, now: at(600) })).toMatchObject({ ok: true });
  });

  it('refuses an 11th PIN for an MSISDN within 24 hours (rolling), until the first leaves the window', async () => {
    const msisdn = freshMsisdn();
    // Three every ten minutes, ten in all.
    for (let i = 0; i < 10; i++) await issue({ msisdn, now: at(Math.floor(i / 3) * 600 + (i % 3)) });
    const day = 86_400;
    expect(await generate({ msisdn, now: at(3 * 600 + 60) })).toEqual({
      ok: false,
      reason: 'too_many_pins_today',
      retryAt: at(day),
    });
    expect(await generate({ msisdn, now: at(day - 0.001) })).toMatchObject({
      ok: false,
      reason: 'too_many_pins_today',
    });
    expect(await generate({ msisdn, now: at(day) })).toMatchObject({ ok: true });
  });

  it('counts nothing for a PIN whose transaction rolled back (its SMS was not queued either)', async () => {
    const msisdn = freshMsisdn();
    await expect(
      transaction(db(), async (tx) => {
        for (let i = 0; i < 3; i++) expect(await generatePinIn(tx, msisdn)).toMatchObject({ ok: true });
        throw new Error('SMS outbox refused');
      }),
    ).rejects.toThrow('SMS outbox refused');
    const { rows } = await sql<{
      n: bigint;
    }>`SELECT count(*) AS n FROM pin_sessions WHERE msisdn = ${msisdn}`.execute(db());
    expect(rows[0]?.n).toBe(0n);
    for (let i = 0; i < 3; i++) await issue({ msisdn });
  });

  it('takes exactly the limit when 10 generates for one MSISDN race', async () => {
    const msisdn = freshMsisdn();
    const results = await Promise.all(Array.from({ length: 10 }, () => generate({ msisdn, now: at(0) })));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).map(reasonOf)).toEqual(
      Array.from({ length: 7 }, () => 'too_many_pins'),
    );
  });
});

function generatePinIn(tx: Parameters<typeof generatePin>[0], msisdn: string) {
  return generatePin(tx, {
    merchantId: merchantA,
    environment: 'sandbox',
    msisdn,
    productId: 'prod-1',
    amountMinor: 150n,
    currency: 'GBP',
    description: 'Game credits',
    language: 'en',
    pinLength: 6,
    pepper,
    now: start,
  });
}

describe('verifyPin', () => {
  it('accepts the right PIN once when consuming; the next use is pin_used', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    const first = await verify(session, pin, { now: at(10) });
    expect(first).toMatchObject({ ok: true, session: { id: session.id, usedAt: at(10) } });
    expect(await verify(session, pin, { now: at(11) })).toEqual({ ok: false, reason: 'pin_used' });
    expect(await verify(session, wrong(pin), { now: at(11) })).toEqual({ ok: false, reason: 'pin_used' });
  });

  it('checks without spending when not consuming; a later consuming check spends it', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    expect(await verify(session, pin, { consume: false })).toMatchObject({
      ok: true,
      session: { usedAt: null },
    });
    expect(await verify(session, pin, { consume: false })).toMatchObject({ ok: true });
    expect(await verify(session, pin, { consume: true })).toMatchObject({ ok: true });
    expect(await verify(session, pin, { consume: false })).toEqual({ ok: false, reason: 'pin_used' });
  });

  it('expires exactly 5 minutes after generation, and an expired guess counts no attempt', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn(), now: at(0) });
    expect(await verify(session, pin, { now: at(299.999), consume: false })).toMatchObject({ ok: true });
    expect(await verify(session, pin, { now: at(300) })).toEqual({ ok: false, reason: 'pin_expired' });
    expect(await verify(session, wrong(pin), { now: at(300) })).toEqual({ ok: false, reason: 'pin_expired' });
    expect((await storedRow(session.id))?.attempts).toBe(0);
  });

  it('takes 5 wrong PINs, then refuses even the right one with attempts_exceeded', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    const results = await guessWrong(session, pin, 5, at(1));
    expect(results).toEqual(
      [4, 3, 2, 1, 0].map((left) => ({ ok: false, reason: 'pin_invalid', attemptsLeft: left })),
    );
    expect(await verify(session, pin, { now: at(2) })).toEqual({
      ok: false,
      reason: 'attempts_exceeded',
      attemptsLeft: 0,
    });
    expect((await storedRow(session.id))?.attempts).toBe(5);
  });

  it('is not_found for an unknown or malformed id, for another merchant and for the other environment', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    const notFound = { ok: false, reason: 'not_found' };
    expect(await verify(session, pin, { pinId: 'pin_0000000000000000000000000Z' })).toEqual(notFound);
    expect(await verify(session, pin, { pinId: 'pin_; DROP TABLE pin_sessions' })).toEqual(notFound);
    expect(await verify(session, pin, { merchantId: merchantB })).toEqual(notFound);
    expect(await verify(session, pin, { environment: 'production' satisfies Environment })).toEqual(notFound);
    expect(
      await getPinSession(db(), { merchantId: merchantB, environment: 'sandbox', pinId: session.id }),
    ).toBe(undefined);
    // None of those touched the session: the right PIN still works.
    expect(await verify(session, pin)).toMatchObject({ ok: true });
  });

  it('is session_mismatch when the MSISDN, product, amount or currency differ, without counting an attempt', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    const cases: Array<[Partial<VerifyPinInput>, string]> = [
      [{ msisdn: '447700999999' }, 'msisdn'],
      [{ productId: 'prod-2' }, 'productId'],
      [{ amountMinor: 50_000n }, 'amountMinor'],
      [{ currency: 'EUR' }, 'currency'],
    ];
    for (const [binding, field] of cases) {
      expect(await verify(session, pin, binding)).toEqual({
        ok: false,
        reason: 'session_mismatch',
        mismatch: field,
      });
    }
    expect((await storedRow(session.id))?.attempts).toBe(0);
    expect(
      await verify(session, pin, {
        msisdn: session.msisdn,
        productId: 'prod-1',
        amountMinor: 150n,
        currency: 'GBP',
      }),
    ).toMatchObject({ ok: true });
  });

  it('refuses to run inside a transaction (a rollback would forget wrong PINs)', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    await expect(
      transaction(db(), (tx) =>
        verifyPin(tx, {
          merchantId: merchantA,
          environment: 'sandbox',
          pinId: session.id,
          pin,
          pepper,
          now: start,
          consume: true,
        }),
      ),
    ).rejects.toThrow(/outside a transaction/);
  });
});

describe('MSISDN lockout', () => {
  it('locks the MSISDN for 30 minutes at 20 consecutive wrong PINs across sessions, then lets it go', async () => {
    const msisdn = freshMsisdn();
    const roomy = { perMsisdnPer10Minutes: 10 };
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await issue({ msisdn, now: at(i), limits: roomy }));
    const [s1, s2, s3, s4, s5] = sessions;
    if (!s1 || !s2 || !s3 || !s4 || !s5) throw new Error('sessions missing');
    for (const s of [s1, s2, s3]) await guessWrong(s.session, s.pin, 5, at(10));
    const last = await guessWrong(s4.session, s4.pin, 5, at(20));
    expect(last.slice(0, 4).map(reasonOf)).toEqual([
      'pin_invalid',
      'pin_invalid',
      'pin_invalid',
      'pin_invalid',
    ]);
    const lockedUntil = at(20 + 1800);
    expect(last[4]).toEqual({ ok: false, reason: 'msisdn_locked', lockedUntil, attemptsLeft: 0 });
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(21) })).toEqual({
      consecutiveFailures: 20,
      lastFailureAt: at(20),
      lockedUntil,
    });

    // Locked: every generate and every verify, whatever the session, merchant or PIN.
    expect(await generate({ msisdn, now: at(30), merchantId: merchantB })).toEqual({
      ok: false,
      reason: 'msisdn_locked',
      lockedUntil,
    });
    expect(await verify(s5.session, s5.pin, { now: at(30) })).toEqual({
      ok: false,
      reason: 'msisdn_locked',
      lockedUntil,
      attemptsLeft: 5,
    });
    expect((await storedRow(s5.session.id))?.used_at).toBe(null);
    // The other environment is not locked.
    expect(await generate({ msisdn, now: at(30), environment: 'production' })).toMatchObject({ ok: true });

    expect(await generate({ msisdn, now: at(20 + 1799.999) })).toMatchObject({ reason: 'msisdn_locked' });
    const after = await issue({ msisdn, now: at(20 + 1800) });
    // The served lock ends the streak: the next wrong PIN starts a new one instead of locking again.
    expect(await verify(after.session, wrong(after.pin), { now: at(20 + 1801) })).toEqual({
      ok: false,
      reason: 'pin_invalid',
      attemptsLeft: 4,
    });
    expect(
      await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(20 + 1801) }),
    ).toMatchObject({
      consecutiveFailures: 1,
      lockedUntil: null,
    });
    expect(await verify(after.session, after.pin, { now: at(20 + 1802) })).toMatchObject({ ok: true });
  });

  it('a right PIN resets the streak: 19 wrong, 1 right, 19 wrong do not lock', async () => {
    const msisdn = freshMsisdn();
    const roomy = { perMsisdnPer10Minutes: 10 };
    const issueAt = (s: number) => issue({ msisdn, now: at(s), limits: roomy });
    const burn = async (count: number, s: number) => {
      while (count > 0) {
        const { session, pin } = await issueAt(s);
        const n = Math.min(count, 5);
        for (const r of await guessWrong(session, pin, n, at(s + 1))) expect(reasonOf(r)).toBe('pin_invalid');
        count -= n;
      }
    };
    await burn(19, 0);
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(2) })).toMatchObject({
      consecutiveFailures: 19,
    });
    const good = await issueAt(2);
    expect(await verify(good.session, good.pin, { now: at(3) })).toMatchObject({ ok: true });
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(3) })).toMatchObject({
      consecutiveFailures: 0,
    });
    // A new day's budget, so the second streak can be issued.
    await burn(19, 86_400);
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(86_402) })).toEqual({
      consecutiveFailures: 19,
      lastFailureAt: at(86_401),
      lockedUntil: null,
    });
  });

  it('a streak with no failure for 24 hours starts again', async () => {
    const msisdn = freshMsisdn();
    const a = await issue({ msisdn, now: at(0) });
    await guessWrong(a.session, a.pin, 5, at(1));
    const b = await issue({ msisdn, now: at(1 + 86_400) });
    await guessWrong(b.session, b.pin, 1, at(1 + 86_400));
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(86_402) })).toMatchObject(
      {
        consecutiveFailures: 1,
      },
    );
  });

  it('an operator unlock lifts the lock and clears the streak at once', async () => {
    const msisdn = freshMsisdn();
    const strict = { consecutiveFailuresMax: 2 };
    const { session, pin } = await issue({ msisdn });
    expect(await verify(session, wrong(pin), { limits: strict })).toMatchObject({ reason: 'pin_invalid' });
    expect(await verify(session, wrong(pin), { limits: strict })).toMatchObject({ reason: 'msisdn_locked' });
    expect(await verify(session, pin, { limits: strict })).toMatchObject({ reason: 'msisdn_locked' });
    expect(await unlockMsisdn(db(), { environment: 'sandbox', msisdn })).toBe(true);
    expect(await unlockMsisdn(db(), { environment: 'sandbox', msisdn })).toBe(false);
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: start })).toEqual({
      consecutiveFailures: 0,
      lastFailureAt: null,
      lockedUntil: null,
    });
    expect(await verify(session, pin, { limits: strict })).toMatchObject({ ok: true });
  });
});

describe('concurrency', () => {
  it('50 concurrent consuming verifications of the right PIN: exactly one ok, the rest pin_used', async () => {
    const { session, pin } = await issue({ msisdn: freshMsisdn() });
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(session, pin, { now: at(5) })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(
      Array.from({ length: 49 }, () => ({ ok: false, reason: 'pin_used' })),
    );
  });

  it('50 concurrent wrong guesses on one PIN: exactly 5 are evaluated, none is lost', async () => {
    const msisdn = freshMsisdn();
    const { session, pin } = await issue({ msisdn });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => verify(session, wrong(pin), { now: at(5) })),
    );
    const reasons = results.map(reasonOf);
    expect(reasons.filter((r) => r === 'pin_invalid')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'attempts_exceeded')).toHaveLength(45);
    expect((await storedRow(session.id))?.attempts).toBe(5);
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(5) })).toMatchObject({
      consecutiveFailures: 5,
    });
  });

  it('20 concurrent wrong guesses over 4 sessions lock the MSISDN exactly at the 20th', async () => {
    const msisdn = freshMsisdn();
    const sessions = [];
    for (let i = 0; i < 4; i++)
      sessions.push(await issue({ msisdn, now: at(i), limits: { perMsisdnPer10Minutes: 4 } }));
    const guesses = sessions.flatMap(({ session, pin }) =>
      Array.from({ length: 5 }, () => verify(session, wrong(pin), { now: at(10) })),
    );
    const reasons = (await Promise.all(guesses)).map(reasonOf);
    expect(reasons.filter((r) => r === 'pin_invalid')).toHaveLength(19);
    expect(reasons.filter((r) => r === 'msisdn_locked')).toHaveLength(1);
    expect(await readMsisdnPinState(db(), { environment: 'sandbox', msisdn, now: at(10) })).toEqual({
      consecutiveFailures: 20,
      lastFailureAt: at(10),
      lockedUntil: at(10 + 1800),
    });
  });
});

describe('findOpenPinSession', () => {
  it('finds the newest unused, unexpired session of a payer for a product of this merchant', async () => {
    const msisdn = freshMsisdn();
    const older = await issue({ msisdn, now: at(0) });
    const newer = await issue({ msisdn, now: at(1) });
    await issue({ msisdn, now: at(2), productId: 'prod-other' });
    const find = (now: Date, merchantId = merchantA) =>
      findOpenPinSession(db(), { merchantId, environment: 'sandbox', msisdn, productId: 'prod-1', now });
    expect((await find(at(3)))?.id).toBe(newer.session.id);
    expect(await verify(newer.session, newer.pin, { now: at(3) })).toMatchObject({ ok: true });
    expect((await find(at(3)))?.id).toBe(older.session.id);
    expect(await find(at(3), merchantB)).toBe(undefined);
    expect(await find(at(300))).toBe(undefined);
  });
});

import { sql, type ColumnType, type Kysely, type Selectable } from 'kysely';
import { transaction, type Db, type Executor } from '../../core/db/db.js';
import type { Database, Environment } from '../../core/db/schema.js';
import { assert } from '../../core/errors/errors.js';
import { Secret } from '../../core/secrets/secrets.js';
import {
  generatePinCode,
  isPinLength,
  isPinSessionId,
  newPinSessionId,
  pinHash,
  pinMatches,
  resolvePinLimits,
  type PinLimits,
} from './pin-codes.js';

export {
  defaultPinLimits,
  pinLengthDefault,
  pinLengthMax,
  pinLengthMin,
  type PinLimits,
} from './pin-codes.js';

/**
 * The PIN repository of carrier billing (issue 4, part 3; reliability.md B7). A PIN session binds a
 * one-time PIN to (merchant, environment, MSISDN, product, amount, currency, description, language).
 *
 * Time: every function takes `now` from the caller's clock and every time these rules decide is stored
 * and compared from it, never from the database's now(), so tests and sandbox test clocks move it.
 *
 * Transactions: `generatePin` joins the caller's transaction (so the session and its PIN SMS commit
 * together) or opens one. `verifyPin` refuses a transaction and runs its own one-statement transactions,
 * so a wrong PIN stays counted even when the caller's work rolls back afterwards.
 */

// Table types, here until they move to core/db/schema.ts (see README-pins.md).
type RequiredTimestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface PinSessionsTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  msisdn: string;
  product_id: string;
  amount_minor: bigint;
  currency: string;
  description: string;
  language: string;
  pin_hash: Buffer;
  attempts: ColumnType<number, number | undefined, number>;
  attempts_max: number;
  expires_at: RequiredTimestamp;
  used_at: NullableTimestamp;
  created_at: RequiredTimestamp;
}

export interface MsisdnPinStateTable {
  environment: Environment;
  msisdn: string;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  last_failure_at: NullableTimestamp;
  locked_until: NullableTimestamp;
  updated_at: RequiredTimestamp;
}

type PinDatabase = Database & { pin_sessions: PinSessionsTable; msisdn_pin_state: MsisdnPinStateTable };
type PinSessionRow = Selectable<PinSessionsTable>;

function pinDb(db: Executor): Kysely<PinDatabase> {
  return db as unknown as Kysely<PinDatabase>;
}

/** Field limits of a session, as the table's CHECKs say; the dialect validates input against them first. */
export const pinProductIdLengthMax = 64;
export const pinDescriptionLengthMax = 255;
export const pinLanguageLengthMax = 35;
const msisdnPattern = /^[1-9]\d{6,14}$/;

const tenMinutesMs = 600_000;
const dayMs = 86_400_000;

export interface PinSession {
  readonly id: string;
  readonly merchantId: string;
  readonly environment: Environment;
  readonly msisdn: string;
  readonly productId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly description: string;
  readonly language: string;
  /** Wrong PINs counted so far. */
  readonly attempts: number;
  /** Wrong PINs this session accepts for evaluation (the limit when it was created). */
  readonly attemptsMax: number;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly createdAt: Date;
}

function toPinSession(row: PinSessionRow): PinSession {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    environment: row.environment,
    msisdn: row.msisdn,
    productId: row.product_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    description: row.description,
    language: row.language,
    attempts: row.attempts,
    attemptsMax: row.attempts_max,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    createdAt: row.created_at,
  };
}

// ---------------------------------------------------------------------------------------------------
// Generate

export interface GeneratePinInput {
  readonly merchantId: string;
  readonly environment: Environment;
  /** International digits, no `+` (e.g. 447700900123). */
  readonly msisdn: string;
  readonly productId: string;
  readonly amountMinor: bigint;
  /** ISO 4217, upper case. */
  readonly currency: string;
  readonly description: string;
  readonly language: string;
  /** The carrier's PIN length, 4-8. */
  readonly pinLength: number;
  readonly pepper: Secret;
  readonly now: Date;
  readonly limits?: Partial<PinLimits>;
}

export type GeneratePinResult =
  | { readonly ok: true; readonly session: PinSession; readonly pin: Secret }
  | { readonly ok: false; readonly reason: 'msisdn_locked'; readonly lockedUntil: Date }
  | {
      readonly ok: false;
      readonly reason: 'too_many_pins' | 'too_many_pins_today';
      /** When the window will have room again (for `Retry-After`). */
      readonly retryAt: Date;
    };

/**
 * Creates a PIN session and returns the PIN (to put in the SMS, never to log or store). Refuses while the
 * MSISDN is locked, and over the per-MSISDN limits: both rolling windows (10 minutes, 24 hours) count the
 * PINs of every merchant in this environment, because they protect the phone's owner.
 *
 * Runs in the caller's transaction when given one (the session commits with its SMS, or neither does);
 * given the database, it opens its own. A transaction-scoped advisory lock per (environment, MSISDN)
 * serialises concurrent generates, so two requests cannot both take the last PIN of a window.
 */
export async function generatePin(db: Executor, input: GeneratePinInput): Promise<GeneratePinResult> {
  const limits = resolvePinLimits(input.limits);
  assertGenerateInput(input);
  if (db.isTransaction) return generateInTransaction(db, input, limits);
  return transaction(db, (tx) => generateInTransaction(tx, input, limits));
}

function assertGenerateInput(input: GeneratePinInput): void {
  assert(msisdnPattern.test(input.msisdn), 'PIN MSISDN must be 7-15 international digits');
  assert(isPinLength(input.pinLength), `PIN length ${input.pinLength} not in 4-8`);
  assert(typeof input.amountMinor === 'bigint' && input.amountMinor > 0n, 'PIN amount must be positive');
  assert(/^[A-Z]{3}$/.test(input.currency), 'PIN currency must be an ISO 4217 code');
  assert(
    input.productId.length >= 1 && input.productId.length <= pinProductIdLengthMax,
    'PIN productId length out of range',
  );
  assert(
    input.description.length >= 1 && input.description.length <= pinDescriptionLengthMax,
    'PIN description length out of range',
  );
  assert(
    input.language.length >= 2 && input.language.length <= pinLanguageLengthMax,
    'PIN language length out of range',
  );
  assert(!Number.isNaN(input.now.getTime()), 'PIN now is not a valid date');
}

async function generateInTransaction(
  tx: Executor,
  input: GeneratePinInput,
  limits: PinLimits,
): Promise<GeneratePinResult> {
  const { environment, msisdn, now } = input;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`pin:${environment}:${msisdn}`}))`.execute(tx);

  const tenMinutesAgo = new Date(now.getTime() - tenMinutesMs);
  const dayAgo = new Date(now.getTime() - dayMs);
  const { rows } = await sql<{ locked_until: Date | null; recent: bigint; today: bigint }>`
    SELECT (SELECT locked_until FROM msisdn_pin_state
             WHERE environment = ${environment} AND msisdn = ${msisdn}
               AND locked_until > ${now}::timestamptz) AS locked_until,
           (SELECT count(*) FROM pin_sessions
             WHERE environment = ${environment} AND msisdn = ${msisdn}
               AND created_at > ${tenMinutesAgo}::timestamptz) AS recent,
           (SELECT count(*) FROM pin_sessions
             WHERE environment = ${environment} AND msisdn = ${msisdn}
               AND created_at > ${dayAgo}::timestamptz) AS today`.execute(tx);
  const state = rows[0];
  assert(state, 'the PIN limit query returned no row');
  if (state.locked_until) return { ok: false, reason: 'msisdn_locked', lockedUntil: state.locked_until };
  // The day is checked first: when both are full, the later retry time is the honest one.
  if (Number(state.today) >= limits.perMsisdnPerDay) {
    const retryAt = await windowReopensAt(tx, input, dayAgo, limits.perMsisdnPerDay, dayMs);
    return { ok: false, reason: 'too_many_pins_today', retryAt };
  }
  if (Number(state.recent) >= limits.perMsisdnPer10Minutes) {
    const retryAt = await windowReopensAt(
      tx,
      input,
      tenMinutesAgo,
      limits.perMsisdnPer10Minutes,
      tenMinutesMs,
    );
    return { ok: false, reason: 'too_many_pins', retryAt };
  }

  const id = newPinSessionId(now.getTime());
  const pin = generatePinCode(input.pinLength);
  const row = await pinDb(tx)
    .insertInto('pin_sessions')
    .values({
      merchant_id: input.merchantId,
      id,
      environment,
      msisdn,
      product_id: input.productId,
      amount_minor: input.amountMinor,
      currency: input.currency,
      description: input.description,
      language: input.language,
      pin_hash: pinHash(input.pepper, id, pin),
      attempts_max: limits.attemptsMax,
      expires_at: new Date(now.getTime() + limits.ttlSeconds * 1000),
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ok: true, session: toPinSession(row), pin: new Secret(pin) };
}

/** The window has room again when its `limit`-th newest PIN leaves it. */
async function windowReopensAt(
  tx: Executor,
  input: GeneratePinInput,
  since: Date,
  limit: number,
  windowMs: number,
): Promise<Date> {
  const row = await pinDb(tx)
    .selectFrom('pin_sessions')
    .select('created_at')
    .where('environment', '=', input.environment)
    .where('msisdn', '=', input.msisdn)
    .where('created_at', '>', since)
    .orderBy('created_at', 'desc')
    .offset(limit - 1)
    .limit(1)
    .executeTakeFirst();
  return new Date((row?.created_at.getTime() ?? input.now.getTime()) + windowMs);
}

// ---------------------------------------------------------------------------------------------------
// Verify

export interface VerifyPinInput {
  readonly merchantId: string;
  readonly environment: Environment;
  readonly pinId: string;
  /** What the payer typed. */
  readonly pin: string;
  /** When given, must equal the session's; a difference is `session_mismatch` and no attempt is counted. */
  readonly msisdn?: string | undefined;
  readonly productId?: string | undefined;
  readonly amountMinor?: bigint | undefined;
  readonly currency?: string | undefined;
  readonly pepper: Secret;
  readonly now: Date;
  /**
   * `true` spends the PIN atomically with the check (SendBillWithPin, and PinValidateWithParams, which
   * starts a free period and so uses the PIN up too). `false` checks without spending it.
   */
  readonly consume: boolean;
  readonly limits?: Partial<PinLimits>;
}

export type VerifyPinRejectionReason =
  | 'not_found'
  | 'pin_invalid'
  | 'pin_expired'
  | 'pin_used'
  | 'attempts_exceeded'
  | 'msisdn_locked'
  | 'session_mismatch';

export type PinBindingField = 'msisdn' | 'productId' | 'amountMinor' | 'currency';

export type VerifyPinResult =
  | { readonly ok: true; readonly session: PinSession }
  | {
      readonly ok: false;
      readonly reason: VerifyPinRejectionReason;
      /** Wrong PINs this session still accepts (with `pin_invalid`, `attempts_exceeded`, `msisdn_locked`). */
      readonly attemptsLeft?: number;
      readonly lockedUntil?: Date;
      /** Which binding differed (with `session_mismatch`). */
      readonly mismatch?: PinBindingField;
    };

/**
 * Checks a PIN against its session. The session is looked up by id, merchant and environment (another
 * merchant's or environment's id is `not_found`). Checks, in order: binding (`session_mismatch`), MSISDN
 * lock, used, expired (at `expires_at` exactly), attempts; then the HMAC digests are compared in constant
 * time. A right PIN resets the MSISDN's failure streak; a wrong one counts against the session and the
 * streak, and the failure that completes the streak locks the MSISDN (answered `msisdn_locked`).
 *
 * Every decision that changes state is one guarded statement, so concurrent verifications agree: of any
 * number of consuming verifications of one PIN exactly one is `ok`, and the others see `pin_used`.
 */
export async function verifyPin(db: Db, input: VerifyPinInput): Promise<VerifyPinResult> {
  assert(!db.isTransaction, 'verifyPin must run outside a transaction so that wrong PINs stay counted');
  assert(!Number.isNaN(input.now.getTime()), 'PIN now is not a valid date');
  const limits = resolvePinLimits(input.limits);
  if (!isPinSessionId(input.pinId)) return { ok: false, reason: 'not_found' };

  const found = await readSession(db, input);
  if (!found) return { ok: false, reason: 'not_found' };
  const { session, hash, lockedUntil } = found;
  const mismatch = bindingMismatch(session, input);
  if (mismatch) return { ok: false, reason: 'session_mismatch', mismatch };
  const closed = closedReason(session, lockedUntil, input.now);
  if (closed) return closed;

  if (pinMatches(hash, input.pepper, session.id, input.pin)) return acceptPin(db, session, input);
  return recordWrongPin(db, session, input, limits);
}

async function readSession(
  db: Executor,
  input: Pick<VerifyPinInput, 'merchantId' | 'environment' | 'pinId'>,
): Promise<{ session: PinSession; hash: Buffer; lockedUntil: Date | null } | undefined> {
  const row = await pinDb(db)
    .selectFrom('pin_sessions as s')
    .leftJoin('msisdn_pin_state as st', (join) =>
      join.onRef('st.environment', '=', 's.environment').onRef('st.msisdn', '=', 's.msisdn'),
    )
    .selectAll('s')
    .select('st.locked_until')
    .where('s.merchant_id', '=', input.merchantId)
    .where('s.environment', '=', input.environment)
    .where('s.id', '=', input.pinId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { session: toPinSession(row), hash: Buffer.from(row.pin_hash), lockedUntil: row.locked_until };
}

function bindingMismatch(session: PinSession, input: VerifyPinInput): PinBindingField | undefined {
  if (input.msisdn !== undefined && input.msisdn !== session.msisdn) return 'msisdn';
  if (input.productId !== undefined && input.productId !== session.productId) return 'productId';
  if (input.amountMinor !== undefined && input.amountMinor !== session.amountMinor) return 'amountMinor';
  if (input.currency !== undefined && input.currency !== session.currency) return 'currency';
  return undefined;
}

/** Why a session accepts no PIN now, or undefined when it does. */
function closedReason(session: PinSession, lockedUntil: Date | null, now: Date): VerifyPinResult | undefined {
  if (lockedUntil && lockedUntil > now) {
    return { ok: false, reason: 'msisdn_locked', lockedUntil, attemptsLeft: attemptsLeft(session) };
  }
  if (session.usedAt) return { ok: false, reason: 'pin_used' };
  if (now >= session.expiresAt) return { ok: false, reason: 'pin_expired' };
  if (session.attempts >= session.attemptsMax)
    return { ok: false, reason: 'attempts_exceeded', attemptsLeft: 0 };
  return undefined;
}

function attemptsLeft(session: Pick<PinSession, 'attempts' | 'attemptsMax'>): number {
  return Math.max(0, session.attemptsMax - session.attempts);
}

/** SQL: the session row still accepts a PIN at `now` (not used, attempts left, not expired, MSISDN not locked). */
function openGuard(now: Date) {
  return sql`s.used_at IS NULL AND s.attempts < s.attempts_max AND s.expires_at > ${now}::timestamptz
    AND NOT EXISTS (SELECT 1 FROM msisdn_pin_state lk
                     WHERE lk.environment = s.environment AND lk.msisdn = s.msisdn
                       AND lk.locked_until > ${now}::timestamptz)`;
}

/** The right PIN: spend it (when consuming) and end the MSISDN's failure streak, in one statement. */
async function acceptPin(db: Db, session: PinSession, input: VerifyPinInput): Promise<VerifyPinResult> {
  const { now } = input;
  const usedAt = input.consume ? sql`${now}::timestamptz` : sql`s.used_at`;
  // One statement, so it is atomic without an explicit transaction (which would cost two round trips).
  const { rows } = await sql<PinSessionRow>`
      WITH accepted AS (
        UPDATE pin_sessions AS s SET used_at = ${usedAt}
         WHERE s.merchant_id = ${session.merchantId} AND s.environment = ${session.environment}
           AND s.id = ${session.id} AND ${openGuard(now)}
        RETURNING s.*
      ), reset AS (
        UPDATE msisdn_pin_state SET consecutive_failures = 0, locked_until = NULL, updated_at = ${now}::timestamptz
         WHERE environment = ${session.environment} AND msisdn = ${session.msisdn}
           AND EXISTS (SELECT 1 FROM accepted)
      )
      SELECT * FROM accepted`.execute(db);
  const row = rows[0];
  if (row) return { ok: true, session: toPinSession(row) };
  return reclassify(db, session, now);
}

/**
 * A wrong PIN, counted in one statement: the session's attempt (only while it is still open, so a
 * guess that lost a race is not counted) and the MSISDN's streak, which restarts after a served lock or
 * a quiet window and, at the limit, locks the MSISDN.
 */
async function recordWrongPin(
  db: Db,
  session: PinSession,
  input: VerifyPinInput,
  limits: PinLimits,
): Promise<VerifyPinResult> {
  const { now } = input;
  const windowStart = new Date(now.getTime() - limits.consecutiveFailuresWindowSeconds * 1000);
  const lockUntil = new Date(now.getTime() + limits.lockSeconds * 1000);
  const max = limits.consecutiveFailuresMax;
  const streak = sql`CASE WHEN st.last_failure_at IS NULL OR st.last_failure_at <= ${windowStart}::timestamptz
                            OR st.locked_until <= ${now}::timestamptz
                          THEN 1 ELSE st.consecutive_failures + 1 END`;
  // One statement: atomic without an explicit transaction.
  const { rows } = await sql<{
    attempts: number;
    attempts_max: number;
    consecutive_failures: number | null;
    locked_until: Date | null;
  }>`
      WITH counted AS (
        UPDATE pin_sessions AS s SET attempts = s.attempts + 1
         WHERE s.merchant_id = ${session.merchantId} AND s.environment = ${session.environment}
           AND s.id = ${session.id} AND ${openGuard(now)}
        RETURNING s.environment, s.msisdn, s.attempts, s.attempts_max
      ), failed AS (
        INSERT INTO msisdn_pin_state AS st
               (environment, msisdn, consecutive_failures, last_failure_at, locked_until, updated_at)
        SELECT environment, msisdn, 1, ${now}::timestamptz,
               CASE WHEN 1 >= ${max}::int THEN ${lockUntil}::timestamptz END, ${now}::timestamptz
          FROM counted
        ON CONFLICT (environment, msisdn) DO UPDATE SET
          consecutive_failures = ${streak},
          last_failure_at = ${now}::timestamptz,
          locked_until = CASE WHEN ${streak} >= ${max}::int THEN ${lockUntil}::timestamptz
                              WHEN st.locked_until <= ${now}::timestamptz THEN NULL
                              ELSE st.locked_until END,
          updated_at = ${now}::timestamptz
        RETURNING st.consecutive_failures, st.locked_until
      )
      SELECT counted.attempts, counted.attempts_max, failed.consecutive_failures, failed.locked_until
        FROM counted LEFT JOIN failed ON true`.execute(db);
  const row = rows[0];
  if (!row) return reclassify(db, session, now);
  const left = attemptsLeft({ attempts: row.attempts, attemptsMax: row.attempts_max });
  if (row.locked_until && row.locked_until > now) {
    return { ok: false, reason: 'msisdn_locked', lockedUntil: row.locked_until, attemptsLeft: left };
  }
  return { ok: false, reason: 'pin_invalid', attemptsLeft: left };
}

/** A guarded statement changed nothing: another verification closed the session first. Say why. */
async function reclassify(db: Db, session: PinSession, now: Date): Promise<VerifyPinResult> {
  const found = await readSession(db, { ...session, pinId: session.id });
  if (!found) return { ok: false, reason: 'not_found' };
  const closed = closedReason(found.session, found.lockedUntil, now);
  assert(closed, 'a PIN session refused a guarded update while still open');
  return closed;
}

// ---------------------------------------------------------------------------------------------------
// Look-ups and operator tools

/** A session by id, scoped to its merchant and environment. */
export async function getPinSession(
  db: Executor,
  input: { merchantId: string; environment: Environment; pinId: string },
): Promise<PinSession | undefined> {
  if (!isPinSessionId(input.pinId)) return undefined;
  return (await readSession(db, input))?.session;
}

/**
 * The newest session of this payer for this product that is neither used nor expired at `now`: for
 * `SendBillWithPin` bodies that carry the MSISDN and PIN but no `pinId` (seen in public client code).
 */
export async function findOpenPinSession(
  db: Executor,
  input: { merchantId: string; environment: Environment; msisdn: string; productId: string; now: Date },
): Promise<PinSession | undefined> {
  const row = await pinDb(db)
    .selectFrom('pin_sessions')
    .selectAll()
    .where('merchant_id', '=', input.merchantId)
    .where('environment', '=', input.environment)
    .where('msisdn', '=', input.msisdn)
    .where('product_id', '=', input.productId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', input.now)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toPinSession(row) : undefined;
}

export interface MsisdnPinState {
  readonly consecutiveFailures: number;
  readonly lastFailureAt: Date | null;
  /** Set only while the lock holds at `now`. */
  readonly lockedUntil: Date | null;
}

/** The failure streak and lock of an MSISDN, for operators. */
export async function readMsisdnPinState(
  db: Executor,
  input: { environment: Environment; msisdn: string; now: Date },
): Promise<MsisdnPinState> {
  const row = await pinDb(db)
    .selectFrom('msisdn_pin_state')
    .select(['consecutive_failures', 'last_failure_at', 'locked_until'])
    .where('environment', '=', input.environment)
    .where('msisdn', '=', input.msisdn)
    .executeTakeFirst();
  return {
    consecutiveFailures: row?.consecutive_failures ?? 0,
    lastFailureAt: row?.last_failure_at ?? null,
    lockedUntil: row?.locked_until && row.locked_until > input.now ? row.locked_until : null,
  };
}

/**
 * Operator tool: lifts an MSISDN's lock and clears its failure streak in one environment. Leaves its
 * PIN sessions (and so the generation limits) alone. True when there was anything to clear.
 */
export async function unlockMsisdn(
  db: Executor,
  input: { environment: Environment; msisdn: string },
): Promise<boolean> {
  const result = await pinDb(db)
    .deleteFrom('msisdn_pin_state')
    .where('environment', '=', input.environment)
    .where('msisdn', '=', input.msisdn)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

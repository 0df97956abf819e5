import { createHash, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { AppError } from '../errors/errors.js';
import { isUniqueViolation, type Executor } from '../db/db.js';
import { newId } from '../ids/ids.js';
import { insertMerchant, type MerchantRow } from '../merchants/merchants.js';
import { burnPasswordCheck, checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.js';
import {
  withPortalTables,
  type MerchantRole,
  type OperatorRole,
  type PortalUsersTable,
  type UserKind,
  type UserRole,
} from './schema.js';
import { decryptTotpSecret, encryptTotpSecret, newTotpSecret, totpUri, totpValid } from './totp.js';

export type UserRow = Selectable<PortalUsersTable>;

/** Named limits (STYLE.md §13). */
export const signinFailuresMax = 10;
export const lockSeconds = 30 * 60;
export const verifyEmailTtlSeconds = 3 * 86_400;
export const passwordResetTtlSeconds = 60 * 60;

export interface UserView {
  id: string;
  kind: UserKind;
  merchant_id: string | null;
  email: string;
  role: UserRole;
  email_verified: boolean;
  totp_enabled: boolean;
  locked_until: string | null;
  created_at: string;
  disabled_at: string | null;
}

export function userView(row: UserRow): UserView {
  return {
    id: row.id,
    kind: row.kind,
    merchant_id: row.merchant_id,
    email: row.email,
    role: row.role,
    email_verified: row.email_verified_at !== null,
    totp_enabled: row.totp_enabled_at !== null,
    locked_until: row.locked_until?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    disabled_at: row.disabled_at?.toISOString() ?? null,
  };
}

export function normalizeEmail(raw: string, field = '/email'): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email)) {
    throw new AppError('validation_failed', 'Enter an email address like name@example.com.', { field });
  }
  return email;
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

async function insertUser(
  db: Executor,
  input: {
    kind: UserKind;
    merchantId: string | null;
    email: string;
    passwordHash: string;
    role: UserRole;
    verifiedAt?: Date;
    totpSecret?: string;
    totpEnabledAt?: Date;
  },
  now: Date,
): Promise<UserRow> {
  try {
    return await withPortalTables(db)
      .insertInto('portal_users')
      .values({
        id: newId('user'),
        kind: input.kind,
        merchant_id: input.merchantId,
        email: input.email,
        password_hash: input.passwordHash,
        role: input.role,
        email_verified_at: input.verifiedAt ?? null,
        totp_secret: input.totpSecret ?? null,
        totp_enabled_at: input.totpEnabledAt ?? null,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError('conflict', 'An account with this email already exists.', { field: '/email' });
    }
    throw error;
  }
}

export async function issueToken(
  db: Executor,
  userId: string,
  purpose: 'verify_email' | 'password_reset',
  now: Date,
): Promise<string> {
  const token = newToken();
  const ttl = purpose === 'verify_email' ? verifyEmailTtlSeconds : passwordResetTtlSeconds;
  await withPortalTables(db)
    .insertInto('portal_tokens')
    .values({
      token_hash: tokenHash(token),
      user_id: userId,
      purpose,
      expires_at: new Date(now.getTime() + ttl * 1000),
    })
    .execute();
  return token;
}

/** Uses a one-time token: valid, unexpired and unused, exactly once (the guarded update decides). */
export async function useToken(
  db: Executor,
  token: string,
  purpose: 'verify_email' | 'password_reset',
  now: Date,
): Promise<string> {
  const row = await withPortalTables(db)
    .updateTable('portal_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  if (!row) {
    throw new AppError('validation_failed', 'This link is invalid, used or expired; ask for a new one.', {
      field: '/token',
    });
  }
  return row.user_id;
}

/** Sign-up: a new merchant and its first user, the owner. */
export async function signUp(
  tx: Executor,
  input: { email: string; password: string; merchantName: string },
  now: Date,
): Promise<{ user: UserRow; merchant: MerchantRow; verifyToken: string }> {
  const email = normalizeEmail(input.email);
  checkPasswordPolicy(input.password);
  const merchantName = input.merchantName.trim();
  if (merchantName.length === 0) {
    throw new AppError('validation_failed', 'Enter your business name.', { field: '/merchant_name' });
  }
  const merchant = await insertMerchant(tx, { name: merchantName });
  const user = await insertUser(
    tx,
    {
      kind: 'merchant',
      merchantId: merchant.id,
      email,
      passwordHash: await hashPassword(input.password),
      role: 'owner',
    },
    now,
  );
  return { user, merchant, verifyToken: await issueToken(tx, user.id, 'verify_email', now) };
}

/** A teammate: created without a usable password; the invitation mail's link sets one. */
export async function inviteUser(
  tx: Executor,
  input: { merchantId: string; email: string; role: MerchantRole },
  now: Date,
): Promise<{ user: UserRow; resetToken: string }> {
  const email = normalizeEmail(input.email);
  const user = await insertUser(
    tx,
    {
      kind: 'merchant',
      merchantId: input.merchantId,
      email,
      passwordHash: 'invited$',
      role: input.role,
      verifiedAt: now,
    },
    now,
  );
  return { user, resetToken: await issueToken(tx, user.id, 'password_reset', now) };
}

export async function createOperatorUser(
  tx: Executor,
  input: { email: string; role: OperatorRole; password: string; totp: boolean; totpKey: Buffer },
  now: Date,
): Promise<{ user: UserRow; totpSecret: string | undefined }> {
  const email = normalizeEmail(input.email);
  checkPasswordPolicy(input.password);
  const secret = input.totp ? newTotpSecret() : undefined;
  const user = await insertUser(
    tx,
    {
      kind: 'operator',
      merchantId: null,
      email,
      passwordHash: await hashPassword(input.password),
      role: input.role,
      verifiedAt: now,
      ...(secret ? { totpSecret: encryptTotpSecret(input.totpKey, secret), totpEnabledAt: now } : {}),
    },
    now,
  );
  return { user, totpSecret: secret };
}

export async function getUser(
  db: Executor,
  id: string,
  scope: { kind?: UserKind; merchantId?: string } = {},
): Promise<UserRow> {
  let query = withPortalTables(db).selectFrom('portal_users').selectAll().where('id', '=', id);
  if (scope.kind) query = query.where('kind', '=', scope.kind);
  if (scope.merchantId) query = query.where('merchant_id', '=', scope.merchantId);
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('not_found', `No user ${id}.`);
  return row;
}

export async function listUsers(
  db: Executor,
  filter: { kind: UserKind; merchantId?: string; limit: number; startingAfter?: string },
): Promise<UserRow[]> {
  let query = withPortalTables(db)
    .selectFrom('portal_users')
    .selectAll()
    .where('kind', '=', filter.kind)
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  return query.execute();
}

export async function updateUser(
  db: Executor,
  scope: { kind: UserKind; merchantId?: string },
  id: string,
  change: { role?: UserRole; disabled?: boolean },
  now: Date,
): Promise<UserRow> {
  let query = withPortalTables(db)
    .updateTable('portal_users')
    .set({
      ...(change.role ? { role: change.role } : {}),
      ...(change.disabled !== undefined ? { disabled_at: change.disabled ? now : null } : {}),
    })
    .where('id', '=', id)
    .where('kind', '=', scope.kind);
  if (scope.merchantId) query = query.where('merchant_id', '=', scope.merchantId);
  const row = await query.returningAll().executeTakeFirst();
  if (!row) throw new AppError('not_found', `No user ${id}.`);
  if (change.disabled) {
    await withPortalTables(db).deleteFrom('portal_sessions').where('user_id', '=', id).execute();
  }
  return row;
}

/**
 * Checks email, password and (when enrolled) the TOTP code. Ten failures in a row lock the account for
 * 30 minutes, counted on the user row with guarded updates so concurrent attempts all count. An unknown
 * email costs the same password check and gives the same answer as a wrong password.
 */
export async function signIn(
  db: Executor,
  input: {
    kind: UserKind;
    email: string;
    password: string;
    totp?: string;
    totpKey: Buffer;
    requireTotp: boolean;
  },
  now: Date,
): Promise<UserRow> {
  const pdb = withPortalTables(db);
  const email = input.email.trim().toLowerCase();
  const user = await pdb
    .selectFrom('portal_users')
    .selectAll()
    .where('kind', '=', input.kind)
    .where('email', '=', email)
    .executeTakeFirst();
  const wrong = new AppError('unauthenticated', 'The email or password is not correct.', {
    field: '/password',
  });
  if (!user || user.disabled_at) {
    await burnPasswordCheck(input.password);
    throw wrong;
  }
  if (user.locked_until && user.locked_until > now) {
    const seconds = Math.ceil((user.locked_until.getTime() - now.getTime()) / 1000);
    throw new AppError(
      'account_locked',
      `Too many failed sign-ins; try again in ${Math.ceil(seconds / 60)} minutes or reset your password.`,
      {
        headers: { 'retry-after': String(seconds) },
      },
    );
  }
  const passwordOk = await verifyPassword(input.password, user.password_hash);
  if (!passwordOk) {
    await recordFailure(db, user.id, now);
    throw wrong;
  }
  if (user.totp_enabled_at && user.totp_secret) {
    if (!input.totp) {
      throw new AppError('second_factor_required', 'Enter the 6-digit code from your authenticator app.', {
        field: '/totp',
      });
    }
    if (!totpValid(decryptTotpSecret(input.totpKey, user.totp_secret), input.totp, now)) {
      await recordFailure(db, user.id, now);
      throw new AppError('unauthenticated', 'The authenticator code is not correct.', { field: '/totp' });
    }
  } else if (input.requireTotp) {
    throw new AppError(
      'forbidden',
      'Operators need a second factor in production: create the user with `payloom operator create-user --totp`.',
      { field: '/totp' },
    );
  }
  return pdb
    .updateTable('portal_users')
    .set({ failed_signins: 0, locked_until: null })
    .where('id', '=', user.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

async function recordFailure(db: Executor, userId: string, now: Date): Promise<void> {
  const pdb = withPortalTables(db);
  const row = await pdb
    .updateTable('portal_users')
    .set((eb) => ({ failed_signins: eb('failed_signins', '+', 1) }))
    .where('id', '=', userId)
    .returning('failed_signins')
    .executeTakeFirstOrThrow();
  if (row.failed_signins >= signinFailuresMax) {
    await pdb
      .updateTable('portal_users')
      .set({ failed_signins: 0, locked_until: new Date(now.getTime() + lockSeconds * 1000) })
      .where('id', '=', userId)
      .execute();
  }
}

export async function verifyEmail(db: Executor, token: string, now: Date): Promise<UserRow> {
  const userId = await useToken(db, token, 'verify_email', now);
  return withPortalTables(db)
    .updateTable('portal_users')
    .set({ email_verified_at: now })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A new password from a reset (or invitation) link: unlocks the account and ends every session. */
export async function resetPassword(
  db: Executor,
  token: string,
  password: string,
  now: Date,
): Promise<UserRow> {
  checkPasswordPolicy(password);
  const userId = await useToken(db, token, 'password_reset', now);
  const pdb = withPortalTables(db);
  await pdb.deleteFrom('portal_sessions').where('user_id', '=', userId).execute();
  return pdb
    .updateTable('portal_users')
    .set({
      password_hash: await hashPassword(password),
      failed_signins: 0,
      locked_until: null,
      email_verified_at: now,
    })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findUserByEmail(
  db: Executor,
  kind: UserKind,
  email: string,
): Promise<UserRow | undefined> {
  return withPortalTables(db)
    .selectFrom('portal_users')
    .selectAll()
    .where('kind', '=', kind)
    .where('email', '=', email.trim().toLowerCase())
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
}

/** TOTP enrolment, step 1: a new secret (not yet required) and its otpauth:// URI for the app. */
export async function startTotp(
  db: Executor,
  user: UserRow,
  key: Buffer,
): Promise<{ secret: string; uri: string }> {
  const secret = newTotpSecret();
  await withPortalTables(db)
    .updateTable('portal_users')
    .set({ totp_secret: encryptTotpSecret(key, secret), totp_enabled_at: null })
    .where('id', '=', user.id)
    .execute();
  return { secret, uri: totpUri(secret, user.email) };
}

/** Step 2: a valid code from the app turns the second factor on. */
export async function confirmTotp(
  db: Executor,
  userId: string,
  code: string,
  key: Buffer,
  now: Date,
): Promise<UserRow> {
  const user = await getUser(db, userId);
  if (!user.totp_secret || !totpValid(decryptTotpSecret(key, user.totp_secret), code, now)) {
    throw new AppError('validation_failed', 'The code is not correct; check the time on your phone.', {
      field: '/code',
    });
  }
  return withPortalTables(db)
    .updateTable('portal_users')
    .set({ totp_enabled_at: now })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

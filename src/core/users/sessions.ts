import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Executor } from '../db/db.js';
import { withPortalTables } from './schema.js';
import { newToken, tokenHash, type UserRow } from './users.js';

/** Named limits: idle timeout 30 minutes, absolute lifetime 12 hours; last-seen is written at most once a minute. */
export const sessionIdleSeconds = 30 * 60;
export const sessionAbsoluteSeconds = 12 * 3600;
const touchEverySeconds = 60;

export const sessionCookie = { merchant: 'payloom_portal', operator: 'payloom_console' } as const;
export const csrfHeader = 'x-csrf-token';
export const csrfPurpose = 'portal:csrf';

/** A new session (sign-in always makes a new one: the id rotates). Only the token's hash is stored. */
export async function createSession(db: Executor, userId: string, now: Date): Promise<string> {
  const token = newToken();
  await withPortalTables(db)
    .insertInto('portal_sessions')
    .values({
      token_hash: tokenHash(token),
      user_id: userId,
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + sessionAbsoluteSeconds * 1000),
    })
    .execute();
  return token;
}

/** The live session's user in one query; expired (idle or absolute) sessions are deleted and refused. */
export async function lookupSession(
  db: Executor,
  token: string,
  now: Date,
): Promise<{ user: UserRow; lastSeenAt: Date } | undefined> {
  const pdb = withPortalTables(db);
  const hash = tokenHash(token);
  const row = await pdb
    .selectFrom('portal_sessions as s')
    .innerJoin('portal_users as u', 'u.id', 's.user_id')
    .selectAll('u')
    .select(['s.last_seen_at as session_last_seen_at', 's.expires_at as session_expires_at'])
    .where('s.token_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  const { session_last_seen_at: lastSeenAt, session_expires_at: expiresAt, ...user } = row;
  const idleDeadline = lastSeenAt.getTime() + sessionIdleSeconds * 1000;
  if (expiresAt <= now || idleDeadline <= now.getTime() || user.disabled_at) {
    await pdb.deleteFrom('portal_sessions').where('token_hash', '=', hash).execute();
    return undefined;
  }
  if (now.getTime() - lastSeenAt.getTime() >= touchEverySeconds * 1000) {
    await pdb
      .updateTable('portal_sessions')
      .set({ last_seen_at: now })
      .where('token_hash', '=', hash)
      .execute();
  }
  return { user, lastSeenAt };
}

export async function deleteSession(db: Executor, token: string): Promise<void> {
  await withPortalTables(db)
    .deleteFrom('portal_sessions')
    .where('token_hash', '=', tokenHash(token))
    .execute();
}

/** The CSRF token of a session: an HMAC of the session token, so nothing more is stored. */
export function csrfToken(key: Buffer, sessionToken: string): string {
  return createHmac('sha256', key).update(sessionToken).digest('base64url');
}

export function csrfMatches(key: Buffer, sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfToken(key, sessionToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

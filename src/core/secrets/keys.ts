import { hkdfSync, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../db/db.js';
import { Secret } from './secrets.js';

/**
 * The master key and the keys derived from it (HKDF-SHA256, one per purpose: PIN pepper, MSISDN
 * encryption). Operators set PAYLOOM_SECRET_KEY so the key lives outside the database; without it, a
 * random key is created at first start and kept in `bootstrap_secrets` (development and demos).
 */
export interface KeyRing {
  /** 32 bytes for `purpose`; stable for the life of the master key. */
  derive(purpose: string): Buffer;
}

export function keyRing(master: Secret): KeyRing {
  const ikm = Buffer.from(master.reveal(), 'utf8');
  return {
    derive: (purpose) =>
      Buffer.from(hkdfSync('sha256', ikm, Buffer.from('payloom'), Buffer.from(purpose), 32)),
  };
}

export async function loadKeyRing(db: Executor, configured: Secret | undefined): Promise<KeyRing> {
  if (configured) return keyRing(configured);
  const generated = randomBytes(32).toString('base64url');
  await sql`INSERT INTO bootstrap_secrets (name, value) VALUES ('master_key', ${JSON.stringify({ key: generated })}::jsonb)
            ON CONFLICT (name) DO NOTHING`.execute(db);
  const row = await db
    .selectFrom('bootstrap_secrets')
    .select('value')
    .where('name', '=', 'master_key')
    .executeTakeFirstOrThrow();
  const key = (row.value as { key?: unknown }).key;
  if (typeof key !== 'string') throw new Error('invariant violated: stored master key is malformed');
  return keyRing(new Secret(key));
}

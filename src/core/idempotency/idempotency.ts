import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../errors/errors.js';
import type { Executor } from '../db/db.js';

/**
 * Idempotency-Key handling for every write on every surface (reliability.md B1):
 * - same key + same request, finished → the stored status and body are replayed;
 * - same key while the first request runs → 409 `idempotency_key_in_use`;
 * - same key + different request → 422 `idempotency_key_reused`;
 * - requests rejected before execution (auth, schema, rate limit) are never stored;
 * - a successful result is stored in the same transaction as its effect, so a crash can never leave an
 *   effect without its stored response (a stale `running` key therefore had no effect and may be retaken).
 */
export const idempotencyKeyPattern = /^[\x20-\x7e]{1,255}$/;
/** A `running` key older than this belonged to a request whose process died; its effect rolled back. */
export const staleRunningSeconds = 120;

export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!idempotencyKeyPattern.test(value)) {
    throw new AppError('invalid_idempotency_key', undefined, { field: 'Idempotency-Key' });
  }
  return value;
}

/** Fingerprint = method + route template + path parameters + canonical body. */
export function requestFingerprint(method: string, route: string, params: unknown, body: unknown): Buffer {
  return createHash('sha256')
    .update(`${method}\n${route}\n${canonicalJson(params)}\n${canonicalJson(body)}`)
    .digest();
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
      );
    }
    return v;
  });
}

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; contentType: string; body: string }
  | { kind: 'in_use' }
  | { kind: 'mismatch' };

interface ClaimRow {
  claimed: boolean;
  fingerprint: Buffer | null;
  state: 'running' | 'completed' | null;
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
}

/** One round trip: insert (or retake an expired or stale key) and otherwise read what is there. */
export async function claimIdempotencyKey(
  db: Executor,
  input: { scope: string; key: string; fingerprint: Buffer; ttlHours: number },
): Promise<ClaimResult> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const { rows } = await sql<ClaimRow>`
      WITH claimed AS (
        INSERT INTO idempotency_keys (scope, key, fingerprint, state, expires_at)
        VALUES (${input.scope}, ${input.key}, ${input.fingerprint}, 'running',
                now() + make_interval(hours => ${input.ttlHours}))
        ON CONFLICT (scope, key) DO UPDATE
          SET fingerprint = excluded.fingerprint, state = 'running', response_status = NULL,
              response_type = NULL, response_body = NULL, created_at = now(), locked_at = now(),
              expires_at = excluded.expires_at
          WHERE idempotency_keys.expires_at <= now()
             OR (idempotency_keys.state = 'running'
                 AND idempotency_keys.locked_at <= now() - make_interval(secs => ${staleRunningSeconds}))
        RETURNING 1
      )
      SELECT true AS claimed, NULL::bytea AS fingerprint, NULL::text AS state, NULL::integer AS response_status,
             NULL::text AS response_type, NULL::text AS response_body
        FROM claimed
      UNION ALL
      SELECT false, fingerprint, state, response_status, response_type, response_body
        FROM idempotency_keys
       WHERE scope = ${input.scope} AND key = ${input.key} AND NOT EXISTS (SELECT 1 FROM claimed)`.execute(
      db,
    );
    const row = rows[0];
    // No row: a concurrent first request committed between our insert's conflict check and our
    // snapshot; ask again, it is visible now.
    if (!row) continue;
    if (row.claimed) return { kind: 'claimed' };
    if (!row.fingerprint || !Buffer.from(row.fingerprint).equals(input.fingerprint))
      return { kind: 'mismatch' };
    if (row.state !== 'completed' || row.response_status === null) return { kind: 'in_use' };
    return {
      kind: 'replay',
      status: row.response_status,
      contentType: row.response_type ?? 'application/json',
      body: row.response_body ?? '',
    };
  }
  return { kind: 'in_use' };
}

export async function completeIdempotencyKey(
  db: Executor,
  input: { scope: string; key: string; status: number; contentType: string; body: string },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({
      state: 'completed',
      response_status: input.status,
      response_type: input.contentType,
      response_body: input.body,
    })
    .where('scope', '=', input.scope)
    .where('key', '=', input.key)
    .execute();
}

/** An unexpected failure wrote nothing, so the key is given back and a retry runs the request again. */
export async function releaseIdempotencyKey(
  db: Executor,
  input: { scope: string; key: string },
): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('scope', '=', input.scope)
    .where('key', '=', input.key)
    .where('state', '=', 'running')
    .execute();
}

/** Deletes expired keys in batches; returns how many went. Run by the worker on a schedule. */
export async function pruneIdempotencyKeys(db: Executor, batchSize = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM idempotency_keys WHERE ctid IN (
        SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT ${batchSize})`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

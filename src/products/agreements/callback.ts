import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { transaction, type Db, type Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { recordEvent } from '../../core/events/events.js';
import type { EventFormat } from '../../core/webhooks/dispatch.js';
import { agr, type CallbackAuth } from './schema.js';

/**
 * Callbacks of the dialect (vendor-apis.md §4.6), delivered by the core webhook engine: each callback is
 * an event `agreements.callback` whose data carries the target URL (an agreement's success/cancel link,
 * the provider's payment_status_callback_url, a refund's status_callback_url), the JSON body and the
 * provider's callback auth encrypted. The product's endpoint (format `mobilepay-subscriptions`, one per
 * merchant and environment) takes these events; the format sends the body to the URL in the data.
 */
export const callbackFormatName = 'mobilepay-subscriptions';
export const callbackEventType = 'agreements.callback';
export const callbackAuthPurpose = 'agreements:callback-auth';
/** MobilePay's retry schedule: 8 retries after the first attempt (vendor-apis.md §4.6). */
export const mobilePayRetryDelaysSeconds = [
  5,
  10 * 60,
  30 * 60,
  70 * 60,
  150 * 60,
  310 * 60,
  630 * 60,
  1270 * 60,
] as const;

export function encryptAuth(key: Buffer, auth: CallbackAuth): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(auth), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function decryptAuth(key: Buffer, blob: string): CallbackAuth | undefined {
  try {
    const raw = Buffer.from(blob, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as CallbackAuth;
  } catch {
    return undefined;
  }
}

export interface CallbackInput {
  merchantId: string;
  environment: Environment;
  providerId: string;
  objectId: string;
  url: string;
  body: unknown;
  testClockId?: string | null;
  /** Agreement and refund callbacks carry no provider auth? They do: MobilePay sends it on every callback. */
}

/**
 * Records one callback in the caller's transaction (with the state change it reports): the provider's
 * encrypted auth is copied into the event so the format can add it without a lookup.
 */
export async function recordCallback(tx: Executor, input: CallbackInput): Promise<void> {
  const provider = await agr(tx)
    .selectFrom('agr_providers')
    .select(sql<string | null>`callback_auth->>'sealed'`.as('sealed'))
    .where('id', '=', input.providerId)
    .executeTakeFirst();
  await recordEvent(tx, {
    merchantId: input.merchantId,
    environment: input.environment,
    type: callbackEventType,
    objectId: input.objectId,
    data: { url: input.url, body: input.body, auth: provider?.sealed ?? null, provider_id: input.providerId },
    testClockId: input.testClockId ?? null,
    product: 'agreements',
  });
}

/** Queues a payment callback for the provider's next batch (every 2 minutes). */
export async function queuePaymentCallback(
  tx: Executor,
  input: {
    merchantId: string;
    environment: Environment;
    providerId: string;
    item: Record<string, unknown>;
    testClockId: string | null;
  },
): Promise<void> {
  await agr(tx)
    .insertInto('agr_callback_queue')
    .values({
      merchant_id: input.merchantId,
      environment: input.environment,
      provider_id: input.providerId,
      item: JSON.stringify(input.item),
      test_clock_id: input.testClockId,
    })
    .execute();
}

/**
 * Sends queued payment callbacks: one JSON array per provider (and test clock), at most 1000 items per
 * request, to its payment_status_callback_url. A provider's queue goes out once its oldest item has
 * waited `callback_batch_seconds` (default 120: MobilePay's 2 minutes); `force` (the sandbox flush
 * endpoint) and items on test clocks go at once. The rows are deleted in the same transaction as the
 * callback events are written, so a crash loses or repeats nothing.
 */
export async function flushPaymentCallbacks(
  db: Db,
  options: { merchantId?: string; force?: boolean } = {},
): Promise<number> {
  return transaction(db, async (tx) => {
    const { rows } = await sql<{
      merchant_id: string;
      environment: Environment;
      provider_id: string;
      test_clock_id: string | null;
      url: string | null;
      items: Record<string, unknown>[];
      last_id: string;
    }>`
      WITH due AS (
        SELECT q.provider_id
          FROM agr_callback_queue q JOIN agr_providers p ON p.id = q.provider_id
         WHERE ${options.merchantId ? sql`q.merchant_id = ${options.merchantId}` : sql`true`}
         GROUP BY q.provider_id, p.callback_batch_seconds
        HAVING ${
          options.force
            ? sql`true`
            : sql`bool_or(q.test_clock_id IS NOT NULL)
               OR min(q.created_at) <= now() - make_interval(secs => p.callback_batch_seconds)`
        }
      ), batch AS (
        DELETE FROM agr_callback_queue q
         WHERE q.id IN (SELECT id FROM agr_callback_queue
                         WHERE provider_id IN (SELECT provider_id FROM due)
                         ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED)
        RETURNING q.*
      )
      SELECT b.merchant_id, b.environment, b.provider_id, b.test_clock_id,
             p.payment_status_callback_url AS url, jsonb_agg(b.item ORDER BY b.id) AS items,
             max(b.id)::text AS last_id
        FROM batch b JOIN agr_providers p ON p.id = b.provider_id
       GROUP BY b.merchant_id, b.environment, b.provider_id, b.test_clock_id, p.payment_status_callback_url`.execute(
      tx,
    );
    let sent = 0;
    for (const row of rows) {
      if (!row.url) continue; // No callback URL configured: MobilePay drops them too.
      for (let i = 0; i < row.items.length; i += 1000) {
        await recordCallback(tx, {
          merchantId: row.merchant_id,
          environment: row.environment,
          providerId: row.provider_id,
          objectId: `${row.provider_id}:${row.last_id}:${i}`,
          url: row.url,
          body: row.items.slice(i, i + 1000),
          testClockId: row.test_clock_id,
        });
        sent++;
      }
    }
    return sent;
  });
}

interface CallbackData {
  url?: string;
  body?: unknown;
  auth?: string | null;
}

/** How an attempt is built: POST the JSON body to the URL in the event, with the provider's auth. */
export function mobilePayCallbackFormat(authKey: Buffer): EventFormat {
  return {
    name: callbackFormatName,
    method: 'POST',
    retryDelaysSeconds: mobilePayRetryDelaysSeconds,
    build(event) {
      const data = event.data as CallbackData;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const auth = data.auth ? decryptAuth(authKey, data.auth) : undefined;
      if (auth?.scheme === 'basic') {
        headers.authorization = `Basic ${Buffer.from(`${auth.user_name}:${auth.password}`).toString('base64')}`;
      } else if (auth?.scheme === 'apikey') {
        headers.authorization = auth.api_key;
      }
      return { method: 'POST', url: data.url ?? '', headers, body: JSON.stringify(data.body ?? null) };
    },
    async authorize(event): Promise<Record<string, string>> {
      const data = event.data as CallbackData;
      const auth = data.auth ? decryptAuth(authKey, data.auth) : undefined;
      if (auth?.scheme !== 'oauth2') return {};
      const token = await clientCredentialsToken(auth);
      return { authorization: `Bearer ${token}` };
    },
  };
}

/** OAuth2 client credentials against the merchant's token URL (once per attempt). */
async function clientCredentialsToken(auth: Extract<CallbackAuth, { scheme: 'oauth2' }>): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (auth.scope) form.set('scope', auth.scope);
  const response = await fetch(auth.token_url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(auth.client_id)}:${encodeURIComponent(auth.client_secret)}`).toString('base64')}`,
    },
    body: form,
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`token URL answered ${response.status}`);
  const body = (await response.json()) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error('token URL gave no access_token');
  return body.access_token;
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { assert } from '../errors/errors.js';
import { Secret } from '../secrets/secrets.js';

/**
 * Standard Webhooks 1.0 signing (https://www.standardwebhooks.com, spec/standard-webhooks.md):
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, several space-separated
 * signatures while a secret is rotated, so a receiver holding either the old or the new secret accepts.
 */

export const webhookSecretPrefix = 'whsec_';
/** 32 random bytes: above the spec's minimum of 24 (192 bits), below its maximum of 64. */
export const webhookSecretBytes = 32;
export const webhookSecretBytesMin = 24;
export const webhookSecretBytesMax = 64;
/** Old and new secret both sign for this long after a rotation (reliability.md B4). */
export const secretRotationOverlapSeconds = 24 * 60 * 60;
/** Normally 2 (old + new); room for a second rotation inside the overlap window, and no more. */
export const signingSecretsMax = 4;
/** Message ids are our own `evt_`/`msg_` ids; the bound keeps the header small. */
export const webhookIdLengthMax = 255;
/** Receivers reject timestamps further than this from their clock, past or future (Svix, Stripe). */
export const signatureToleranceSeconds = 5 * 60;

// A type alias, not an interface, so it is assignable to plain header records.
export type StandardWebhookHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

/** A new endpoint secret, `whsec_` + base64 of 32 CSPRNG bytes. Shown to the merchant once. */
export function generateWebhookSecret(): Secret {
  return new Secret(webhookSecretPrefix + randomBytes(webhookSecretBytes).toString('base64'));
}

/** Whether `text` is a well-formed `whsec_` secret; for validating secrets read back from storage. */
export function isWebhookSecret(text: string): boolean {
  return decodeSecretKey(text) !== undefined;
}

function decodeSecretKey(text: string): Buffer | undefined {
  if (!text.startsWith(webhookSecretPrefix)) return undefined;
  const encoded = text.slice(webhookSecretPrefix.length);
  // Buffer.from(…, 'base64') silently skips invalid characters; a strict pattern keeps typos out.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const key = Buffer.from(encoded, 'base64');
  if (key.length < webhookSecretBytesMin || key.length > webhookSecretBytesMax) return undefined;
  return key;
}

function secretKey(secret: Secret): Buffer {
  const key = decodeSecretKey(secret.reveal());
  assert(key !== undefined, 'webhook secret is not whsec_ + base64 of 24..64 bytes');
  return key;
}

function assertMessageId(id: string): void {
  // The id is part of the signed content's `.`-separated framing; a `.` in it would make two different
  // (id, timestamp) pairs sign the same bytes. Printable ASCII also keeps it a valid header value.
  assert(
    id.length > 0 && id.length <= webhookIdLengthMax && /^[\x21-\x7e]+$/.test(id) && !id.includes('.'),
    'webhook id must be 1..255 printable ASCII characters without "."',
  );
}

function signature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', key)
    .update(`${id}.${timestampSeconds}.`, 'utf8')
    .update(body, 'utf8')
    .digest('base64');
}

/**
 * The three Standard Webhooks headers for one delivery attempt. `timestampSeconds` is the attempt's
 * time (not the event's), so each retry is signed afresh and passes the receiver's tolerance window.
 * `secrets` lists every active secret of the endpoint, newest first.
 */
export function signStandardWebhook(input: {
  id: string;
  timestampSeconds: number;
  body: string;
  secrets: readonly Secret[];
}): StandardWebhookHeaders {
  assertMessageId(input.id);
  assert(
    Number.isSafeInteger(input.timestampSeconds) && input.timestampSeconds >= 0,
    'webhook timestamp must be whole non-negative unix seconds',
  );
  assert(
    input.secrets.length > 0 && input.secrets.length <= signingSecretsMax,
    `an endpoint signs with 1..${signingSecretsMax} secrets`,
  );
  const signatures = input.secrets.map(
    (secret) => `v1,${signature(secretKey(secret), input.id, input.timestampSeconds, input.body)}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}

export type WebhookVerification =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason:
        'missing_header' | 'invalid_timestamp' | 'timestamp_out_of_tolerance' | 'no_matching_signature';
    };

/**
 * Receiver-side check, as a merchant should do it: constant-time comparison, any `v1` signature may
 * match, timestamp within tolerance both ways. For our own tests and the sandbox receiver.
 */
export function verifyStandardWebhook(input: {
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
  secrets: readonly Secret[];
  nowSeconds: number;
  toleranceSeconds?: number;
}): WebhookVerification {
  const header = (name: string): string | undefined =>
    Object.entries(input.headers).find(([key]) => key.toLowerCase() === name)?.[1];
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (id === undefined || timestamp === undefined || signatures === undefined) {
    return { ok: false, reason: 'missing_header' };
  }
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'invalid_timestamp' };
  const timestampSeconds = Number(timestamp);
  if (Math.abs(input.nowSeconds - timestampSeconds) > (input.toleranceSeconds ?? signatureToleranceSeconds)) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }
  const offered = signatures
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice('v1,'.length), 'utf8'));
  for (const secret of input.secrets) {
    const key = decodeSecretKey(secret.reveal());
    if (key === undefined) continue;
    const expected = Buffer.from(signature(key, id, timestampSeconds, input.body), 'utf8');
    if (
      offered.some(
        (candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected),
      )
    ) {
      return { ok: true };
    }
  }
  return { ok: false, reason: 'no_matching_signature' };
}

/** base64(HMAC-SHA256(secret as UTF-8, raw body)): the Payd-style `Signature` header. */
export function hmacBodySignature(secret: Secret, body: string): string {
  return createHmac('sha256', Buffer.from(secret.reveal(), 'utf8')).update(body, 'utf8').digest('base64');
}

import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { Secret } from '../secrets/secrets.js';
import { hmacBodySignatureFormat, standardWebhookFormat } from './callback-format.js';
import {
  generateWebhookSecret,
  isWebhookSecret,
  signStandardWebhook,
  verifyStandardWebhook,
  webhookSecretPrefix,
} from './signing.js';

const body = JSON.stringify({ type: 'payment.succeeded', data: { id: 'pay_123', amount_minor: '1945' } });
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
/** The official library wants a plain, mutable header record. */
const asHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => ({ ...headers });

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 32 random bytes, different every time', () => {
    const a = generateWebhookSecret().reveal();
    const b = generateWebhookSecret().reveal();
    expect(a.startsWith(webhookSecretPrefix)).toBe(true);
    expect(Buffer.from(a.slice(webhookSecretPrefix.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(isWebhookSecret(a)).toBe(true);
  });

  it('never print: logs, JSON and template strings show [redacted]', () => {
    const secret = generateWebhookSecret();
    const value = secret.reveal();
    expect(String(secret)).not.toContain(value);
    expect(`${String(secret)}`).toBe('[redacted]');
    expect(JSON.stringify({ secret })).not.toContain(value);
    expect(inspect({ secret })).not.toContain(value);
  });

  it('rejects malformed or too-short secrets', () => {
    expect(isWebhookSecret('whsec_')).toBe(false);
    expect(isWebhookSecret(`whsec_${Buffer.alloc(16).toString('base64')}`)).toBe(false);
    expect(isWebhookSecret(`whsec_${Buffer.alloc(65).toString('base64')}`)).toBe(false);
    expect(isWebhookSecret(`sk_${Buffer.alloc(32).toString('base64')}`)).toBe(false);
    expect(isWebhookSecret(`whsec_${'!'.repeat(44)}`)).toBe(false);
    expect(() =>
      signStandardWebhook({ id: 'evt_1', timestampSeconds: 1, body, secrets: [new Secret('whsec_short')] }),
    ).toThrow(/webhook secret/);
  });
});

describe('Standard Webhooks signatures', () => {
  it('are accepted by the official standardwebhooks library and match its own signature', () => {
    const secret = generateWebhookSecret();
    const timestampSeconds = nowSeconds();
    const headers = signStandardWebhook({ id: 'evt_2Xyz', timestampSeconds, body, secrets: [secret] });
    expect(headers['webhook-id']).toBe('evt_2Xyz');
    expect(headers['webhook-timestamp']).toBe(String(timestampSeconds));
    const official = new Webhook(secret.reveal());
    expect(official.verify(body, asHeaders(headers))).toEqual(JSON.parse(body));
    expect(headers['webhook-signature']).toBe(
      official.sign('evt_2Xyz', new Date(timestampSeconds * 1000), body),
    );
  });

  it('during rotation both secrets sign: a receiver holding only the old or only the new one accepts', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = signStandardWebhook({
      id: 'evt_rot',
      timestampSeconds: nowSeconds(),
      body,
      secrets: [newSecret, oldSecret],
    });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(oldSecret.reveal()).verify(body, asHeaders(headers))).toEqual(JSON.parse(body));
    expect(new Webhook(newSecret.reveal()).verify(body, asHeaders(headers))).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret().reveal()).verify(body, asHeaders(headers))).toThrow(
      WebhookVerificationError,
    );
  });

  it('a tampered body, id or timestamp is rejected', () => {
    const secret = generateWebhookSecret();
    const timestampSeconds = nowSeconds();
    const headers = signStandardWebhook({ id: 'evt_t', timestampSeconds, body, secrets: [secret] });
    const official = new Webhook(secret.reveal());
    const tampered = body.replace('1945', '9999');
    expect(() => official.verify(tampered, asHeaders(headers))).toThrow(WebhookVerificationError);
    expect(() => official.verify(body, { ...asHeaders(headers), 'webhook-id': 'evt_u' })).toThrow(
      WebhookVerificationError,
    );
    expect(() =>
      official.verify(body, { ...asHeaders(headers), 'webhook-timestamp': String(timestampSeconds - 1) }),
    ).toThrow(WebhookVerificationError);
    expect(
      verifyStandardWebhook({ headers, body: tampered, secrets: [secret], nowSeconds: timestampSeconds }),
    ).toEqual({ ok: false, reason: 'no_matching_signature' });
  });

  it('our verify helper agrees with the official library and bounds the timestamp both ways', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signStandardWebhook({
      id: 'evt_v',
      timestampSeconds: 1_700_000_000,
      body,
      secrets: [a, b],
    });
    const verify = (secrets: Secret[], now: number): unknown =>
      verifyStandardWebhook({ headers, body, secrets, nowSeconds: now });
    expect(verify([b], 1_700_000_000)).toEqual({ ok: true });
    expect(verify([a], 1_700_000_300)).toEqual({ ok: true });
    expect(verify([a], 1_700_000_301)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(verify([a], 1_699_999_699)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(verify([generateWebhookSecret()], 1_700_000_000)).toEqual({
      ok: false,
      reason: 'no_matching_signature',
    });
    expect(verifyStandardWebhook({ headers: {}, body, secrets: [a], nowSeconds: 0 })).toEqual({
      ok: false,
      reason: 'missing_header',
    });
    // Header names are case-insensitive on the wire.
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyStandardWebhook({ headers: upper, body, secrets: [a], nowSeconds: 1_700_000_000 }).ok).toBe(
      true,
    );
  });

  it('refuses message ids containing "." (they would make the signed content ambiguous)', () => {
    const secrets = [generateWebhookSecret()];
    expect(() => signStandardWebhook({ id: 'evt.1', timestampSeconds: 1, body, secrets })).toThrow(
      /without "."/,
    );
    expect(() => signStandardWebhook({ id: '', timestampSeconds: 1, body, secrets })).toThrow();
    expect(() => signStandardWebhook({ id: 'evt 1', timestampSeconds: 1, body, secrets })).toThrow();
    expect(() => signStandardWebhook({ id: 'evt_1', timestampSeconds: 1.5, body, secrets })).toThrow();
    expect(() => signStandardWebhook({ id: 'evt_1', timestampSeconds: 1, body, secrets: [] })).toThrow();
  });
});

describe('callback formats', () => {
  const endpoint = (secrets: Secret[]) => ({ url: 'https://merchant.example/hooks', secrets });

  it('standard-webhooks: POST JSON signed with the attempt time, verifiable by the official library', () => {
    const secret = generateWebhookSecret();
    const now = new Date();
    const request = standardWebhookFormat.build({ id: 'evt_fmt', body }, endpoint([secret]), { now });
    expect(standardWebhookFormat.method).toBe('POST');
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://merchant.example/hooks');
    expect(request.body).toBe(body);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(new Webhook(secret.reveal()).verify(body, { ...request.headers })).toEqual(JSON.parse(body));
  });

  it('hmac-body-signature (Payd style): Signature = base64(HMAC-SHA256(secret, raw body)) with the newest secret', () => {
    const newest = new Secret('payd-callback-secret-new');
    const older = new Secret('payd-callback-secret-old');
    const request = hmacBodySignatureFormat.build({ id: 'evt_p', body }, endpoint([newest, older]), {
      now: new Date(),
    });
    const expected = createHmac('sha256', 'payd-callback-secret-new').update(body).digest('base64');
    expect(request).toEqual({
      method: 'POST',
      url: 'https://merchant.example/hooks',
      headers: { 'Content-Type': 'application/json', Signature: expected },
      body,
    });
    expect(() =>
      hmacBodySignatureFormat.build({ id: 'evt_p', body }, endpoint([]), { now: new Date() }),
    ).toThrow();
  });
});

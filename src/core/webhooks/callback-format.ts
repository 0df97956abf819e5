import { assert } from '../errors/errors.js';
import type { Secret } from '../secrets/secrets.js';
import { hmacBodySignature, signStandardWebhook } from './signing.js';

/**
 * How one product dialect shapes and signs its callbacks. The delivery engine (outbox, retries, SSRF
 * guard, `deliver`) is shared; a format only turns an event into the HTTP request for one attempt.
 * Formats are pure: no I/O, no clock reads (the attempt time is passed in), so they are unit-testable
 * and an attempt can be rebuilt and re-signed on every retry.
 */

export type CallbackMethod = 'POST' | 'GET';

export interface CallbackEndpoint {
  readonly url: string;
  /** Active signing secrets, newest first; two during a rotation's overlap window. */
  readonly secrets: readonly Secret[];
}

export interface CallbackAttempt {
  /** When this attempt is made; signatures carry it so receivers can bound replays. */
  readonly now: Date;
}

export interface CallbackRequest {
  readonly method: CallbackMethod;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Raw bytes (UTF-8) exactly as signed; absent for GET. */
  readonly body?: string;
}

export interface CallbackFormat<TEvent> {
  /** Stable name stored with the endpoint, e.g. `standard-webhooks`. */
  readonly name: string;
  readonly method: CallbackMethod;
  build(event: TEvent, endpoint: CallbackEndpoint, attempt: CallbackAttempt): CallbackRequest;
  /** The dialect's own retry delays (default: the Standard Webhooks schedule in schedule.ts). */
  readonly retryDelaysSeconds?: readonly number[];
  /**
   * Extra headers that need I/O before an attempt (e.g. an OAuth2 client-credentials token against the
   * receiver's token URL). A throw counts as a failed attempt and is retried on the schedule.
   */
  authorize?(event: TEvent): Promise<Readonly<Record<string, string>>>;
}

/** An event already rendered into the JSON body its endpoint receives. */
export interface RenderedEvent {
  /** Message id: the event id (`evt_…`), identical on every retry so receivers can dedupe. */
  readonly id: string;
  readonly body: string;
}

/** Native API webhooks: Standard Webhooks 1.0 headers, every active secret signs. */
export const standardWebhookFormat: CallbackFormat<RenderedEvent> = {
  name: 'standard-webhooks',
  method: 'POST',
  build(event, endpoint, attempt) {
    const signed = signStandardWebhook({
      id: event.id,
      timestampSeconds: Math.floor(attempt.now.getTime() / 1000),
      body: event.body,
      secrets: endpoint.secrets,
    });
    return {
      method: 'POST',
      url: endpoint.url,
      headers: { 'content-type': 'application/json', ...signed },
      body: event.body,
    };
  },
};

/**
 * Payd-style callbacks: POST with `Signature: base64(HMAC-SHA256(secret, raw body))`. The header has
 * room for one signature only, so the newest secret signs and rotation is a hard switch for these.
 * The secret is used as its UTF-8 text, which is what a receiver's one-line `createHmac` does.
 */
export const hmacBodySignatureFormat: CallbackFormat<RenderedEvent> = {
  name: 'hmac-body-signature',
  method: 'POST',
  build(event, endpoint) {
    const newest = endpoint.secrets[0];
    assert(newest !== undefined, 'a signed callback endpoint has at least one secret');
    return {
      method: 'POST',
      url: endpoint.url,
      // Spelled as the vendor documents it; some receivers compare header names case-sensitively.
      headers: { 'Content-Type': 'application/json', Signature: hmacBodySignature(newest, event.body) },
      body: event.body,
    };
  },
};

import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { assert } from '../errors/errors.js';
import { systemClock, type Clock } from '../time/clock.js';
import type { CallbackMethod } from './callback-format.js';
import {
  checkCallbackUrl,
  createGuardedLookup,
  SsrfRefusedError,
  type HostResolver,
  type SsrfRefusalReason,
} from './ssrf.js';

/**
 * One HTTP delivery attempt of a callback, and how its result counts (Standard Webhooks "status
 * handling"). No retries, no I/O besides the one request: the job runner records the outcome and asks
 * `nextAttemptDelaySeconds` when to try again.
 */

/** Standard Webhooks asks for 15–30 s; receivers should acknowledge first and work later. */
export const deliveryTimeoutMsDefault = 15_000;
/** Upper bound for a configured timeout: a stuck receiver must not hold a worker slot for long. */
export const deliveryTimeoutMsMax = 60_000;
/** How much of the receiver's answer we keep for the delivery log; the rest is never read. */
export const responseSnippetBytesMax = 256;
/** Response header block limit (Node's default, made explicit). */
export const responseHeaderBytesMax = 16 * 1024;
/** Callback bodies are small JSON documents; this bounds a bug, not a product limit. */
export const requestBodyBytesMax = 1024 * 1024;
export const userAgent = 'Payloom-Webhooks/1';

/**
 * - `delivered`: 2xx.
 * - `retry`: try again later (per the schedule): non-2xx other than 410 (redirects included, never
 *   followed), timeouts, refused or reset connections, DNS failures, TLS failures.
 * - `disable`: 410 Gone, the receiver says the endpoint is no more.
 * - `failed`: will not succeed by retrying: the SSRF guard refused the URL or its address. The URL or
 *   its DNS must change first, and retrying a refused address only lets an attacker probe us again.
 */
export type DeliveryOutcome = 'delivered' | 'retry' | 'disable' | 'failed';

export type DeliveryErrorCode =
  | 'http_status'
  | 'redirect_not_followed'
  | 'timeout'
  | 'connection_refused'
  | 'dns_failure'
  | 'tls_error'
  | 'network_error'
  | 'ssrf_refused'
  /** A format's `authorize` step failed (e.g. the receiver's OAuth2 token URL). */
  | 'authorization';

export interface DeliveryError {
  readonly code: DeliveryErrorCode;
  readonly message: string;
  /** Set when `code` is `ssrf_refused`. */
  readonly ssrfReason?: SsrfRefusalReason;
}

export interface DeliveryResult {
  readonly outcome: DeliveryOutcome;
  readonly statusCode?: number;
  readonly latencyMs: number;
  /** At most 256 bytes of the response body, decoded as UTF-8 (an incomplete last character is dropped). */
  readonly responseSnippet: string;
  /** From `Retry-After` on 429 and 5xx; the schedule waits at least this long (capped). */
  readonly retryAfterSeconds?: number;
  readonly error?: DeliveryError;
}

export interface DeliveryRequest {
  readonly url: string;
  readonly method: CallbackMethod;
  /** Sent as given, except `User-Agent`, which is always ours so receivers can allow-list us. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
  /** Local development only; see `EgressPolicy.allowPrivate`. Default false. */
  readonly allowPrivate?: boolean;
  /**
   * Refuse plain http: true for production endpoints, false for sandbox and local development.
   * Required, not defaulted: either default would be silently wrong for one environment.
   */
  readonly requireHttps: boolean;
  /** Injected in tests; the system resolver otherwise. */
  readonly resolve?: HostResolver;
  /** Reads "now" for `Retry-After` HTTP dates. */
  readonly clock?: Clock;
}

/** Delay from a `Retry-After` value: delta-seconds or an HTTP date (RFC 9110 §10.2.3); else undefined. */
export function parseRetryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds : undefined;
  }
  // Date.parse accepts many shapes; an HTTP date always names the weekday and ends in GMT.
  if (!/^[A-Za-z]{3}, .+ GMT$/.test(text)) return undefined;
  const atMs = Date.parse(text);
  if (Number.isNaN(atMs)) return undefined;
  return Math.max(0, Math.ceil((atMs - now.getTime()) / 1000));
}

function statusResult(
  statusCode: number,
  headers: IncomingHttpHeaders,
  now: Date,
): Pick<DeliveryResult, 'outcome' | 'retryAfterSeconds' | 'error'> {
  if (statusCode >= 200 && statusCode < 300) return { outcome: 'delivered' };
  if (statusCode === 410) {
    return {
      outcome: 'disable',
      error: { code: 'http_status', message: 'HTTP 410 Gone: endpoint disabled' },
    };
  }
  if (statusCode >= 300 && statusCode < 400) {
    return {
      outcome: 'retry',
      error: { code: 'redirect_not_followed', message: `HTTP ${statusCode}: redirects are not followed` },
    };
  }
  const retryAfterSeconds =
    statusCode === 429 || statusCode >= 500 ? parseRetryAfterSeconds(headers['retry-after'], now) : undefined;
  return {
    outcome: 'retry',
    error: { code: 'http_status', message: `HTTP ${statusCode}` },
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };
}

const dnsErrorCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);

function errorCodeOf(error: Error): string | undefined {
  const code: unknown = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy-eyeballs connects (autoSelectFamily) fail with an AggregateError of one error per address.
  if (error instanceof AggregateError) {
    const first: unknown = error.errors[0];
    if (first instanceof Error) return errorCodeOf(first);
  }
  return undefined;
}

function transportError(error: Error): Pick<DeliveryResult, 'outcome' | 'error'> {
  if (error instanceof SsrfRefusedError) {
    return {
      outcome: 'failed',
      error: { code: 'ssrf_refused', message: error.message, ssrfReason: error.reason },
    };
  }
  const code = errorCodeOf(error) ?? '';
  const message = error.message === '' ? code : error.message;
  if (code === 'ECONNREFUSED') return { outcome: 'retry', error: { code: 'connection_refused', message } };
  if (dnsErrorCodes.has(code)) return { outcome: 'retry', error: { code: 'dns_failure', message } };
  // EPROTO: OpenSSL's record-layer failures, e.g. an https URL on a plain-http port.
  if (code === 'EPROTO' || /^(ERR_SSL_|ERR_TLS_)|CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return { outcome: 'retry', error: { code: 'tls_error', message } };
  }
  return { outcome: 'retry', error: { code: 'network_error', message } };
}

/**
 * One attempt. Whatever the receiver, DNS or the network does, the outcome says it; the promise
 * rejects only on a caller's bug (timeout out of bounds, a GET with a body, a header value Node refuses).
 */
export async function deliver(request: DeliveryRequest): Promise<DeliveryResult> {
  const startedMs = performance.now();
  const elapsedMs = (): number => Math.round(performance.now() - startedMs);
  const timeoutMs = request.timeoutMs ?? deliveryTimeoutMsDefault;
  assert(
    Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= deliveryTimeoutMsMax,
    `delivery timeout must be 1..${deliveryTimeoutMsMax} ms`,
  );
  assert(request.method !== 'GET' || request.body === undefined, 'a GET callback has no body');
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  assert(
    body === undefined || body.length <= requestBodyBytesMax,
    'callback body exceeds requestBodyBytesMax',
  );

  const allowPrivate = request.allowPrivate ?? false;
  const checked = checkCallbackUrl(request.url, {
    allowPrivate,
    requireHttps: request.requireHttps,
  });
  if (!checked.allowed) {
    return {
      outcome: 'failed',
      latencyMs: elapsedMs(),
      responseSnippet: '',
      error: { code: 'ssrf_refused', message: checked.message, ssrfReason: checked.reason },
    };
  }
  const { url, host } = checked;
  const clock = request.clock ?? systemClock;

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (name.toLowerCase() !== 'user-agent' && name.toLowerCase() !== 'content-length') headers[name] = value;
  }
  headers['User-Agent'] = userAgent;
  if (body !== undefined) headers['Content-Length'] = String(body.length);

  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    let response: { statusCode: number; headers: IncomingHttpHeaders } | undefined;
    const snippetChunks: Buffer[] = [];
    let snippetBytes = 0;

    const settle = (failure: Error | 'timeout' | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Drops the socket and whatever of the body we did not read: bounded reading, no draining.
      request_.destroy();
      const latencyMs = elapsedMs();
      if (response !== undefined) {
        // A status arrived: it decides, even if the body then stalled or broke.
        const responseSnippet = new TextDecoder('utf-8').decode(Buffer.concat(snippetChunks), {
          stream: true,
        });
        resolve({
          statusCode: response.statusCode,
          latencyMs,
          responseSnippet,
          ...statusResult(response.statusCode, response.headers, clock.now()),
        });
      } else if (failure === 'timeout') {
        const message = `no answer within ${timeoutMs} ms`;
        resolve({ outcome: 'retry', latencyMs, responseSnippet: '', error: { code: 'timeout', message } });
      } else {
        resolve({ latencyMs, responseSnippet: '', ...transportError(failure ?? new Error('no response')) });
      }
    };

    const transport = url.protocol === 'https:' ? https : http;
    const request_ = transport.request({
      method: request.method,
      hostname: host,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers,
      // A fresh connection per attempt: no pooled socket outlives the check that admitted it.
      agent: false,
      lookup: createGuardedLookup({ allowPrivate, ...(request.resolve ? { resolve: request.resolve } : {}) }),
      maxHeaderSize: responseHeaderBytesMax,
    });
    // One deadline for the whole attempt: DNS, connect, TLS, headers and the snippet.
    const timer = setTimeout(() => settle('timeout'), timeoutMs);

    request_.on('error', (error) => settle(error));
    request_.on('response', (incoming) => {
      response = { statusCode: incoming.statusCode ?? 0, headers: incoming.headers };
      incoming.on('data', (chunk: Buffer) => {
        const room = responseSnippetBytesMax - snippetBytes;
        if (room > 0) {
          const kept = chunk.subarray(0, room);
          snippetChunks.push(kept);
          snippetBytes += kept.length;
        }
        if (snippetBytes >= responseSnippetBytesMax) settle(undefined);
      });
      incoming.on('end', () => settle(undefined));
      incoming.on('error', (error) => settle(error));
    });
    request_.end(body);
  });
}

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../time/clock.js';
import { standardWebhookFormat } from './callback-format.js';
import { deliver, parseRetryAfterSeconds, responseSnippetBytesMax } from './delivery.js';
import { generateWebhookSecret } from './signing.js';
import type { HostResolver } from './ssrf.js';

// Receivers listen on 127.0.0.1 only; names are resolved by injected resolvers, never by DNS.

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface Receiver {
  readonly origin: string;
  readonly port: number;
  readonly received: Received[];
}

const servers: http.Server[] = [];

async function receiver(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handle(req, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, port, received };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const dev = { allowPrivate: true, requireHttps: false } as const;
const namesTo =
  (address: string, calls: string[] = []): HostResolver =>
  async (hostname) => {
    calls.push(hostname);
    return [{ address, family: 4 }];
  };

describe('deliver: status handling', () => {
  it('2xx is delivered: signed request arrives intact, verifiable, with our User-Agent', async () => {
    const target = await receiver((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok thanks'),
    );
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'payment.succeeded', data: { id: 'pay_1' } });
    const request = standardWebhookFormat.build(
      { id: 'evt_1', body },
      { url: `${target.origin}/hooks?tenant=a`, secrets: [secret] },
      { now: new Date() },
    );
    const result = await deliver({
      ...request,
      ...dev,
      headers: { ...request.headers, 'User-Agent': 'spoof' },
    });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, responseSnippet: 'ok thanks' });
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [seen] = target.received;
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/hooks?tenant=a');
    expect(seen?.headers['user-agent']).toBe('Payloom-Webhooks/1');
    expect(seen?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen?.body).toBe(body);
    const official = new Webhook(secret.reveal());
    expect(official.verify(seen?.body ?? '', seen?.headers as Record<string, string>)).toEqual(
      JSON.parse(body),
    );
  });

  it('204 is delivered with an empty snippet; a GET callback carries its query and no body', async () => {
    const target = await receiver((_req, res) => res.writeHead(204).end());
    const result = await deliver({
      url: `${target.origin}/cb?msisdn=4790000000&status=ok`,
      method: 'GET',
      ...dev,
    });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 204, responseSnippet: '' });
    expect(target.received[0]).toMatchObject({
      method: 'GET',
      url: '/cb?msisdn=4790000000&status=ok',
      body: '',
    });
  });

  it('3xx is not followed and counts as a failure to retry', async () => {
    const target = await receiver((req, res) => {
      if (req.url === '/moved') res.writeHead(301, { location: '/elsewhere' }).end();
      else res.writeHead(200).end();
    });
    const result = await deliver({ url: `${target.origin}/moved`, method: 'POST', body: '{}', ...dev });
    expect(result).toMatchObject({
      outcome: 'retry',
      statusCode: 301,
      error: { code: 'redirect_not_followed' },
    });
    expect(target.received.map((r) => r.url)).toEqual(['/moved']);
  });

  it('410 disables the endpoint', async () => {
    const target = await receiver((_req, res) => res.writeHead(410).end('gone'));
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev });
    expect(result).toMatchObject({ outcome: 'disable', statusCode: 410, responseSnippet: 'gone' });
  });

  it('429 with Retry-After in seconds is retried no sooner than asked', async () => {
    const target = await receiver((_req, res) =>
      res.writeHead(429, { 'retry-after': '30' }).end('slow down'),
    );
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev });
    expect(result).toMatchObject({ outcome: 'retry', statusCode: 429, retryAfterSeconds: 30 });
  });

  it('503 with Retry-After as an HTTP date is turned into seconds from now', async () => {
    const clock = new ManualClock('2026-03-01T12:00:00Z');
    const later = new Date('2026-03-01T12:02:00Z').toUTCString();
    const target = await receiver((_req, res) => res.writeHead(503, { 'retry-after': later }).end());
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev, clock });
    expect(result).toMatchObject({ outcome: 'retry', statusCode: 503, retryAfterSeconds: 120 });
  });

  it('other 4xx are retried; Retry-After counts only on 429 and 5xx', async () => {
    const target = await receiver((_req, res) => res.writeHead(404, { 'retry-after': '30' }).end());
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev });
    expect(result).toMatchObject({ outcome: 'retry', statusCode: 404, error: { code: 'http_status' } });
    expect(result.retryAfterSeconds).toBeUndefined();
  });

  it('parses Retry-After strictly', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    expect(parseRetryAfterSeconds('120', now)).toBe(120);
    expect(parseRetryAfterSeconds(' 0 ', now)).toBe(0);
    expect(parseRetryAfterSeconds('Sun, 01 Mar 2026 12:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfterSeconds('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterSeconds('-5', now)).toBeUndefined();
    expect(parseRetryAfterSeconds('1.5', now)).toBeUndefined();
    expect(parseRetryAfterSeconds('2026-03-01', now)).toBeUndefined();
    expect(parseRetryAfterSeconds('soon', now)).toBeUndefined();
    expect(parseRetryAfterSeconds(undefined, now)).toBeUndefined();
  });
});

describe('deliver: bounded time and bounded reading', () => {
  it('a server that never answers times out and is retried', async () => {
    const target = await receiver(() => undefined);
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', timeoutMs: 200, ...dev });
    expect(result).toMatchObject({ outcome: 'retry', error: { code: 'timeout' } });
    expect(result.statusCode).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(190);
    expect(result.latencyMs).toBeLessThan(2000);
  });

  it('keeps at most 256 bytes of a huge answer and stops reading it', async () => {
    const target = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // An endless body: only a reader that stops after the snippet returns before the timeout.
      const chunk = 'x'.repeat(64 * 1024);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const result = await deliver({
      url: target.origin,
      method: 'POST',
      body: '{}',
      timeoutMs: 10_000,
      ...dev,
    });
    expect(result.outcome).toBe('delivered');
    expect(Buffer.byteLength(result.responseSnippet)).toBe(responseSnippetBytesMax);
    expect(result.responseSnippet).toBe('x'.repeat(256));
    expect(result.latencyMs).toBeLessThan(5000);
  });

  it('cuts the snippet on a character boundary', async () => {
    const target = await receiver((_req, res) => res.writeHead(500).end(`a${'é'.repeat(300)}`));
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev });
    expect(result.outcome).toBe('retry');
    expect(result.responseSnippet).toBe(`a${'é'.repeat(127)}`);
    expect(Buffer.byteLength(result.responseSnippet)).toBeLessThanOrEqual(responseSnippetBytesMax);
  });

  it('rejects a timeout above the named maximum', async () => {
    await expect(
      deliver({ url: 'http://127.0.0.1:1/', method: 'GET', timeoutMs: 600_000, ...dev }),
    ).rejects.toThrow(/timeout/);
  });
});

describe('deliver: transport failures', () => {
  it('connection refused is retried', async () => {
    const target = await receiver(() => undefined);
    const server = servers.pop();
    await new Promise((resolve) => server?.close(resolve));
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev });
    expect(result).toMatchObject({ outcome: 'retry', error: { code: 'connection_refused' } });
    expect(result.responseSnippet).toBe('');
  });

  it('a DNS failure is retried', async () => {
    const resolve: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.test'), { code: 'ENOTFOUND' });
    };
    const result = await deliver({
      url: 'https://hooks.example.test/',
      method: 'POST',
      body: '{}',
      requireHttps: true,
      resolve,
    });
    expect(result).toMatchObject({ outcome: 'retry', error: { code: 'dns_failure' } });
  });

  it('a connection reset before any answer is retried', async () => {
    const target = await receiver((req) => req.socket.destroy());
    const result = await deliver({ url: target.origin, method: 'POST', body: '{}', ...dev });
    expect(result).toMatchObject({ outcome: 'retry', error: { code: 'network_error' } });
  });

  it('https to something that does not speak TLS is a TLS failure, retried', async () => {
    const target = await receiver((_req, res) => res.writeHead(400).end());
    const result = await deliver({
      url: `https://127.0.0.1:${target.port}/`,
      method: 'POST',
      body: '{}',
      ...dev,
    });
    expect(result).toMatchObject({ outcome: 'retry', error: { code: 'tls_error' } });
  });
});

describe('deliver: SSRF guard', () => {
  it('refuses a loopback URL without allowPrivate, without connecting, and does not retry', async () => {
    const target = await receiver((_req, res) => res.writeHead(200).end());
    const result = await deliver({
      url: `${target.origin}/hooks`,
      method: 'POST',
      body: '{}',
      requireHttps: false,
    });
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: 'ssrf_refused', ssrfReason: 'loopback' },
    });
    expect(target.received).toHaveLength(0);
  });

  it('refuses a public-looking name whose DNS answer is private, at connect time', async () => {
    const target = await receiver((_req, res) => res.writeHead(200).end());
    const calls: string[] = [];
    const result = await deliver({
      url: `http://hooks.example.test:${target.port}/`,
      method: 'POST',
      body: '{}',
      requireHttps: false,
      resolve: namesTo('127.0.0.1', calls),
    });
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: 'ssrf_refused', ssrfReason: 'loopback' },
    });
    expect(result.error?.message).toContain('hooks.example.test → 127.0.0.1');
    expect(calls).toEqual(['hooks.example.test']);
    expect(target.received).toHaveLength(0);
  });

  it('refuses plain http when https is required, and credentials in the URL', async () => {
    expect(
      await deliver({ url: 'http://hooks.example.test/', method: 'GET', requireHttps: true }),
    ).toMatchObject({
      outcome: 'failed',
      error: { ssrfReason: 'insecure_http' },
    });
    expect(
      await deliver({ url: 'https://a:b@hooks.example.test/', method: 'GET', requireHttps: true }),
    ).toMatchObject({
      outcome: 'failed',
      error: { ssrfReason: 'credentials_in_url' },
    });
  });

  it('with allowPrivate, connects to exactly the address the guarded lookup returned', async () => {
    const target = await receiver((_req, res) => res.writeHead(202).end('queued'));
    const calls: string[] = [];
    const result = await deliver({
      url: `http://hooks.example.test:${target.port}/in`,
      method: 'POST',
      body: '{"a":1}',
      allowPrivate: true,
      requireHttps: false,
      resolve: namesTo('127.0.0.1', calls),
    });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 202, responseSnippet: 'queued' });
    expect(calls).toEqual(['hooks.example.test']);
    expect(target.received[0]?.headers.host).toBe(`hooks.example.test:${target.port}`);
  });
});

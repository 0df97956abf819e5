import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startJobRunner } from '../../src/core/jobs/runner.js';
import { jobHandlers } from '../../src/worker.js';
import type { ApiResponse, TestApp } from '../harness.js';

/** The demo client's Payd credentials, as `payloom demo-credentials --json` prints them. */
export interface BillPaymentDemo {
  tokenUrl: string;
  apiBaseUrl: string;
  clientId: number;
  clientSecret: string;
  apiKey: string;
  fundingSourceId: number;
  productIds: number[];
  currencyCode: string;
}

export const gateway = '/apiman-gateway/PaydServices';

export function demoOf(t: TestApp): BillPaymentDemo {
  return t.demo.billPayment as BillPaymentDemo;
}

/** A form-encoded token request, as a Keycloak client sends it. */
export async function requestToken(
  t: TestApp,
  form: Record<string, string>,
  realm = 'SANDBOX-API',
): Promise<ApiResponse> {
  return t.request('POST', `/auth/realms/${realm}/protocol/openid-connect/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  });
}

export async function tokenFor(t: TestApp, clientId: number, clientSecret: string): Promise<string> {
  const res = await requestToken(t, {
    client_id: String(clientId),
    client_secret: clientSecret,
    grant_type: 'client_credentials',
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
  return res.body.access_token as string;
}

export interface Payd {
  readonly clientId: number;
  readonly token: string;
  readonly apiKey: string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  postRaw(path: string, payload: string, headers?: Record<string, string>): Promise<ApiResponse>;
  get(path: string, query: Record<string, string | number>): Promise<ApiResponse>;
}

export function payd(t: TestApp, clientId: number, token: string, apiKey: string): Payd {
  const auth = { authorization: `Bearer ${token}`, 'x-api-key': apiKey };
  const postRaw = (path: string, payload: string, headers: Record<string, string> = {}) =>
    t.request('POST', `${gateway}${path}`, {
      headers: { ...auth, 'content-type': 'application/json', ...headers },
      payload,
    });
  return {
    clientId,
    token,
    apiKey,
    postRaw,
    post: (path, body, headers) => postRaw(path, JSON.stringify(body), headers),
    get: (path, query) =>
      t.request(
        'GET',
        `${gateway}${path}?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString()}`,
        { headers: auth },
      ),
  };
}

export async function demoPayd(t: TestApp): Promise<Payd> {
  const demo = demoOf(t);
  return payd(t, demo.clientId, await tokenFor(t, demo.clientId, demo.clientSecret), demo.apiKey);
}

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: Record<string, unknown>;
}

/** A local Transact Result receiver answering HTTP 202, as the vendor documents the acknowledgement. */
export async function startReceiver(): Promise<{
  server: Server;
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        body = {};
      }
      received.push({ path: req.url ?? '/', headers: req.headers, raw, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/transact-result`;
  return {
    server,
    url,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs the app's workers until `until()` holds (bounded), then stops them. */
export async function runJobsUntil(t: TestApp, until: () => boolean | Promise<boolean>): Promise<void> {
  const runner = startJobRunner(t.database.handle.db, jobHandlers(t.services), {
    info: () => undefined,
    error: () => undefined,
  });
  try {
    for (let i = 0; i < 1500 && !(await until()); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await runner.stop();
  }
  if (!(await until())) throw new Error('runJobsUntil: condition not reached');
}

export function nowIso(): string {
  return new Date().toISOString();
}

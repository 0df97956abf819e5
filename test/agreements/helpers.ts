import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runClockJobs, startJobRunner } from '../../src/core/jobs/runner.js';
import { jobHandlers } from '../../src/worker.js';
import type { ApiResponse, RequestOptions, TestApp } from '../harness.js';

export interface AgrDemo {
  discoveryEndpoint: string;
  apiEndpoint: string;
  providerId: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  applicationClientId: string;
  applicationClientSecret: string;
}

export interface Received {
  path: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** A local receiver for callbacks: records every request, answers 200. */
export async function startReceiver(): Promise<{
  server: Server;
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      let body: unknown = data;
      try {
        body = JSON.parse(data);
      } catch {
        /* not JSON */
      }
      received.push({ path: req.url ?? '/', body, headers: req.headers });
      res.writeHead(200).end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export class MobilePayClient {
  token = '';
  constructor(
    readonly t: TestApp,
    readonly demo: AgrDemo,
  ) {}

  async login(): Promise<void> {
    const res = await this.t.request('POST', '/subscriptions/oidc/connect/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: this.demo.refreshToken,
        client_id: this.demo.clientId,
        client_secret: this.demo.clientSecret,
      }).toString(),
    });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
    this.token = res.body.access_token as string;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      authorization: `Bearer ${this.token}`,
      'x-ibm-client-id': this.demo.applicationClientId,
      'x-ibm-client-secret': this.demo.applicationClientSecret,
      ...extra,
    };
  }

  call(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.t.request(
      method,
      `/subscriptions/api${path.replace('{p}', `/providers/${this.demo.providerId}`)}`,
      {
        ...options,
        headers: this.headers(options.headers),
      },
    );
  }
}

export function agreementBody(receiver: string, extra: Record<string, unknown> = {}) {
  return {
    external_id: 'AGGR00068',
    amount: '10',
    currency: 'DKK',
    description: 'Monthly subscription',
    frequency: 12,
    links: [
      { rel: 'user-redirect', href: `${receiver}/redirect` },
      { rel: 'success-callback', href: `${receiver}/success` },
      { rel: 'cancel-callback', href: `${receiver}/cancel` },
    ],
    country_code: 'DK',
    plan: 'Basic',
    expiration_timeout_minutes: 5,
    mobile_phone_number: '4520000000',
    ...extra,
  };
}

/** Runs real-time jobs until `until()` holds (no fixed sleeps: polls the condition). */
export async function runJobs(t: TestApp, until: () => boolean | Promise<boolean>): Promise<void> {
  const runner = startJobRunner(t.database.handle.db, jobHandlers(t.services), {
    info: () => undefined,
    error: () => undefined,
  });
  try {
    for (let i = 0; i < 1000 && !(await until()); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await runner.stop();
  }
}

export async function runClock(t: TestApp, clockId: string): Promise<void> {
  await runClockJobs(t.database.handle.db, jobHandlers(t.services), clockId, {
    info: () => undefined,
    error: () => undefined,
  });
}

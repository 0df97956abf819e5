/**
 * `npm run bench -- <scenario> [--clients N] [--seconds S]`
 *
 * Starts Payloom (`payloom start`, as a child process) on PostgreSQL when DATABASE_URL is set, else on
 * embedded PGlite in a temporary directory, drives one scenario with a fixed number of concurrent
 * clients for a fixed time, and prints operations/s, p50/p95/p99 latency and errors. On PostgreSQL it
 * also runs pgbench TPC-B on the same database with the same number of clients and prints the ratio.
 * Scenarios: see `scenarios` below; products add theirs there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { billPaymentDescription, runBillPayment } from './bill-payment.js';
import { agreementsScenario } from './agreements.js';
import { subscriptionsBench } from './subscriptions.js';

interface Stats {
  ops: number;
  errors: number;
  latenciesMs: number[];
  seconds: number;
}

interface Payloom {
  baseUrl: string;
  creds: {
    native: { apiKey: string };
    operator: { apiKey: string };
    carrierBilling: { apiKey: string; username: string; password: string; productId: number };
  };
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const mainJs = path.resolve(import.meta.dirname, '../src/main.js');

async function startPayloom(extraEnv: Record<string, string>): Promise<Payloom> {
  const dataDir = process.env.DATABASE_URL ? undefined : mkdtempSync(path.join(tmpdir(), 'payloom-bench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PAYLOOM_LOG_LEVEL: 'warn',
    PAYLOOM_RATE_LIMIT_SANDBOX_PER_SECOND: '1000000',
    PAYLOOM_RATE_LIMIT_PRODUCTION_PER_SECOND: '1000000',
    PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true',
    // A load test on the sandbox: the per-number limits are raised, as an operator would.
    PAYLOOM_PIN_PER_MSISDN_PER_10_MINUTES: '1000',
    PAYLOOM_PIN_PER_MSISDN_PER_DAY: '10000',
    PAYLOOM_SMS_PER_MSISDN_PER_DAY: '1000000',
    PAYLOOM_SMS_PER_PREFIX_PER_DAY: '100000000',
    PAYLOOM_SMS_PER_MERCHANT_PER_DAY: '100000000',
    ...(dataDir ? { PAYLOOM_DATA_DIR: dataDir } : {}),
    ...extraEnv,
  };
  // PAYLOOM_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load.
  const nodeArgs = (process.env.PAYLOOM_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, mainJs, 'start', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match?.[1]) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`payloom exited with ${code}: ${output}`)));
  });
  const credsRun = spawnSync(process.execPath, [mainJs, 'demo-credentials', '--json'], {
    env,
    encoding: 'utf8',
  });
  if (credsRun.status !== 0) throw new Error(`demo-credentials failed: ${credsRun.stderr}`);
  const creds = JSON.parse(credsRun.stdout) as Payloom['creds'];
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    creds,
    env,
    stop: async () => {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** N concurrent loops calling `op` until the time is up. */
async function drive(
  clients: number,
  seconds: number,
  op: (client: number) => Promise<void>,
): Promise<Stats> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await op(client);
          latenciesMs.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ops: latenciesMs.length, errors, latenciesMs, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(name: string, stats: Stats): number {
  const sorted = [...stats.latenciesMs].sort((a, b) => a - b);
  const rate = stats.ops / stats.seconds;
  console.log(
    `${name}: ${rate.toFixed(0)} ops/s over ${stats.seconds.toFixed(1)} s, ` +
      `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, ` +
      `p99 ${percentile(sorted, 99).toFixed(1)} ms, errors ${stats.errors}`,
  );
  return rate;
}

/** pgbench TPC-B on the same database and client count; undefined where pgbench or PostgreSQL is absent. */
function pgbench(clients: number, seconds: number): number | undefined {
  const url = process.env.DATABASE_URL;
  if (!url) return undefined;
  const which = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const init = spawnSync('pgbench', ['-i', '-q', '-s', '1', url], { encoding: 'utf8' });
  if (init.status !== 0) {
    console.log(`pgbench -i failed: ${init.stderr}`);
    return undefined;
  }
  const run = spawnSync('pgbench', ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), url], {
    encoding: 'utf8',
  });
  spawnSync('pgbench', ['-i', '-I', 'd', url], { encoding: 'utf8' });
  const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout);
  if (!match?.[1]) return undefined;
  const tps = Number(match[1]);
  console.log(`pgbench TPC-B: ${tps.toFixed(0)} tps with ${clients} clients`);
  return tps;
}

type Scenario = (payloom: Payloom, clients: number, seconds: number) => Promise<number>;

async function json(url: string, init: RequestInit & { key?: string } = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.body) headers.set('content-type', 'application/json');
  const response = await fetch(url, { ...init, headers });
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

/** Sandbox numbers that bill successfully: 447700900010-499 and 510-999 (no failure ending, not ported). */
function sandboxMsisdns(): string[] {
  const numbers: string[] = [];
  for (let n = 10; n < 1000; n++)
    if (n < 500 || n > 509) numbers.push(`447700900${String(n).padStart(3, '0')}`);
  return numbers;
}

const scenarios: Record<string, { describe: string; run: Scenario }> = {
  'bill-payment': {
    describe: billPaymentDescription,
    run: (payloom, clients, seconds) => runBillPayment(payloom, clients, seconds, { drive, report }),
  },
  agreements: {
    describe: 'one-off payments: request → reserve (sandbox payer simulation) → capture',
    run: (payloom, clients, seconds) =>
      agreementsScenario({ baseUrl: payloom.baseUrl, creds: payloom.creds, drive, report }, clients, seconds),
  },
  subscriptions: {
    describe:
      'billing: 100 000 subscriptions due at once on a test clock, charged by 1 and by 2 workers (SUBSCRIPTIONS_BENCH_COUNT)',
    run: async () => subscriptionsBench(Number(process.env.SUBSCRIPTIONS_BENCH_COUNT ?? '100000')),
  },
  'carrier-billing': {
    describe: 'complete purchases: PinGenerateWithParams, PIN read from the sandbox phone, SendBillWithPin',
    run: async (payloom, clients, seconds) => {
      const cb = payloom.creds.carrierBilling;
      for (const id of ['car_sandbox_uk_refunds', 'car_sandbox_uk_norefunds']) {
        await json(`${payloom.baseUrl}/v1/carriers/${id}`, {
          method: 'PATCH',
          key: payloom.creds.operator.apiKey,
          body: JSON.stringify({ daily_max_minor: 1_000_000_000, monthly_max_minor: 10_000_000_000 }),
        });
      }
      const numbers = sandboxMsisdns();
      const dcb = (method: string, body: Record<string, unknown>) =>
        json(`${payloom.baseUrl}/dcbsb/${method}`, {
          method: 'POST',
          headers: { 'x-infomedia-api-key': cb.apiKey },
          body: JSON.stringify({ u: cb.username, p: cb.password, productId: cb.productId, ...body }),
        }) as Promise<{ status: string; description: string; pinId?: string }>;
      // Each client owns its own numbers, so the newest SMS to a number is its own PIN.
      const clientNumbers = Array.from({ length: clients }, (_, c) =>
        numbers.filter((_n, i) => i % clients === c),
      );
      const cursor = new Array<number>(clients).fill(0);
      return report(
        'carrier-billing',
        await drive(clients, seconds, async (client) => {
          const own = clientNumbers[client] ?? numbers;
          const mx = own[(cursor[client] = (cursor[client] ?? 0) + 1) % own.length] ?? '447700900123';
          const generated = await dcb('PinGenerateWithParams', {
            mx,
            params: [{ key: 'amount', value: '1.00' }],
          });
          if (generated.status !== 'Success' || !generated.pinId) throw new Error(generated.description);
          const inbox = (await json(`${payloom.baseUrl}/v1/sandbox/sms?to=${mx}&limit=1`, {
            key: payloom.creds.native.apiKey,
          })) as { data: Array<{ code?: string }> };
          const code = inbox.data[0]?.code ?? '';
          const billed = await dcb('SendBillWithPin', {
            mx,
            pinId: generated.pinId,
            params: [{ key: 'PIN', value: code }],
          });
          if (billed.status !== 'Success') throw new Error(billed.description);
        }),
      );
    },
  },
  'api-auth': {
    describe: 'authenticated native API read (GET /v1/merchant): the per-request floor',
    run: async (payloom, clients, seconds) =>
      report(
        'api-auth',
        await drive(clients, seconds, async () => {
          await json(`${payloom.baseUrl}/v1/merchant`, { key: payloom.creds.native.apiKey });
        }),
      ),
  },
  'api-write': {
    describe: 'idempotent, audited write (POST /v1/access-requests rename via PATCH)',
    run: async (payloom, clients, seconds) => {
      const list = (await json(`${payloom.baseUrl}/v1/access-requests`, {
        key: payloom.creds.native.apiKey,
      })) as {
        data: Array<{ id: string }>;
      };
      const id = list.data[0]?.id ?? '';
      let n = 0;
      return report(
        'api-write',
        await drive(clients, seconds, async () => {
          n++;
          await json(`${payloom.baseUrl}/v1/access-requests/${id}`, {
            method: 'PATCH',
            key: payloom.creds.native.apiKey,
            headers: { 'idempotency-key': `bench-${process.pid}-${n}` },
            body: JSON.stringify({ name: `bench ${n}` }),
          });
        }),
      );
    },
  },
  'webhook-delivery': {
    describe: 'events delivered to a local receiver: deliveries/s and commit-to-delivery latency',
    run: async (payloom, clients, seconds) => {
      const latencies: number[] = [];
      const sentAt = new Map<string, number>();
      const server: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const name = (JSON.parse(body) as { data: { name?: string } }).data.name ?? '';
          const t0 = sentAt.get(name);
          if (t0 !== undefined) latencies.push(performance.now() - t0);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      await json(`${payloom.baseUrl}/v1/webhook-endpoints`, {
        method: 'POST',
        key: payloom.creds.native.apiKey,
        body: JSON.stringify({ url }),
      });
      let n = 0;
      const start = performance.now();
      const produced = await drive(clients, seconds, async () => {
        n++;
        const name = `bench-${n}`;
        sentAt.set(name, performance.now());
        await json(`${payloom.baseUrl}/v1/webhook-endpoints/test-event`, {
          method: 'POST',
          key: payloom.creds.native.apiKey,
          body: JSON.stringify({ data: { name } }),
        });
      });
      // Wait (bounded) for the queue to drain.
      const drainDeadline = performance.now() + 30_000;
      while (latencies.length < produced.ops && performance.now() < drainDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      server.close();
      const elapsed = (performance.now() - start) / 1000;
      return report('webhook-delivery', {
        ops: latencies.length,
        errors: produced.ops - latencies.length,
        latenciesMs: latencies,
        seconds: elapsed,
      });
    },
  },
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '10' } },
    allowPositionals: true,
  });
  const name = positionals[0] ?? 'api-auth';
  const scenario = scenarios[name];
  if (!scenario) {
    console.log(
      `scenarios:\n${Object.entries(scenarios)
        .map(([k, v]) => `  ${k}: ${v.describe}`)
        .join('\n')}`,
    );
    process.exitCode = 1;
    return;
  }
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  console.log(
    `bench ${name}: ${clients} clients, ${seconds} s, on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}`,
  );
  const payloom = await startPayloom({});
  let rate: number;
  try {
    rate = await scenario.run(payloom, clients, seconds);
  } finally {
    await payloom.stop();
  }
  const tps = pgbench(clients, seconds);
  if (tps !== undefined) console.log(`ratio to pgbench TPC-B: ${((rate / tps) * 100).toFixed(1)} %`);
}

await main();

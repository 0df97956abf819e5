/**
 * The subscriptions bench (`npm run bench -- subscriptions`) and its charge worker.
 *
 * `seedDueCycles` writes N active subscriptions with a stored card and one billing cycle due at once (on
 * a test clock, or in real time), in a few set-based statements. `node dist/bench/subscriptions.js
 * worker …` is one charge worker process: it drains the due cycles with the product's own charge path
 * (claimed batches, FOR UPDATE SKIP LOCKED) and prints its figures as JSON.
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { sandboxConnectors } from '../src/connectors/sandbox-connectors.js';
import type { CardAcquirerConnector } from '../src/connectors/contracts/card-acquirer.js';
import { openPglite, openPostgres, type Db } from '../src/core/db/db.js';
import { migrate } from '../src/core/db/migrate.js';
import { verifyLedger } from '../src/core/ledger/verify.js';
import { runDueCycles } from '../src/products/subscriptions/billing.js';

export interface SeedResult {
  merchantId: string;
  testClockId: string | null;
  dueAt: Date;
}

/** N due cycles for `merchantId` (created if absent), on a new test clock or real-time (`clock: false`). */
export async function seedDueCycles(
  db: Db,
  input: { count: number; clock: boolean; merchantId?: string },
): Promise<SeedResult> {
  const merchantId = input.merchantId ?? `mer_bench${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const dueAt = new Date('2030-01-01T09:00:00Z');
  await sql`INSERT INTO merchants (id, name) VALUES (${merchantId}, 'Bench merchant') ON CONFLICT DO NOTHING`.execute(
    db,
  );
  const testClockId = input.clock ? `clock_bench${randomUUID().replace(/-/g, '').slice(0, 16)}` : null;
  if (testClockId) {
    await sql`INSERT INTO test_clocks (merchant_id, id, environment, frozen_time)
              VALUES (${merchantId}, ${testClockId}, 'sandbox', ${dueAt.toISOString()}::timestamptz)`.execute(
      db,
    );
  }
  const planId = `SubscriptionPlan-${randomUUID()}`;
  await sql`INSERT INTO sp_plans (merchant_id, environment, id, name, description, recurrent_minor, currency,
              billing_occurrence, billing_unit, billing_cycles)
            VALUES (${merchantId}, 'sandbox', ${planId}, 'Bench', 'Bench plan', 999, 'EUR', 1, 'month', 1)`.execute(
    db,
  );
  const tag = randomUUID().slice(0, 8);
  // One statement per table, set-based: cards, agreements, subscriptions, due cycles.
  await sql`
    INSERT INTO vault_cards (merchant_id, environment, id, customer_account_id, fingerprint, brand, first6, last4, exp_month,
      exp_year, ciphertext, connector_token, network_transaction_id)
    SELECT ${merchantId}, 'sandbox', md5(${tag} || 'card' || g), ${tag} || '-c' || g, decode(md5(${tag} || g::text), 'hex'),
           'visa', '424242', '4242', 12, 2040, decode('00', 'hex'), 'simtok_visa_4242_approve', 'ntid_0123456789abcdef'
      FROM generate_series(1, ${input.count}) g`.execute(db);
  await sql`
    INSERT INTO sp_billing_agreements (merchant_id, environment, id, object_type, object_id, status, card_id)
    SELECT ${merchantId}, 'sandbox', 'BillingAgreement-' || ${tag} || '-' || g, 'subscription',
           'Subscription-' || ${tag} || '-' || g, 'active', md5(${tag} || 'card' || g)
      FROM generate_series(1, ${input.count}) g`.execute(db);
  await sql`
    INSERT INTO sp_subscriptions (merchant_id, environment, id, plan_id, customer_account_id, status, start_date, start_at,
      timezone, amount_minor, currency, billing_occurrence, billing_unit, billing_cycles, prepaid, billing_cycles_remaining,
      cycles_created, next_billing_date, billing_agreement_id, billing_address, consumer, test_clock_id)
    SELECT ${merchantId}, 'sandbox', 'Subscription-' || ${tag} || '-' || g, ${planId}, ${tag} || '-c' || g, 'active',
           '2030-01-01T09:00:00Z', ${dueAt.toISOString()}::timestamptz, 'UTC', 999, 'EUR', 1, 'month', 1, true, 1, 1,
           '2030-01-01', 'BillingAgreement-' || ${tag} || '-' || g, '{}'::jsonb, '{}'::jsonb, ${testClockId}
      FROM generate_series(1, ${input.count}) g`.execute(db);
  await sql`
    INSERT INTO sp_billing_cycles (merchant_id, environment, id, subscription_id, cycle_no, billing_date, period_start,
      period_end, charge_at, amount_minor, currency, status, next_attempt_at, test_clock_id)
    SELECT ${merchantId}, 'sandbox', 'BillingCycle-' || ${tag} || '-' || g, 'Subscription-' || ${tag} || '-' || g, 0,
           '2030-01-01', '2030-01-01', '2030-01-31', ${dueAt.toISOString()}::timestamptz, 999, 'EUR', 'Scheduled',
           ${input.clock ? sql`${dueAt.toISOString()}::timestamptz` : sql`now() - interval '1 second'`}, ${testClockId}
      FROM generate_series(1, ${input.count}) g`.execute(db);
  return { merchantId, testClockId, dueAt };
}

/** The sandbox acquirer, optionally answering after `delayMs` (to hold charges in flight in kill tests). */
function slowAcquirer(delayMs: number): CardAcquirerConnector {
  const inner = sandboxConnectors().cardAcquirer;
  if (delayMs <= 0) return inner;
  const wait = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  return {
    id: inner.id,
    capabilities: () => inner.capabilities(),
    authorize: (r, o) => inner.authorize(r, o),
    capture: (r, o) => inner.capture(r, o),
    void: (r, o) => inner.void(r, o),
    refund: (r, o) => inner.refund(r, o),
    status: (r, o) => inner.status(r, o),
    chargeMerchantInitiated: async (r, o) => {
      await wait();
      return inner.chargeMerchantInitiated(r, o);
    },
  };
}

export interface WorkerFigures {
  charged: number;
  seconds: number;
  latenciesMs: number[];
}

/** Drains due cycles (or keeps polling with `loop`) with the product's charge path. */
export async function chargeWorker(
  db: Db,
  input: {
    testClockId: string | null;
    now: Date;
    leaseSeconds: number;
    delayMs: number;
    loop: boolean;
    concurrency: number;
  },
): Promise<WorkerFigures> {
  const deps = {
    db,
    acquirer: slowAcquirer(input.delayMs),
    now: () => new Date(),
    leaseSeconds: input.leaseSeconds,
  };
  const latenciesMs: number[] = [];
  const started = performance.now();
  let charged = 0;
  for (;;) {
    charged += await runDueCycles(deps, {
      testClockId: input.testClockId,
      now: input.testClockId ? input.now : new Date(),
      concurrency: input.concurrency,
      onCharged: (ms) => latenciesMs.push(ms),
    });
    if (!input.loop) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { charged, seconds: (performance.now() - started) / 1000, latenciesMs };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `npm run bench -- subscriptions`: 100 000 cycles due at once on a test clock, by 1 and by 2 workers. */
export async function subscriptionsBench(count: number): Promise<number> {
  const url = process.env.DATABASE_URL;
  let best = 0;
  for (const workers of [1, 2]) {
    let seconds: number;
    let figures: WorkerFigures[];
    let errors: number;
    if (url) {
      const handle = await openPostgres(url, 4);
      const seeded = await seedDueCycles(handle.db, { count, clock: true });
      const started = performance.now();
      figures = await Promise.all(
        Array.from({ length: workers }, () => runWorkerProcess(url, seeded.testClockId ?? '', seeded.dueAt)),
      );
      seconds = (performance.now() - started) / 1000;
      errors = await countErrors(handle.db, seeded.merchantId);
      await handle.close();
    } else {
      // Embedded PGlite is owned by one process: the workers are concurrent lanes in this process.
      const handle = await openPglite({ dataDir: mkdtempSync(path.join(tmpdir(), 'payloom-bench-sub-')) });
      await migrate(handle);
      const seeded = await seedDueCycles(handle.db, { count, clock: true });
      const started = performance.now();
      figures = await Promise.all(
        Array.from({ length: workers }, () =>
          chargeWorker(handle.db, {
            testClockId: seeded.testClockId,
            now: seeded.dueAt,
            leaseSeconds: 60,
            delayMs: 0,
            loop: false,
            concurrency: 8,
          }),
        ),
      );
      seconds = (performance.now() - started) / 1000;
      errors = await countErrors(handle.db, seeded.merchantId);
      const ledger = await verifyLedger(handle.db);
      if (ledger.findings.length > 0) console.log(`ledger verify: ${ledger.findings.length} findings`);
      await handle.close();
    }
    const charged = figures.reduce((sum, f) => sum + f.charged, 0);
    const latencies = figures.flatMap((f) => f.latenciesMs).sort((a, b) => a - b);
    const rate = charged / seconds;
    best = Math.max(best, rate);
    console.log(
      `subscriptions, ${workers} worker(s): ${charged} cycles in ${seconds.toFixed(1)} s = ${rate.toFixed(0)} cycles/s; ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms per charge; errors ${errors}`,
    );
  }
  return best;
}

async function countErrors(db: Db, merchantId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM sp_billing_cycles WHERE merchant_id = ${merchantId} AND status <> 'Captured'`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

function runWorkerProcess(url: string, clockId: string, dueAt: Date): Promise<WorkerFigures> {
  const child = spawn(
    process.execPath,
    [
      path.resolve(import.meta.dirname, 'subscriptions.js'),
      'worker',
      '--clock',
      clockId,
      '--now',
      dueAt.toISOString(),
    ],
    { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as WorkerFigures);
    }),
  );
}

async function workerMain(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      clock: { type: 'string', default: '' },
      now: { type: 'string', default: '' },
      lease: { type: 'string', default: '60' },
      'delay-ms': { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '16' },
      loop: { type: 'boolean', default: false },
    },
  });
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('the charge worker needs DATABASE_URL');
  const handle = await openPostgres(url, Number(values.concurrency) + 2);
  process.stdout.write('charge worker ready\n');
  const figures = await chargeWorker(handle.db, {
    testClockId: values.clock ? values.clock : null,
    now: values.now ? new Date(values.now) : new Date(),
    leaseSeconds: Number(values.lease),
    delayMs: Number(values['delay-ms']),
    loop: values.loop,
    concurrency: Number(values.concurrency),
  });
  process.stdout.write(`${JSON.stringify({ ...figures, latenciesMs: figures.latenciesMs })}\n`);
  await handle.close();
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === path.resolve(import.meta.dirname, 'subscriptions.js') &&
  process.argv[2] === 'worker'
) {
  await workerMain(process.argv.slice(3));
}

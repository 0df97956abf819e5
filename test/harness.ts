import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { loadConfig, testDatabaseUrl, type Config } from '../src/config.js';
import { bootstrap, demoCredentials, type DemoCredentials } from '../src/core/bootstrap/bootstrap.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../src/core/db/db.js';
import { loadMigrations, migrate } from '../src/core/db/migrate.js';
import { verifyLedger } from '../src/core/ledger/verify.js';
import { ManualClock, systemClock, type Clock } from '../src/core/time/clock.js';
import { buildApp, type App } from '../src/http/app.js';
import { productModules } from '../src/products/index.js';
import type { JobHandlers } from '../src/core/jobs/runner.js';
import type { SmsDispatcher } from '../src/core/sms/dispatcher.js';
import { silentSmsGatewayLog } from '../src/connectors/contracts/sms-gateway.js';
import { createProcessServices, jobHandlers, type ProcessServices } from '../src/worker.js';

export type Backend = 'pglite' | 'postgres';

/** The backend this test file runs on, chosen by its vitest project. */
export function backend(): Backend {
  return process.env.PAYLOOM_TEST_DB === 'postgres' ? 'postgres' : 'pglite';
}

export interface TestDatabase {
  readonly handle: DatabaseHandle;
  /** A connection URL for this database (PostgreSQL only), e.g. for spawned processes. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/** A fresh, migrated database for one test file: in-memory PGlite, or a new PostgreSQL database. */
export async function createTestDatabase(
  options: { poolMax?: number; migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrated = options.migrate ?? true;
  if (backend() === 'pglite') {
    const handle = await openPglite();
    if (migrated) await migrate(handle);
    return { handle, url: undefined, close: () => handle.close() };
  }
  const base = testDatabaseUrl();
  if (!base) throw new Error('PAYLOOM_TEST_DB=postgres needs TEST_DATABASE_URL');
  const name = `payloom_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const handle = await openPostgres(url.toString(), options.poolMax ?? 20);
  if (migrated) await migrate(handle);
  return {
    handle,
    url: url.toString(),
    close: async () => {
      await handle.close();
      const dropper = new pg.Client({ connectionString: base });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: LightMyRequestResponse['headers'];
  // Tests read response bodies loosely; the assertions say what is expected.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export interface RequestOptions {
  key?: string | undefined;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Raw payload, sent as is (for malformed-input tests). */
  payload?: string | Buffer;
}

export interface TestApp {
  readonly app: App;
  readonly sms: SmsDispatcher;
  readonly services: ProcessServices;
  readonly database: TestDatabase;
  readonly config: Config;
  readonly clock: Clock;
  readonly demo: DemoCredentials;
  /** Everything the app logged, one JSON line each. */
  readonly logs: string[];
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Creates a merchant through the operator API; returns its id and native keys. */
  createMerchant(name?: string): Promise<{ id: string; sandboxKey: string; productionKey: string }>;
  close(): Promise<void>;
}

/** The app in-process on a fresh database, bootstrapped like a first start (operator key, demo merchant). */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    manualClock?: boolean;
    jobHandlers?: JobHandlers;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    PAYLOOM_LOG_LEVEL: 'info',
    PAYLOOM_RATE_LIMIT_SANDBOX_PER_SECOND: '100000',
    PAYLOOM_RATE_LIMIT_PRODUCTION_PER_SECOND: '100000',
    ...options.env,
  });
  await bootstrap(database.handle.db, { seedDemo: true, baseUrl: config.baseUrl, seeders: productModules });
  const demo = await demoCredentials(database.handle.db, config.baseUrl);
  if (!demo) throw new Error('bootstrap created no demo merchant');
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const services = await createProcessServices(database.handle.db, config, silentSmsGatewayLog);
  const sms = services.sms;
  const clock = options.clock ?? (options.manualClock ? new ManualClock() : systemClock);
  const app = await buildApp({
    config,
    database: database.handle,
    migrations: await loadMigrations(),
    clock,
    logStream,
    jobHandlers: options.jobHandlers ?? jobHandlers(services),
    keys: services.keys,
    connectors: { carriers: services.carrierConnectors },
  });
  await app.ready();

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
    let payload: string | Buffer | undefined = opts.payload;
    if (payload === undefined && opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await app.inject({
      method: method as 'GET',
      url: path,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: unknown = undefined;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body, text: response.body };
  };

  return {
    app,
    sms,
    services,
    database,
    config,
    clock,
    demo,
    logs,
    request,
    async createMerchant(name = 'Test Merchant') {
      const res = await request('POST', '/v1/merchants', { key: demo.operator.apiKey, body: { name } });
      if (res.status !== 201) throw new Error(`createMerchant: ${res.status} ${res.text}`);
      const creds = res.body.credentials as Array<{ environment: string; secret: string }>;
      const secretOf = (env: string) => creds.find((c) => c.environment === env)?.secret ?? '';
      return {
        id: res.body.merchant.id as string,
        sandboxKey: secretOf('sandbox'),
        productionKey: secretOf('production'),
      };
    },
    async close() {
      // Every test file ends with a ledger that verifies: whatever it did, no money was lost or doubled.
      const report = await verifyLedger(database.handle.db);
      await app.close();
      await sms.close();
      await database.close();
      if (report.findings.length > 0) throw new Error(`ledger verify failed:\n${report.findings.join('\n')}`);
    },
  };
}

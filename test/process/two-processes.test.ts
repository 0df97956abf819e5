import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, createTestDatabase, type TestDatabase } from '../harness.js';
import { loadMigrations } from '../../src/core/db/migrate.js';
import { runPayloom, startPayloom, type Running } from './spawn.js';

// Several processes on one database is what PostgreSQL is for: this runs in the PostgreSQL project.
describe.runIf(backend() === 'postgres')('two payloom processes against one PostgreSQL database', () => {
  let database: TestDatabase;
  const running: Running[] = [];
  beforeAll(async () => {
    // An empty database: the processes migrate it themselves.
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await database.close();
  });

  it('both start at once, migrations run once, both serve requests', async () => {
    const env = { DATABASE_URL: database.url ?? '', PAYLOOM_API_PROCESSES: '1', PAYLOOM_DB_POOL_MAX: '4' };
    running.push(...(await Promise.all([startPayloom(env), startPayloom(env)])));
    const migrations = await loadMigrations();
    const applied = running
      .map((r) => /"applied":(\d+)/.exec(r.output())?.[1])
      .map(Number)
      .sort();
    expect(applied).toEqual([0, migrations.length]);
    const rows = await database.handle.db.selectFrom('schema_migrations').select('version').execute();
    expect(rows).toHaveLength(migrations.length);

    const creds = await runPayloom(['demo-credentials', '--json'], env);
    expect(creds.code).toBe(0);
    const { native, operator } = JSON.parse(creds.stdout);
    const merchants = await database.handle.db.selectFrom('merchants').select('id').execute();
    expect(merchants).toHaveLength(1);
    const operatorKeys = await database.handle.db.selectFrom('operator_keys').select('id').execute();
    expect(operatorKeys).toHaveLength(1);

    for (const r of running) {
      expect((await fetch(`http://127.0.0.1:${r.port}/readyz`)).status).toBe(200);
      const me = await fetch(`http://127.0.0.1:${r.port}/v1/merchant`, {
        headers: { authorization: `Bearer ${native.apiKey}` },
      });
      expect(me.status).toBe(200);
    }
    // A merchant created through one process is visible through the other.
    const [a, b] = running;
    const created = await fetch(`http://127.0.0.1:${a?.port}/v1/merchants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Shared' }),
    });
    const { merchant } = (await created.json()) as { merchant: { id: string } };
    const seen = await fetch(`http://127.0.0.1:${b?.port}/v1/merchants/${merchant.id}`, {
      headers: { authorization: `Bearer ${operator.apiKey}` },
    });
    expect(seen.status).toBe(200);
  });

  it('payloom ledger verify passes on a consistent ledger and fails, naming it, on a difference', async () => {
    const env = { DATABASE_URL: database.url ?? '' };
    const clean = await runPayloom(['ledger', 'verify'], env);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('no differences');
    const db = database.handle.db;
    const merchantId = (await db.selectFrom('merchants').select('id').executeTakeFirstOrThrow()).id;
    await db
      .insertInto('ledger_transactions')
      .values({
        merchant_id: merchantId,
        environment: 'sandbox',
        id: 'ltx_tampered',
        payment_id: null,
        kind: 'manual',
      })
      .execute();
    await db
      .insertInto('ledger_entries')
      .values({
        merchant_id: merchantId,
        transaction_id: 'ltx_tampered',
        entry_no: 1,
        environment: 'sandbox',
        currency: 'EUR',
        role: 'merchant_payable',
        debit_minor: 0n,
        credit_minor: 500n,
      })
      .execute();
    const dirty = await runPayloom(['ledger', 'verify'], env);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toContain('ltx_tampered is unbalanced');
    expect(dirty.stderr).toContain('merchant_payable');
  });

  it('one start with several api processes serves on one port', async () => {
    const env = { DATABASE_URL: database.url ?? '', PAYLOOM_API_PROCESSES: '2', PAYLOOM_DB_POOL_MAX: '4' };
    const cluster = await startPayloom(env);
    running.push(cluster);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`http://127.0.0.1:${cluster.port}/healthz`).then((r) => r.status),
      ),
    );
    expect(responses.every((s) => s === 200)).toBe(true);
  });
});

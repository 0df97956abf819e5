import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/core/jobs/jobs.js';
import { backend, createTestDatabase, type TestDatabase } from '../harness.js';

const script = path.resolve(import.meta.dirname, 'probe-worker.mjs');

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH, DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached in 20 s');
}

// Separate worker processes share a database only on PostgreSQL.
describe.runIf(backend() === 'postgres')('a worker killed with kill -9 mid-job', () => {
  let database: TestDatabase;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    await sql`CREATE TABLE probe_runs (job_id bigint, attempt int, pid int)`.execute(database.handle.db);
    await sql`CREATE TABLE probe_effects (key text PRIMARY KEY, at timestamptz DEFAULT now())`.execute(
      database.handle.db,
    );
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database.close();
  });

  it('the job runs again in another worker and its effect happens once', async () => {
    const db = database.handle.db;
    const url = database.url ?? '';
    await enqueue(db, { queue: 'probe.effect', payload: { key: 'order-42' } });
    const first = await startWorker(url);
    children.push(first);
    const runs = () => sql<{ pid: number; attempt: number }>`SELECT pid, attempt FROM probe_runs`.execute(db);
    await until(runs, (r) => r.rows.length === 1);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect((await sql`SELECT * FROM probe_effects`.execute(db)).rows).toHaveLength(0);

    const second = await startWorker(url);
    children.push(second);
    const effects = await until(
      () => sql<{ key: string }>`SELECT key FROM probe_effects`.execute(db),
      (r) => r.rows.length > 0,
    );
    expect(effects.rows).toEqual([{ key: 'order-42' }]);
    const all = (await runs()).rows;
    expect(all.map((r) => r.attempt)).toEqual([1, 2]);
    expect(all[0]?.pid).not.toBe(all[1]?.pid);
    await until(
      () => db.selectFrom('jobs').select('id').execute(),
      (rows) => rows.length === 0,
    );
  });
});

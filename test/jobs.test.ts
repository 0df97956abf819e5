import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../src/core/db/db.js';
import {
  claimDueJobs,
  completeJob,
  enqueue,
  enqueueDueSchedules,
  failJob,
  upsertSchedule,
} from '../src/core/jobs/jobs.js';
import { startJobRunner, type JobHandler } from '../src/core/jobs/runner.js';
import { startTestApp, type TestApp } from './harness.js';

const effects: string[] = [];
const handlers = new Map<string, JobHandler>([
  [
    'test.effect',
    async (job) => {
      effects.push(String(job.payload.key));
    },
  ],
]);

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ jobHandlers: handlers });
});
afterAll(async () => t.close());

const silent = { info: () => undefined, error: () => undefined };
const db = () => t.database.handle.db;

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('durable jobs', () => {
  it('are enqueued in the transaction of the change: a rollback enqueues nothing', async () => {
    await expect(
      transaction(db(), async (tx) => {
        await enqueue(tx, { queue: 'test.rollback' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await transaction(db(), async (tx) => enqueue(tx, { queue: 'test.commit' }));
    const queues = (await db().selectFrom('jobs').select('queue').execute()).map((r) => r.queue);
    expect(queues).toContain('test.commit');
    expect(queues).not.toContain('test.rollback');
    await db().deleteFrom('jobs').where('queue', '=', 'test.commit').execute();
  });

  it('run at least once in a worker loop, at their time, not before', async () => {
    await enqueue(db(), { queue: 'test.effect', payload: { key: 'now' } });
    await enqueue(db(), {
      queue: 'test.effect',
      payload: { key: 'later' },
      runAt: new Date(Date.now() + 3_600_000),
    });
    const runner = startJobRunner(db(), handlers, silent);
    try {
      await waitFor(() => effects.includes('now'), 'the due job');
    } finally {
      await runner.stop();
    }
    expect(effects).not.toContain('later');
    const left = await db()
      .selectFrom('jobs')
      .select(['queue', 'state'])
      .where('queue', '=', 'test.effect')
      .execute();
    expect(left).toEqual([{ queue: 'test.effect', state: 'queued' }]);
    await db().deleteFrom('jobs').execute();
  });

  it('retry with backoff, then fail for good after attempts_max', async () => {
    await enqueue(db(), { queue: 'test.flaky', attemptsMax: 2 });
    const [job] = await claimDueJobs(db(), { workerId: 'w1', queues: ['test.flaky'], limit: 10 });
    expect(job?.attempts).toBe(1);
    if (!job) throw new Error('no job');
    expect(await failJob(db(), job, 'w1', 'boom')).toBe('retrying');
    const row = await db()
      .selectFrom('jobs')
      .select(['state', 'last_error', sql<number>`extract(epoch from run_at - now())`.as('delay')])
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('queued');
    expect(row.last_error).toBe('boom');
    expect(Number(row.delay)).toBeGreaterThan(3);
    expect(await claimDueJobs(db(), { workerId: 'w1', queues: ['test.flaky'], limit: 10 })).toHaveLength(0);
    await db()
      .updateTable('jobs')
      .set({ run_at: sql<Date>`now()` })
      .where('id', '=', job.id)
      .execute();
    const [again] = await claimDueJobs(db(), { workerId: 'w2', queues: ['test.flaky'], limit: 10 });
    expect(again?.attempts).toBe(2);
    if (!again) throw new Error('no job');
    expect(await failJob(db(), again, 'w2', 'boom again')).toBe('failed');
    const failed = await db()
      .selectFrom('jobs')
      .select('state')
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    expect(failed.state).toBe('failed');
    await db().deleteFrom('jobs').execute();
  });

  it('a job whose worker died is claimed again when its lease expires; a stale worker cannot complete it', async () => {
    await enqueue(db(), { queue: 'test.lease' });
    const [first] = await claimDueJobs(db(), { workerId: 'dead', queues: ['test.lease'], limit: 1 });
    if (!first) throw new Error('no job');
    expect(await claimDueJobs(db(), { workerId: 'alive', queues: ['test.lease'], limit: 1 })).toHaveLength(0);
    await db()
      .updateTable('jobs')
      .set({ locked_until: sql<Date>`now() - interval '1 second'` })
      .execute();
    const [second] = await claimDueJobs(db(), { workerId: 'alive', queues: ['test.lease'], limit: 1 });
    expect(second?.id).toBe(first.id);
    expect(second?.attempts).toBe(2);
    await completeJob(db(), first, 'dead');
    expect(await db().selectFrom('jobs').select('id').execute()).toHaveLength(1);
    if (!second) throw new Error('no job');
    await completeJob(db(), second, 'alive');
    expect(await db().selectFrom('jobs').select('id').execute()).toHaveLength(0);
  });

  it('concurrent claims never hand one job to two workers', async () => {
    for (let i = 0; i < 50; i++) await enqueue(db(), { queue: 'test.race', payload: { i } });
    const claims = await Promise.all(
      Array.from({ length: 5 }, (_, w) =>
        claimDueJobs(db(), { workerId: `w${w}`, queues: ['test.race'], limit: 20 }),
      ),
    );
    const ids = claims.flat().map((j) => String(j.id));
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    await db().deleteFrom('jobs').execute();
  });

  it('singleton keys make enqueue idempotent while the job is live', async () => {
    await enqueue(db(), { queue: 'test.single', singletonKey: 'pay_1' });
    await enqueue(db(), { queue: 'test.single', singletonKey: 'pay_1' });
    expect(await db().selectFrom('jobs').select('id').execute()).toHaveLength(1);
    await db().deleteFrom('jobs').execute();
  });

  it('recurring schedules enqueue once per slot, however many workers ask', async () => {
    await upsertSchedule(db(), { name: 'test-every-hour', queue: 'test.scheduled', intervalSeconds: 3600 });
    const counts = await Promise.all([
      enqueueDueSchedules(db()),
      enqueueDueSchedules(db()),
      enqueueDueSchedules(db()),
    ]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await enqueueDueSchedules(db())).toBe(0);
    const jobs = await db()
      .selectFrom('jobs')
      .select('queue')
      .where('queue', '=', 'test.scheduled')
      .execute();
    expect(jobs).toHaveLength(1);
    await db().deleteFrom('jobs').execute();
    await db().deleteFrom('job_schedules').execute();
  });
});

describe('sandbox test clocks', () => {
  it('advancing a clock runs the due work of objects on it, and only that', async () => {
    const key = t.demo.native.apiKey;
    const created = await t.request('POST', '/v1/sandbox/test-clocks', {
      key,
      body: { frozen_time: '2030-01-01T00:00:00.000Z', name: 'billing' },
    });
    expect(created.status).toBe(201);
    const clockId = created.body.id as string;
    await enqueue(db(), {
      queue: 'test.effect',
      payload: { key: 'in-a-day' },
      testClockId: clockId,
      runAt: new Date('2030-01-02T00:00:00.000Z'),
    });
    const early = await t.request('POST', `/v1/sandbox/test-clocks/${clockId}/advance`, {
      key,
      body: { frozen_time: '2030-01-01T12:00:00.000Z' },
    });
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ frozen_time: '2030-01-01T12:00:00.000Z', jobs_run: 0 });
    expect(effects).not.toContain('in-a-day');
    const due = await t.request('POST', `/v1/sandbox/test-clocks/${clockId}/advance`, {
      key,
      body: { frozen_time: '2030-01-03T00:00:00.000Z' },
    });
    expect(due.body.jobs_run).toBe(1);
    expect(effects).toContain('in-a-day');

    const back = await t.request('POST', `/v1/sandbox/test-clocks/${clockId}/advance`, {
      key,
      body: { frozen_time: '2029-01-01T00:00:00.000Z' },
    });
    expect(back.status).toBe(400);
    expect(back.body.param).toBe('/frozen_time');
  });

  it('production keys have no test clocks, and other merchants cannot see one', async () => {
    const m = await t.createMerchant();
    const production = await t.request('POST', '/v1/sandbox/test-clocks', {
      key: m.productionKey,
      body: { frozen_time: '2030-01-01T00:00:00.000Z' },
    });
    expect(production.status).toBe(404);
    const mine = await t.request('POST', '/v1/sandbox/test-clocks', {
      key: m.sandboxKey,
      body: { frozen_time: '2030-01-01T00:00:00.000Z' },
    });
    const theirs = await t.request('GET', `/v1/sandbox/test-clocks/${mine.body.id}`, {
      key: t.demo.native.apiKey,
    });
    expect(theirs.status).toBe(404);
  });
});

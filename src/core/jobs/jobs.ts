import { sql } from 'kysely';
import type { Executor } from '../db/db.js';

/**
 * Durable jobs in PostgreSQL (and PGlite): enqueued in the caller's transaction, claimed with
 * `FOR UPDATE SKIP LOCKED` under a lease, retried with backoff, and re-claimed when the worker holding
 * the lease died. Delivery is at least once: handlers must be idempotent. See docs/adr/0006-jobs.md.
 */
export interface JobInput {
  queue: string;
  payload?: Record<string, unknown>;
  merchantId?: string;
  environment?: 'sandbox' | 'production';
  /** Due time is measured on this test clock instead of real time. */
  testClockId?: string | null;
  /** When to run; defaults to now (on the job's clock). */
  runAt?: Date;
  attemptsMax?: number;
  /** Enqueue is a no-op while a live job with the same queue and key exists. */
  singletonKey?: string;
}

export interface Job {
  id: bigint;
  queue: string;
  payload: Record<string, unknown>;
  merchant_id: string | null;
  environment: string | null;
  test_clock_id: string | null;
  attempts: number;
  attempts_max: number;
  run_at: Date;
}

/** How long a claimed job is leased to its worker before another may take it. */
export const leaseSeconds = 60;
/** Most jobs one claim takes. */
export const claimBatchMax = 100;

export async function enqueue(db: Executor, job: JobInput): Promise<void> {
  const runAt = job.runAt
    ? sql`${job.runAt.toISOString()}::timestamptz`
    : clockNowSql(job.testClockId ?? null);
  await sql`
    INSERT INTO jobs (queue, payload, merchant_id, environment, test_clock_id, run_at, attempts_max, singleton_key)
    VALUES (${job.queue}, ${JSON.stringify(job.payload ?? {})}::jsonb, ${job.merchantId ?? null},
            ${job.environment ?? null}, ${job.testClockId ?? null}, ${runAt}, ${job.attemptsMax ?? 10},
            ${job.singletonKey ?? null})
    ON CONFLICT DO NOTHING`.execute(db);
}

/** "Now" on a test clock, or database time. */
function clockNowSql(testClockId: string | null) {
  return testClockId === null
    ? sql`now()`
    : sql`(SELECT frozen_time FROM test_clocks WHERE id = ${testClockId})`;
}

/**
 * Claims up to `limit` due real-time jobs (and jobs whose lease expired because their worker died) for
 * `workerId`, in one statement.
 */
export async function claimDueJobs(
  db: Executor,
  input: { workerId: string; queues: readonly string[]; limit: number; leaseSeconds?: number },
): Promise<Job[]> {
  const { rows } = await sql<Job>`
    UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ${input.workerId},
                    locked_until = now() + make_interval(secs => ${input.leaseSeconds ?? leaseSeconds})
     WHERE id IN (
       SELECT id FROM jobs
        WHERE ((state = 'queued' AND test_clock_id IS NULL AND run_at <= now())
               OR (state = 'running' AND locked_until < now()))
          AND queue = ANY(${[...input.queues]}::text[])
        ORDER BY run_at
        LIMIT ${Math.min(input.limit, claimBatchMax)}
        FOR UPDATE SKIP LOCKED)
    RETURNING id, queue, payload, merchant_id, environment, test_clock_id, attempts, attempts_max, run_at`.execute(
    db,
  );
  return rows;
}

/** Claims the jobs due on a test clock at its current time (run by the clock's advance). */
export async function claimClockJobs(
  db: Executor,
  input: { workerId: string; testClockId: string; queues: readonly string[]; limit: number },
): Promise<Job[]> {
  const { rows } = await sql<Job>`
    UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ${input.workerId},
                    locked_until = now() + make_interval(secs => ${leaseSeconds})
     WHERE id IN (
       SELECT j.id FROM jobs j JOIN test_clocks c ON c.id = j.test_clock_id
        WHERE j.test_clock_id = ${input.testClockId} AND j.state = 'queued' AND j.run_at <= c.frozen_time
          AND j.queue = ANY(${[...input.queues]}::text[])
        ORDER BY j.run_at
        LIMIT ${Math.min(input.limit, claimBatchMax)}
        FOR UPDATE OF j SKIP LOCKED)
    RETURNING id, queue, payload, merchant_id, environment, test_clock_id, attempts, attempts_max, run_at`.execute(
    db,
  );
  return rows;
}

/** A finished job is deleted: the table holds only work still to do and failures to look at. */
export async function completeJob(db: Executor, job: Job, workerId: string): Promise<void> {
  await sql`DELETE FROM jobs WHERE id = ${job.id} AND locked_by = ${workerId}`.execute(db);
}

/**
 * Exponential backoff with a cap: 5 s, 10 s, 20 s … up to an hour; the job's handler may ask for a
 * specific time instead (webhook schedules, Retry-After).
 */
export function backoffSeconds(attempt: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, attempt - 1));
}

export async function failJob(
  db: Executor,
  job: Job,
  workerId: string,
  error: string,
  retryInSeconds: number | undefined = backoffSeconds(job.attempts),
): Promise<'retrying' | 'failed'> {
  const giveUp = job.attempts >= job.attempts_max || retryInSeconds === undefined;
  const base = clockNowSql(job.test_clock_id);
  await sql`
    UPDATE jobs
       SET state = ${giveUp ? 'failed' : 'queued'}, locked_by = NULL, locked_until = NULL,
           last_error = ${error.slice(0, 2000)},
           run_at = ${giveUp ? sql`run_at` : sql`${base} + make_interval(secs => ${retryInSeconds ?? 0})`},
           failed_at = ${giveUp ? sql`now()` : sql`NULL`}
     WHERE id = ${job.id} AND locked_by = ${workerId}`.execute(db);
  return giveUp ? 'failed' : 'retrying';
}

/** Registers (or updates) a recurring schedule; the worker enqueues `queue` every `intervalSeconds`. */
export async function upsertSchedule(
  db: Executor,
  input: { name: string; queue: string; intervalSeconds: number },
): Promise<void> {
  await sql`
    INSERT INTO job_schedules (name, queue, interval_seconds, next_run_at)
    VALUES (${input.name}, ${input.queue}, ${input.intervalSeconds}, now())
    ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, interval_seconds = excluded.interval_seconds`.execute(
    db,
  );
}

/**
 * Enqueues one job for every schedule that is due and moves it forward, in one statement; with several
 * workers, each due slot is taken once (the row lock decides).
 */
export async function enqueueDueSchedules(db: Executor): Promise<number> {
  const { rows } = await sql<{ queue: string }>`
    WITH due AS (
      UPDATE job_schedules
         SET next_run_at = greatest(next_run_at + make_interval(secs => interval_seconds), now())
       WHERE name IN (SELECT name FROM job_schedules WHERE next_run_at <= now() FOR UPDATE SKIP LOCKED)
      RETURNING name, queue
    )
    INSERT INTO jobs (queue, payload, run_at, singleton_key)
    SELECT queue, jsonb_build_object('schedule', name), now(), 'schedule:' || name FROM due
    ON CONFLICT DO NOTHING
    RETURNING queue`.execute(db);
  return rows.length;
}

import { randomBytes } from 'node:crypto';
import type { Db } from '../db/db.js';
import { claimClockJobs, claimDueJobs, completeJob, enqueueDueSchedules, failJob, type Job } from './jobs.js';

export interface JobContext {
  readonly db: Db;
  /** "Now" for this job: real time, or on a test clock the (simulated) time the job was due. */
  readonly now: Date;
  readonly log: Logger;
}

/** A handler may ask to be retried at a specific delay (webhook schedules, Retry-After). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryInSeconds: number | undefined,
  ) {
    super(message);
  }
}

export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;
export type JobHandlers = ReadonlyMap<string, JobHandler>;

export interface Logger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Jobs run at once by one worker process. */
export const workerConcurrency = 32;
/** Idle poll interval; a busy worker claims again at once. */
export const pollIntervalMs = 200;
/** Bound on the jobs one test-clock advance runs (a loop of self-rescheduling jobs cannot spin forever). */
export const clockAdvanceJobsMax = 100_000;

export function newWorkerId(): string {
  return `wrk_${process.pid}_${randomBytes(4).toString('hex')}`;
}

async function runOne(db: Db, handlers: JobHandlers, job: Job, workerId: string, log: Logger): Promise<void> {
  const handler = handlers.get(job.queue);
  try {
    if (!handler) throw new RetryLater(`no handler for queue ${job.queue}`, 60);
    // A job on a test clock runs, in simulated time, at the moment it was due: a clock advanced by a day
    // replays that day's retries one after another instead of collapsing them into its last second.
    const now = job.test_clock_id ? job.run_at : new Date();
    await handler(job, { db, now, log });
    await completeJob(db, job, workerId);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const retryIn = error instanceof RetryLater ? error.retryInSeconds : undefined;
    const result = await failJob(
      db,
      job,
      workerId,
      message,
      ...(error instanceof RetryLater ? [retryIn] : []),
    );
    log.error(
      { job: String(job.id), queue: job.queue, attempt: job.attempts, result, error: message },
      'job failed',
    );
  }
}

/** The worker loop: schedules, due jobs, leases of dead workers. Stops when `stop()` is called. */
export function startJobRunner(
  db: Db,
  handlers: JobHandlers,
  log: Logger,
  options: { leaseSeconds?: number } = {},
): { stop(): Promise<void>; workerId: string } {
  const workerId = newWorkerId();
  const queues = [...handlers.keys()];
  let stopped = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  // A pool, not batches: a slow job (a webhook receiver taking 15 s) does not hold up the others.
  const loop = async () => {
    let lastSchedules = 0;
    while (!stopped) {
      let claimed: Job[] = [];
      try {
        if (Date.now() - lastSchedules >= pollIntervalMs) {
          lastSchedules = Date.now();
          await enqueueDueSchedules(db);
        }
        if (inFlight < workerConcurrency) {
          claimed = await claimDueJobs(db, {
            workerId,
            queues,
            limit: workerConcurrency - inFlight,
            ...(options.leaseSeconds ? { leaseSeconds: options.leaseSeconds } : {}),
          });
        }
        for (const job of claimed) {
          inFlight++;
          void runOne(db, handlers, job, workerId, log).finally(() => {
            inFlight--;
            wake?.();
          });
        }
      } catch (error) {
        log.error({ err: error }, 'job loop error');
      }
      if (!stopped && (claimed.length === 0 || inFlight >= workerConcurrency)) await sleep(pollIntervalMs);
    }
    while (inFlight > 0) await sleep(10);
  };
  const done = loop();
  return {
    workerId,
    stop: async () => {
      stopped = true;
      wake?.();
      await done;
    },
  };
}

/** Runs every job due on a test clock at its current time, including jobs those jobs enqueue. */
export async function runClockJobs(
  db: Db,
  handlers: JobHandlers,
  testClockId: string,
  log: Logger,
): Promise<number> {
  const workerId = newWorkerId();
  const queues = [...handlers.keys()];
  let ran = 0;
  while (ran < clockAdvanceJobsMax) {
    const claimed = await claimClockJobs(db, { workerId, testClockId, queues, limit: workerConcurrency });
    if (claimed.length === 0) break;
    for (const job of claimed) await runOne(db, handlers, job, workerId, log);
    ran += claimed.length;
  }
  return ran;
}

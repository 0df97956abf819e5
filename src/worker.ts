import type { Db } from './core/db/db.js';
import { pruneIdempotencyKeys } from './core/idempotency/idempotency.js';
import { deliverQueue } from './core/events/events.js';
import { upsertSchedule } from './core/jobs/jobs.js';
import { dispatchDelivery } from './core/webhooks/dispatch.js';
import { expirePayment, expireQueue } from './core/payments/service.js';
import { startJobRunner, type JobHandler, type Logger } from './core/jobs/runner.js';

/** Recurring maintenance, as schedules the job runner enqueues (any number of workers, once per slot). */
export const schedules = [
  { name: 'prune-idempotency-keys', queue: 'maintenance.prune-idempotency-keys', intervalSeconds: 15 * 60 },
] as const;

/** Every job handler Payloom runs, by queue. Products and core modules add theirs here. */
export function jobHandlers(options: { allowPrivateCallbacks: boolean }): Map<string, JobHandler> {
  return new Map<string, JobHandler>([
    [
      'maintenance.prune-idempotency-keys',
      async (_job, ctx) => {
        await pruneIdempotencyKeys(ctx.db);
      },
    ],
    [
      deliverQueue,
      async (job, ctx) => {
        const { merchantId, deliveryId } = job.payload as { merchantId: string; deliveryId: string };
        await dispatchDelivery(ctx.db, { merchantId, deliveryId }, ctx.now, {
          allowPrivate: options.allowPrivateCallbacks,
        });
      },
    ],
    [
      expireQueue,
      async (job, ctx) => {
        const { merchantId, paymentId } = job.payload as { merchantId: string; paymentId: string };
        await expirePayment(ctx.db, { merchantId, paymentId });
      },
    ],
  ]);
}

/**
 * The worker role: runs due jobs. Safe to run in any number of processes: jobs are claimed with
 * SKIP LOCKED under a lease, and every handler is idempotent.
 */
export async function startWorker(
  db: Db,
  log: Logger,
  options: { allowPrivateCallbacks: boolean },
): Promise<{ stop(): Promise<void> }> {
  for (const schedule of schedules) await upsertSchedule(db, schedule);
  return startJobRunner(db, jobHandlers(options), log);
}

import type { FastifyBaseLogger } from 'fastify';
import type { Db } from './core/db/db.js';
import { pruneIdempotencyKeys } from './core/idempotency/idempotency.js';

/** How often the worker prunes expired idempotency keys. */
export const pruneIntervalMs = 15 * 60 * 1000;

/**
 * The worker role: due work that is not a request. Safe to run in any number of processes (every task
 * here is idempotent and batched).
 */
export function startWorker(db: Db, log: Pick<FastifyBaseLogger, 'info' | 'error'>): { stop(): void } {
  const prune = async () => {
    try {
      const deleted = await pruneIdempotencyKeys(db);
      if (deleted > 0) log.info({ deleted }, 'pruned expired idempotency keys');
    } catch (error) {
      log.error({ err: error }, 'idempotency prune failed');
    }
  };
  void prune();
  const timer = setInterval(() => void prune(), pruneIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

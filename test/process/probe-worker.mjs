// A worker process for the kill -9 test: runs Payloom's job runner (built code) with one handler that
// records each run, holds the first attempt for a long time (so it can be killed mid-job), and then
// applies its effect idempotently.
import { sql } from 'kysely';
import { openPostgres } from '../../dist/src/core/db/db.js';
import { startJobRunner } from '../../dist/src/core/jobs/runner.js';

const database = await openPostgres(process.env.DATABASE_URL, 4);
const handlers = new Map([
  [
    'probe.effect',
    async (job, ctx) => {
      await sql`INSERT INTO probe_runs (job_id, attempt, pid) VALUES (${job.id}, ${job.attempts}, ${process.pid})`.execute(
        ctx.db,
      );
      if (job.attempts === 1) await new Promise((resolve) => setTimeout(resolve, 600_000));
      await sql`INSERT INTO probe_effects (key) VALUES (${String(job.payload.key)}) ON CONFLICT DO NOTHING`.execute(
        ctx.db,
      );
    },
  ],
]);
const log = { info: () => undefined, error: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`) };
startJobRunner(database.db, handlers, log, { leaseSeconds: 1 });
process.stdout.write('worker ready\n');

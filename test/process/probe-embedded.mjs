// The kill -9 test on embedded PGlite: one process owns the data directory, runs the job runner with a
// handler whose first attempt hangs (so it can be killed mid-job), and applies its effect idempotently.
// `report` prints what happened and exits.
import { sql } from 'kysely';
import { openPglite } from '../../dist/src/core/db/db.js';
import { migrate } from '../../dist/src/core/db/migrate.js';
import { enqueue } from '../../dist/src/core/jobs/jobs.js';
import { startJobRunner } from '../../dist/src/core/jobs/runner.js';

const [dataDir, mode] = process.argv.slice(2);
const database = await openPglite({ dataDir });
const db = database.db;
await migrate(database);
await sql`CREATE TABLE IF NOT EXISTS probe_runs (job_id bigint, attempt int, pid int)`.execute(db);
await sql`CREATE TABLE IF NOT EXISTS probe_effects (key text PRIMARY KEY)`.execute(db);

if (mode === 'report') {
  const runs = (await sql`SELECT attempt, pid FROM probe_runs ORDER BY attempt`.execute(db)).rows;
  const effects = (await sql`SELECT key FROM probe_effects`.execute(db)).rows;
  const jobs = (await sql`SELECT id FROM jobs WHERE queue = 'probe.effect'`.execute(db)).rows;
  process.stdout.write(`${JSON.stringify({ runs, effects, jobs: jobs.length })}\n`);
  await database.close();
  process.exit(0);
}

const existing = (await sql`SELECT count(*)::int AS n FROM probe_runs`.execute(db)).rows[0];
if (existing.n === 0) await enqueue(db, { queue: 'probe.effect', payload: { key: 'order-7' } });
const handlers = new Map([
  [
    'probe.effect',
    async (job, ctx) => {
      await sql`INSERT INTO probe_runs (job_id, attempt, pid) VALUES (${job.id}, ${job.attempts}, ${process.pid})`.execute(
        ctx.db,
      );
      process.stdout.write(`running attempt ${job.attempts}\n`);
      if (job.attempts === 1) await new Promise((resolve) => setTimeout(resolve, 600_000));
      await sql`INSERT INTO probe_effects (key) VALUES (${String(job.payload.key)}) ON CONFLICT DO NOTHING`.execute(
        ctx.db,
      );
      process.stdout.write('effect applied\n');
    },
  ],
]);
const log = { info: () => undefined, error: (o, m) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`) };
startJobRunner(db, handlers, log, { leaseSeconds: 1 });
// Announce when the job row is gone (the runner deletes it after the handler returns).
const watch = setInterval(async () => {
  const left = (await sql`SELECT count(*)::int AS n FROM jobs WHERE queue = 'probe.effect'`.execute(db))
    .rows[0];
  const done = (await sql`SELECT count(*)::int AS n FROM probe_effects`.execute(db)).rows[0];
  if (left.n === 0 && done.n === 1) {
    clearInterval(watch);
    process.stdout.write('job completed\n');
  }
}, 50);

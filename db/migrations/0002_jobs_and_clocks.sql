-- Durable jobs and sandbox test clocks. A job's due time is measured on real time, or on the test clock
-- of the sandbox object it belongs to (test_clock_id), so advancing a clock makes that object's due work
-- run. See docs/adr/0006-jobs.md.

CREATE TABLE test_clocks (
  merchant_id  text NOT NULL REFERENCES merchants (id),
  id           text NOT NULL,
  environment  text NOT NULL CHECK (environment = 'sandbox'),
  name         text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
  frozen_time  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, id),
  UNIQUE (id)
);

CREATE TABLE jobs (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue          text NOT NULL CHECK (length(queue) BETWEEN 1 AND 100),
  payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
  merchant_id    text,
  environment    text,
  test_clock_id  text REFERENCES test_clocks (id),
  run_at         timestamptz NOT NULL,
  state          text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'failed')),
  attempts       integer NOT NULL DEFAULT 0,
  attempts_max   integer NOT NULL DEFAULT 10 CHECK (attempts_max BETWEEN 1 AND 100),
  singleton_key  text,
  locked_by      text,
  locked_until   timestamptz,
  last_error     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  failed_at      timestamptz
);
-- Real-time due work, in run_at order; expired leases of dead workers.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued' AND test_clock_id IS NULL;
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_clock_due ON jobs (test_clock_id, run_at) WHERE state = 'queued' AND test_clock_id IS NOT NULL;
-- At most one live job per (queue, singleton_key): enqueue is then idempotent.
CREATE UNIQUE INDEX jobs_singleton ON jobs (queue, singleton_key)
  WHERE singleton_key IS NOT NULL AND state IN ('queued', 'running');

CREATE TABLE job_schedules (
  name             text PRIMARY KEY,
  queue            text NOT NULL,
  interval_seconds integer NOT NULL CHECK (interval_seconds > 0),
  next_run_at      timestamptz NOT NULL
);

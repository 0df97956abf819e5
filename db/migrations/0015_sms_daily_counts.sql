-- SMS daily limits as counters: one row per scope (a number, a number range, a merchant in an
-- environment) and UTC day, incremented in the same statement that queues the message. Counting the
-- day's messages instead grew with volume (every message of a busy range was counted on each send) and
-- needed an advisory lock per number.
CREATE TABLE sms_daily_counts (
  scope text NOT NULL,
  day   date NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (scope, day)
);

-- Seed today's counters from the messages already queued today, so the limits hold across the upgrade.
INSERT INTO sms_daily_counts (scope, day, count)
SELECT scope, (now() AT TIME ZONE 'UTC')::date, count(*)
  FROM sms_messages,
       LATERAL (VALUES ('msisdn:' || to_msisdn),
                       ('prefix:' || prefix),
                       ('merchant:' || merchant_id || ':' || environment)) AS s(scope)
 WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
 GROUP BY scope;

-- The prefix index only served the old count.
DROP INDEX sms_messages_prefix;

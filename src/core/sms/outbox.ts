import { sql, type Selectable } from 'kysely';
import { countSmsSegments } from '../../connectors/contracts/sms-gateway.js';
import type { Executor } from '../db/db.js';
import type { Environment, SmsMessagesTable } from '../db/schema.js';
import { AppError } from '../errors/errors.js';
import { newId } from '../ids/ids.js';
import { enqueue } from '../jobs/jobs.js';
import { renderSmsTemplate, templateLanguage, type SmsTemplates } from './templates.js';

/**
 * The SMS outbox: a message is queued in the caller's transaction (with its send job) together with
 * the per-MSISDN, per-prefix and per-merchant daily counters it must stay within; workers send it through a gateway
 * and record the outcome; delivery receipts settle it.
 */
export type SmsRow = Selectable<SmsMessagesTable>;

export const sendQueue = 'sms.send';
/** Digits of the MSISDN that make its prefix (country code and network range) for prefix limits. */
export const prefixDigits = 5;

export interface SmsLimits {
  perMsisdnPerDay: number;
  perPrefixPerDay: number;
  perMerchantPerDay: number;
}

export interface QueueSms {
  merchantId: string;
  environment: Environment;
  to: string;
  sender: string;
  purpose: string;
  language: string;
  templates: SmsTemplates;
  vars: Readonly<Record<string, string>>;
  /** Sandbox only: fields the sandbox inbox shows (e.g. `code`); ignored in production. */
  sandboxData?: Record<string, string>;
  testClockId?: string | null;
}

export async function queueSms(tx: Executor, input: QueueSms, limits: SmsLimits): Promise<SmsRow> {
  if (!/^[1-9]\d{6,14}$/.test(input.to)) {
    throw new AppError('validation_failed', 'The MSISDN must be 7-15 digits in international form.', {
      field: 'to',
    });
  }
  const body = renderSmsTemplate(input.templates, input.language, input.vars);
  const segments = countSmsSegments(body)?.segmentCount;
  if (segments === undefined) {
    throw new AppError('validation_failed', 'The message is empty or longer than 10 SMS segments.', {
      field: 'text',
    });
  }
  const prefix = input.to.slice(0, prefixDigits);
  // One statement: bump today's three counters (the rows serialise concurrent sends to one number,
  // range or merchant), then queue the message only if none went over its limit. Over the limit, the
  // error below rolls the caller's transaction back, counters included.
  const scopes = [
    `msisdn:${input.to}`,
    `prefix:${prefix}`,
    `merchant:${input.merchantId}:${input.environment}`,
  ];
  const max = [limits.perMsisdnPerDay, limits.perPrefixPerDay, limits.perMerchantPerDay];
  const id = newId('sms');
  const sandboxData = JSON.stringify(input.environment === 'sandbox' ? (input.sandboxData ?? {}) : {});
  const { rows } = await sql<SmsRow & { over: number | null }>`
    WITH bumped AS (
      INSERT INTO sms_daily_counts AS c (scope, day, count)
      SELECT scope, (now() AT TIME ZONE 'UTC')::date, 1 FROM unnest(${scopes}::text[]) AS s(scope)
      ON CONFLICT (scope, day) DO UPDATE SET count = c.count + 1
      RETURNING scope, count
    ), over AS (
      SELECT min(array_position(${scopes}::text[], b.scope)) AS position
        FROM bumped b
       WHERE b.count > (${max}::int[])[array_position(${scopes}::text[], b.scope)]
    ), queued AS (
      INSERT INTO sms_messages (merchant_id, id, environment, to_msisdn, prefix, sender, purpose, language,
                                body, segments, sandbox_data, test_clock_id)
      SELECT ${input.merchantId}, ${id}, ${input.environment}, ${input.to}, ${prefix}, ${input.sender},
             ${input.purpose}, ${templateLanguage(input.templates, input.language)}, ${body}, ${segments},
             ${sandboxData}::jsonb, ${input.testClockId ?? null}
       WHERE (SELECT position FROM over) IS NULL
      RETURNING *
    )
    SELECT queued.*, (SELECT position FROM over) AS over FROM (SELECT 1) AS one LEFT JOIN queued ON true`.execute(
    tx,
  );
  const { over, ...queued } = rows[0] ?? { over: null };
  if (over !== null) {
    const what = ['to this number', 'to this number range', 'for this merchant'][over - 1] ?? '';
    throw new AppError(
      'rate_limited',
      `SMS limit reached: ${max[over - 1]} messages a day ${what}. Nothing was sent.`,
      {
        headers: { 'retry-after': '3600' },
      },
    );
  }
  if (!('id' in queued) || !queued.id)
    throw new Error('invariant violated: SMS neither queued nor over a limit');
  const row: SmsRow = queued;
  await enqueue(tx, {
    queue: sendQueue,
    payload: { merchantId: row.merchant_id, smsId: row.id },
    merchantId: row.merchant_id,
    environment: row.environment,
    singletonKey: row.id,
  });
  return row;
}

export function smsView(row: SmsRow) {
  return {
    id: row.id,
    to: row.to_msisdn,
    from: row.sender,
    purpose: row.purpose,
    language: row.language,
    text: row.body,
    segments: row.segments,
    status: row.status,
    ...row.sandbox_data,
    created_at: row.created_at.toISOString(),
    sent_at: row.sent_at?.toISOString() ?? null,
    delivered_at: row.delivered_at?.toISOString() ?? null,
  };
}

export async function sandboxInbox(
  db: Executor,
  input: { merchantId: string; to?: string; limit: number },
): Promise<SmsRow[]> {
  let query = db
    .selectFrom('sms_messages')
    .selectAll()
    .where('merchant_id', '=', input.merchantId)
    .where('environment', '=', 'sandbox')
    .orderBy('id', 'desc')
    .limit(input.limit);
  if (input.to) query = query.where('to_msisdn', '=', input.to);
  return query.execute();
}

/** Deletes daily counters older than yesterday (the limits only read today's). */
export async function pruneSmsCounters(db: Executor): Promise<number> {
  const result = await sql`
    DELETE FROM sms_daily_counts WHERE day < (now() AT TIME ZONE 'UTC')::date - 1`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

import { sql, type Selectable } from 'kysely';
import { countSmsSegments } from '../../connectors/contracts/sms-gateway.js';
import type { Executor } from '../db/db.js';
import type { Environment, SmsMessagesTable } from '../db/schema.js';
import { AppError } from '../errors/errors.js';
import { newId } from '../ids/ids.js';
import { enqueue } from '../jobs/jobs.js';
import { renderSmsTemplate, templateLanguage, type SmsTemplates } from './templates.js';

/**
 * The SMS outbox: a message is queued in the caller's transaction (with its send job) after the
 * per-MSISDN, per-prefix and per-merchant daily limits are checked; workers send it through a gateway
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
  // Serialise per MSISDN so two concurrent requests cannot both take the last message of the day.
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`sms:${input.to}`}))`.execute(tx);
  const { rows } = await sql<{ msisdn: string; prefix: string; merchant: string }>`
    SELECT (SELECT count(*) FROM sms_messages WHERE to_msisdn = ${input.to} AND created_at > now() - interval '1 day') AS msisdn,
           (SELECT count(*) FROM sms_messages WHERE prefix = ${prefix} AND created_at > now() - interval '1 day') AS prefix,
           (SELECT count(*) FROM sms_messages WHERE merchant_id = ${input.merchantId} AND environment = ${input.environment}
               AND created_at > now() - interval '1 day') AS merchant`.execute(tx);
  const counts = rows[0];
  const over =
    Number(counts?.msisdn ?? 0) >= limits.perMsisdnPerDay
      ? `${limits.perMsisdnPerDay} messages a day to this number`
      : Number(counts?.prefix ?? 0) >= limits.perPrefixPerDay
        ? `${limits.perPrefixPerDay} messages a day to this number range`
        : Number(counts?.merchant ?? 0) >= limits.perMerchantPerDay
          ? `${limits.perMerchantPerDay} messages a day for this merchant`
          : undefined;
  if (over) {
    throw new AppError('rate_limited', `SMS limit reached: ${over}. Nothing was sent.`, {
      headers: { 'retry-after': '3600' },
    });
  }
  const row = await tx
    .insertInto('sms_messages')
    .values({
      merchant_id: input.merchantId,
      id: newId('sms'),
      environment: input.environment,
      to_msisdn: input.to,
      prefix,
      sender: input.sender,
      purpose: input.purpose,
      language: templateLanguage(input.templates, input.language),
      body,
      segments,
      sandbox_data: JSON.stringify(input.environment === 'sandbox' ? (input.sandboxData ?? {}) : {}),
      test_clock_id: input.testClockId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
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

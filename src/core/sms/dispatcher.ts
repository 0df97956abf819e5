import { sql } from 'kysely';
import type { SmsDeliveryReceipt, SmsGateway } from '../../connectors/contracts/sms-gateway.js';
import type { Db } from '../db/db.js';
import { RetryLater } from '../jobs/runner.js';
import { backoffSeconds } from '../jobs/jobs.js';

/**
 * Sends queued SMS through the environment's gateway and settles them from delivery receipts. Sandbox
 * messages always go through the sandbox gateway (which sends nothing out); production through the one
 * the operator configured. One dispatcher per process; its gateways hold their connections open.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
}

/** Per-message send budget. */
export const smsSendTimeoutMs = 10_000;

export class SmsDispatcher {
  readonly #db: Db;
  readonly #gateways: { readonly sandbox: SmsGateway; readonly production: SmsGateway };
  readonly #unsubscribe: Array<() => void> = [];

  constructor(db: Db, gateways: { sandbox: SmsGateway; production: SmsGateway }, log: Logger) {
    this.#db = db;
    this.#gateways = gateways;
    const gatewaySet = new Set([gateways.sandbox, gateways.production]);
    for (const gateway of gatewaySet) {
      this.#unsubscribe.push(
        gateway.onDeliveryReceipt(async (receipt) => {
          try {
            await recordReceipt(db, receipt);
          } catch (error) {
            log.error({ err: error, gateway: receipt.gatewayId }, 'could not record an SMS delivery receipt');
            throw error;
          }
        }),
      );
    }
  }

  /** The `sms.send` job: safe to run twice (a message already past `sending` is left alone). */
  async send(input: { merchantId: string; smsId: string; attempt: number }): Promise<void> {
    const row = await this.#db
      .updateTable('sms_messages')
      .set({ status: 'sending', updated_at: sql<Date>`now()` })
      .where('merchant_id', '=', input.merchantId)
      .where('id', '=', input.smsId)
      .where('status', 'in', ['queued', 'sending'])
      .returningAll()
      .executeTakeFirst();
    if (!row) return;
    const gateway = row.environment === 'sandbox' ? this.#gateways.sandbox : this.#gateways.production;
    const outcome = await gateway.send({
      reference: row.id,
      to: row.to_msisdn,
      from: row.sender,
      text: row.body,
      timeoutMs: smsSendTimeoutMs,
    });
    const refs = [
      ...new Set([
        ...(outcome.segmentGatewayReferences ?? []),
        ...(outcome.gatewayReference ? [outcome.gatewayReference] : []),
      ]),
    ];
    const status =
      outcome.status === 'succeeded' || outcome.status === 'pending'
        ? 'sent'
        : outcome.status === 'declined'
          ? 'failed'
          : outcome.status === 'unknown'
            ? 'unknown'
            : 'queued';
    // The outcome and, when receipts for these references arrived first, their settlement: one statement.
    await sql`
      UPDATE sms_messages AS u
         SET status = CASE WHEN ${status} IN ('sent', 'unknown') AND r.failed > 0 THEN 'failed'
                           WHEN ${status} IN ('sent', 'unknown') AND cardinality(${refs}::text[]) > 0
                                AND r.delivered >= cardinality(${refs}::text[]) THEN 'delivered'
                           ELSE ${status} END,
             gateway_id = ${gateway.id},
             gateway_refs = ${refs}::text[],
             raw_code = ${outcome.rawCode},
             raw_message = ${outcome.rawMessage ?? null},
             sent_at = CASE WHEN ${status} = 'sent' THEN now() END,
             delivered_segments = CASE WHEN ${status} IN ('sent', 'unknown') THEN r.delivered
                                       ELSE u.delivered_segments END,
             delivered_at = CASE WHEN ${status} IN ('sent', 'unknown') AND r.failed = 0
                                      AND cardinality(${refs}::text[]) > 0
                                      AND r.delivered >= cardinality(${refs}::text[])
                                 THEN coalesce(u.delivered_at, now()) ELSE u.delivered_at END,
             updated_at = now()
        FROM (SELECT count(DISTINCT gateway_ref) FILTER (WHERE status = 'delivered')::int AS delivered,
                     count(*) FILTER (WHERE status = ANY(${failedReceipts}::text[]))::int AS failed
                FROM sms_receipts
               WHERE gateway_id = ${gateway.id} AND gateway_ref = ANY(${refs}::text[])) AS r
       WHERE u.merchant_id = ${row.merchant_id} AND u.id = ${row.id}`.execute(this.#db);
    // Definitely not sent (throttled, not bound): the job is retried later. Unknown is never resent.
    if (status === 'queued')
      throw new RetryLater(`SMS not sent: ${outcome.rawCode}`, backoffSeconds(input.attempt));
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await Promise.all(
      [...new Set([this.#gateways.sandbox, this.#gateways.production])].map((g) => g.close()),
    );
  }
}

const failedReceipts = ['failed', 'expired', 'rejected'];

/**
 * Stores a delivery receipt and settles its message: delivered once every reference has a delivered
 * receipt; failed on any failed, expired or rejected one.
 */
export async function recordReceipt(db: Db, receipt: SmsDeliveryReceipt): Promise<void> {
  // One statement: store the receipt and settle its message. The settlement cannot see the row this
  // statement inserts, so the new receipt joins the stored ones explicitly.
  await sql`
    WITH stored AS (
      INSERT INTO sms_receipts (gateway_id, gateway_ref, status, raw_status, final, at)
      VALUES (${receipt.gatewayId}, ${receipt.gatewayReference}, ${receipt.status}, ${receipt.rawStatus},
              ${receipt.final}, ${receipt.at.toISOString()}::timestamptz)
      ON CONFLICT (gateway_id, gateway_ref, status) DO NOTHING
    )
    UPDATE sms_messages AS u
       SET delivered_segments = s.delivered,
           status = CASE WHEN s.failed > 0 THEN 'failed'
                         WHEN s.delivered >= cardinality(u.gateway_refs) THEN 'delivered' ELSE u.status END,
           delivered_at = CASE WHEN s.failed = 0 AND s.delivered >= cardinality(u.gateway_refs)
                               THEN coalesce(u.delivered_at, now()) ELSE u.delivered_at END,
           updated_at = now()
      FROM (SELECT m.id, agg.delivered, agg.failed
              FROM sms_messages m
              CROSS JOIN LATERAL (
                SELECT count(DISTINCT r.gateway_ref) FILTER (WHERE r.status = 'delivered') AS delivered,
                       count(*) FILTER (WHERE r.status = ANY(${failedReceipts}::text[])) AS failed
                  FROM (SELECT gateway_ref, status FROM sms_receipts
                         WHERE gateway_id = m.gateway_id AND gateway_ref = ANY(m.gateway_refs)
                        UNION
                        SELECT ${receipt.gatewayReference}::text, ${receipt.status}::text) AS r
              ) AS agg
             WHERE m.gateway_id = ${receipt.gatewayId}
               AND ${receipt.gatewayReference} = ANY(m.gateway_refs)) AS s
     WHERE u.id = s.id AND u.status IN ('sent', 'sending', 'unknown')`.execute(db);
}

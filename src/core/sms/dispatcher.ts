import { sql } from 'kysely';
import type { SmsDeliveryReceipt, SmsGateway } from '../../connectors/contracts/sms-gateway.js';
import type { Db, Executor } from '../db/db.js';
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
    await this.#db
      .updateTable('sms_messages')
      .set({
        status,
        gateway_id: gateway.id,
        gateway_refs: refs,
        raw_code: outcome.rawCode,
        raw_message: outcome.rawMessage ?? null,
        sent_at: status === 'sent' ? sql<Date>`now()` : null,
        updated_at: sql<Date>`now()`,
      })
      .where('merchant_id', '=', row.merchant_id)
      .where('id', '=', row.id)
      .execute();
    // A receipt may have arrived before the references were stored. This must be a second statement: a
    // receipt whose settlement ran before the update above committed is committed itself before this
    // statement starts, so one of the two always sees both (folding it into the update loses that race).
    if (refs.length > 0) await settle(this.#db, sql`m.id = ${row.id}`);
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

export async function recordReceipt(db: Db, receipt: SmsDeliveryReceipt): Promise<void> {
  await db
    .insertInto('sms_receipts')
    .values({
      gateway_id: receipt.gatewayId,
      gateway_ref: receipt.gatewayReference,
      status: receipt.status,
      raw_status: receipt.rawStatus,
      final: receipt.final,
      at: receipt.at,
    })
    .onConflict((oc) => oc.columns(['gateway_id', 'gateway_ref', 'status']).doNothing())
    .execute();
  await settle(
    db,
    sql`m.gateway_id = ${receipt.gatewayId} AND ${receipt.gatewayReference} = ANY(m.gateway_refs)`,
  );
}

/** Delivered once every reference has a delivered receipt; failed on any failed, expired or rejected. */
async function settle(db: Executor, where: ReturnType<typeof sql>): Promise<void> {
  await sql`
    UPDATE sms_messages AS u
       SET delivered_segments = s.delivered,
           status = CASE WHEN s.failed > 0 THEN 'failed'
                         WHEN s.delivered >= cardinality(u.gateway_refs) THEN 'delivered' ELSE u.status END,
           delivered_at = CASE WHEN s.failed = 0 AND s.delivered >= cardinality(u.gateway_refs)
                               THEN coalesce(u.delivered_at, now()) ELSE u.delivered_at END,
           updated_at = now()
      FROM (SELECT m.id,
                   count(DISTINCT r.gateway_ref) FILTER (WHERE r.status = 'delivered') AS delivered,
                   count(*) FILTER (WHERE r.status = ANY(${failedReceipts}::text[])) AS failed
              FROM sms_messages m
              JOIN sms_receipts r ON r.gateway_id = m.gateway_id AND r.gateway_ref = ANY(m.gateway_refs)
             WHERE ${where}
             GROUP BY m.id) AS s
     WHERE u.id = s.id AND u.status IN ('sent', 'sending', 'unknown')`.execute(db);
}

import type { MailGateway } from '../../connectors/mail/mail-gateway.js';
import { newId } from '../ids/ids.js';
import { withPortalTables, type MailMessagesTable } from './schema.js';
import type { Executor } from '../db/db.js';
import type { Selectable } from 'kysely';

export type MailRow = Selectable<MailMessagesTable>;

/** Messages kept this long-ish in a page of the outbox. */
export const mailPageMax = 100;

export interface OutgoingMail {
  merchantId: string | null;
  to: string;
  subject: string;
  text: string;
  purpose: string;
}

/**
 * The mail outbox: a message is written in the same transaction as what caused it (sign-up, reset…).
 * The sandbox gateway keeps it here for `GET /v1/sandbox/mail` and the portal; the SMTP gateway sends it
 * after the commit (`deliverMail`) and then drops the body, which holds one-time links.
 */
export async function queueMail(db: Executor, gateway: MailGateway, mail: OutgoingMail): Promise<string> {
  const id = newId('mail');
  await withPortalTables(db)
    .insertInto('mail_messages')
    .values({
      id,
      merchant_id: mail.merchantId,
      to_address: mail.to,
      subject: mail.subject,
      body_text: mail.text,
      purpose: mail.purpose,
      gateway: gateway.id,
      status: gateway.id === 'sandbox' ? 'kept' : 'queued',
    })
    .execute();
  return id;
}

/** Sends queued messages through a real gateway; the sandbox keeps them and sends nothing. */
export async function deliverMail(db: Executor, gateway: MailGateway, ids: readonly string[]): Promise<void> {
  if (gateway.id === 'sandbox' || ids.length === 0) return;
  const pdb = withPortalTables(db);
  const rows = await pdb
    .selectFrom('mail_messages')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('status', '=', 'queued')
    .execute();
  for (const row of rows) {
    const result = await gateway.send({ to: row.to_address, subject: row.subject, text: row.body_text });
    await pdb
      .updateTable('mail_messages')
      .set(
        result.ok
          ? { status: 'sent', sent_at: new Date(), body_text: '[sent by SMTP; the body is not kept]' }
          : { status: 'failed', error: result.error.slice(0, 500) },
      )
      .where('id', '=', row.id)
      .where('status', '=', 'queued')
      .execute();
  }
}

export async function listMail(
  db: Executor,
  filter: { merchantId?: string; to?: string; limit: number; startingAfter?: string },
): Promise<MailRow[]> {
  let query = withPortalTables(db)
    .selectFrom('mail_messages')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.to) query = query.where('to_address', '=', filter.to.toLowerCase());
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  return query.execute();
}

export function mailView(row: MailRow) {
  return {
    id: row.id,
    to: row.to_address,
    subject: row.subject,
    text: row.body_text,
    purpose: row.purpose,
    gateway: row.gateway,
    status: row.status,
    created_at: row.created_at.toISOString(),
    sent_at: row.sent_at?.toISOString() ?? null,
  };
}

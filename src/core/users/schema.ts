import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Executor } from '../db/db.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type UserKind = 'merchant' | 'operator';
export type MerchantRole = 'owner' | 'developer' | 'viewer';
export type OperatorRole = 'admin' | 'support';
export type UserRole = MerchantRole | OperatorRole;

export interface PortalUsersTable {
  id: string;
  kind: UserKind;
  merchant_id: string | null;
  email: string;
  password_hash: string;
  role: UserRole;
  email_verified_at: NullableTimestamp;
  totp_secret: ColumnType<string | null, string | null | undefined>;
  totp_enabled_at: NullableTimestamp;
  failed_signins: ColumnType<number, number | undefined, number>;
  locked_until: NullableTimestamp;
  created_at: Timestamp;
  disabled_at: NullableTimestamp;
}

export interface PortalSessionsTable {
  token_hash: Buffer;
  user_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface PortalTokensTable {
  token_hash: Buffer;
  user_id: string;
  purpose: 'verify_email' | 'password_reset';
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface MailMessagesTable {
  id: string;
  merchant_id: string | null;
  to_address: string;
  subject: string;
  body_text: string;
  purpose: string;
  gateway: 'sandbox' | 'smtp';
  status: 'kept' | 'queued' | 'sent' | 'failed';
  error: ColumnType<string | null, string | null | undefined>;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
}

/** The portal's tables (db/migrations/0014_portal.sql), kept here rather than in the shared schema. */
export interface PortalTables {
  portal_users: PortalUsersTable;
  portal_sessions: PortalSessionsTable;
  portal_tokens: PortalTokensTable;
  mail_messages: MailMessagesTable;
}

export type PortalDatabase = Database & PortalTables;
export type PortalExecutor = Kysely<PortalDatabase> | Transaction<PortalDatabase>;

/** The same connection or transaction, typed with the portal's tables too. */
export function withPortalTables(db: Executor): PortalExecutor {
  return db;
}

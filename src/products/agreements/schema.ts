import type { ColumnType, Kysely, Selectable } from 'kysely';
import type { Executor } from '../../core/db/db.js';
import type { Database, Environment } from '../../core/db/schema.js';

/** The agreements product's tables (db/migrations/0011_agreements.sql). */
type Generated<T> = ColumnType<T, T | undefined, T>;

export interface AgrProvidersTable {
  id: string;
  merchant_id: string;
  environment: Environment;
  name: string;
  homepage: string | null;
  customer_service: string | null;
  faq: string | null;
  portal: string | null;
  address: string | null;
  zip_code: string | null;
  city: string | null;
  payment_status_callback_url: string | null;
  callback_auth: ColumnType<CallbackAuth | null, string | null | undefined, string | null>;
  auto_reserve_enabled: Generated<boolean>;
  callback_batch_seconds: Generated<number>;
  status: Generated<number>;
  created_at: Generated<Date>;
}

export type CallbackAuth =
  | { scheme: 'basic'; user_name: string; password: string }
  | { scheme: 'apikey'; api_key: string }
  | { scheme: 'oauth2'; client_id: string; client_secret: string; token_url: string; scope: string | null };

export interface AgrOauthClientsTable {
  client_id: string;
  merchant_id: string;
  environment: Environment;
  name: string;
  secret_hash: Buffer;
  redirect_uris: Generated<string[]>;
  created_at: Generated<Date>;
}

/** oidc-provider's Adapter storage (db/migrations/0016_oidc_provider.sql). */
export interface AgrOidcPayloadsTable {
  model: string;
  id_hash: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  uid: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

export type AgreementStatus = 'Pending' | 'Accepted' | 'Rejected' | 'Expired' | 'Canceled';

export interface Link {
  rel: string;
  href: string;
}

export interface AgrAgreementsTable {
  id: string;
  merchant_id: string;
  environment: Environment;
  provider_id: string;
  status: AgreementStatus;
  external_id: string | null;
  amount_minor: bigint | null;
  currency: string;
  country_code: string;
  plan: string;
  description: string | null;
  frequency: number;
  next_payment_date: ColumnType<string | null, string | null, string | null>;
  expiration_timeout_minutes: number;
  expires_at: Date;
  mobile_phone_number: string | null;
  retention_period_hours: Generated<number>;
  disable_notification_management: Generated<boolean>;
  notifications_on: Generated<boolean>;
  links: ColumnType<Link[], string, string>;
  payer_ref: string | null;
  status_code: number | null;
  test_clock_id: string | null;
  date_created: Date;
  date_accepted: Date | null;
  date_canceled: Date | null;
}

export type OneOffStatus = 'Requested' | 'Reserved' | 'Rejected' | 'Expired' | 'Canceled' | 'Captured';

export interface AgrOneOffsTable {
  id: string;
  merchant_id: string;
  environment: Environment;
  provider_id: string;
  agreement_id: string;
  status: OneOffStatus;
  amount_minor: bigint;
  currency: string;
  external_id: string;
  description: string;
  auto_reserve: Generated<boolean>;
  with_agreement: Generated<boolean>;
  expiration_timeout_minutes: number;
  expires_at: Date;
  links: ColumnType<Link[], string | undefined, string>;
  payment_id: string | null;
  status_code: number | null;
  test_clock_id: string | null;
  created_at: Date;
}

export type PaymentRequestStatus = 'Requested' | 'Pending' | 'Executed' | 'Failed' | 'Declined' | 'Rejected';

export interface AgrPaymentRequestsTable {
  id: string;
  merchant_id: string;
  environment: Environment;
  provider_id: string;
  agreement_id: string;
  status: PaymentRequestStatus;
  status_code: number | null;
  amount_minor: bigint;
  currency: string | null;
  due_date: ColumnType<string, string, string>;
  external_id: string;
  description: string;
  grace_period_days: number | null;
  payment_id: string | null;
  test_clock_id: string | null;
  created_at: Date;
}

export interface AgrRefundsTable {
  id: string;
  merchant_id: string;
  environment: Environment;
  provider_id: string;
  agreement_id: string;
  source_id: string;
  core_refund_id: string | null;
  amount_minor: bigint;
  currency: string;
  status: 'Requested' | 'Issued' | 'Declined';
  status_code: number | null;
  external_id: string | null;
  status_callback_url: string;
  full_refund: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface AgrAttachmentsTable {
  payment_id: string;
  merchant_id: string;
  provider_id: string;
  body: ColumnType<Record<string, unknown>, string, string>;
  updated_at: Generated<Date>;
}

export interface AgrCallbackQueueTable {
  id: Generated<bigint>;
  merchant_id: string;
  environment: Environment;
  provider_id: string;
  item: ColumnType<Record<string, unknown>, string, string>;
  test_clock_id: string | null;
  created_at: Generated<Date>;
}

export type AgrTables = {
  agr_providers: AgrProvidersTable;
  agr_oauth_clients: AgrOauthClientsTable;
  agr_oidc_payloads: AgrOidcPayloadsTable;
  agr_agreements: AgrAgreementsTable;
  agr_one_offs: AgrOneOffsTable;
  agr_payment_requests: AgrPaymentRequestsTable;
  agr_refunds: AgrRefundsTable;
  agr_attachments: AgrAttachmentsTable;
  agr_callback_queue: AgrCallbackQueueTable;
};

export type AgrDb = Kysely<Database & AgrTables>;
export type ProviderRow = Selectable<AgrProvidersTable>;
export type AgreementRow = Selectable<AgrAgreementsTable>;
export type OneOffRow = Selectable<AgrOneOffsTable>;
export type PaymentRequestRow = Selectable<AgrPaymentRequestsTable>;
export type RefundRow = Selectable<AgrRefundsTable>;

/** The executor (database or transaction) typed with this product's tables as well. */
export function agr(db: Executor): AgrDb {
  return db.withTables<AgrTables>();
}

import type { ColumnType, Generated } from 'kysely';

/** Table types for Kysely. Keep in step with db/migrations. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type Environment = 'sandbox' | 'production';
export const environments: readonly Environment[] = ['sandbox', 'production'];

export type Dialect = 'native' | 'carrier_billing' | 'bill_payment' | 'subscriptions' | 'agreements';
export type Product = 'carrier-billing' | 'bill-payment' | 'subscriptions' | 'agreements';

export interface MerchantsTable {
  id: string;
  name: string;
  status: ColumnType<'active' | 'disabled', 'active' | 'disabled' | undefined>;
  is_demo: ColumnType<boolean, boolean | undefined>;
  created_at: Timestamp;
  disabled_at: NullableTimestamp;
}

export interface CredentialsTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  dialect: Dialect;
  name: ColumnType<string, string | undefined>;
  public_id: string;
  secret_hash: Buffer;
  secret_last4: string;
  attributes: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  replaced_by: ColumnType<string | null, string | null | undefined>;
}

export interface ProductAccessTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  product: Product;
  name: string;
  status: 'pending' | 'approved' | 'rejected' | 'revoked';
  requested_at: Timestamp;
  decided_at: NullableTimestamp;
  decided_by: ColumnType<string | null, string | null | undefined>;
  decision_reason: ColumnType<string | null, string | null | undefined>;
}

export interface OperatorKeysTable {
  id: string;
  name: string;
  secret_hash: Buffer;
  secret_last4: string;
  created_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<bigint>;
  occurred_at: Timestamp;
  actor_type: 'operator' | 'merchant' | 'system';
  actor_id: string;
  merchant_id: string | null;
  environment: Environment | null;
  action: string;
  target_id: string | null;
  request_id: string;
  outcome: 'success' | 'failure';
  status_code: number;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  fingerprint: Buffer;
  state: 'running' | 'completed';
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
  created_at: Timestamp;
  locked_at: Timestamp;
  expires_at: Timestamp;
}

export interface BootstrapSecretsTable {
  name: string;
  value: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export interface TestClocksTable {
  merchant_id: string;
  id: string;
  environment: 'sandbox';
  name: ColumnType<string, string | undefined>;
  frozen_time: Timestamp;
  created_at: Timestamp;
}

export interface JobsTable {
  id: Generated<bigint>;
  queue: string;
  payload: ColumnType<Record<string, unknown>, string | undefined, string>;
  merchant_id: string | null;
  environment: string | null;
  test_clock_id: string | null;
  run_at: Timestamp;
  state: ColumnType<'queued' | 'running' | 'failed', 'queued' | 'running' | 'failed' | undefined>;
  attempts: ColumnType<number, number | undefined>;
  attempts_max: ColumnType<number, number | undefined>;
  singleton_key: string | null;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  last_error: string | null;
  created_at: Timestamp;
  failed_at: NullableTimestamp;
}

export interface JobSchedulesTable {
  name: string;
  queue: string;
  interval_seconds: number;
  next_run_at: Timestamp;
}

export type PaymentKind = 'sale' | 'authorization' | 'refund';
export type PaymentStatus =
  'pending' | 'authorized' | 'captured' | 'voided' | 'expired' | 'succeeded' | 'failed' | 'unknown';

export interface PaymentsTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  product: Product;
  kind: PaymentKind;
  status: PaymentStatus;
  amount_minor: bigint;
  currency: string;
  captured_minor: ColumnType<bigint, bigint | undefined, bigint>;
  refunded_minor: ColumnType<bigint, bigint | undefined, bigint>;
  payer_ref: string;
  connector_id: string;
  connector_ref: string | null;
  raw_code: string | null;
  raw_message: string | null;
  parent_payment_id: string | null;
  reference: string | null;
  description: string | null;
  test_clock_id: string | null;
  expires_at: NullableTimestamp;
  metadata: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PaymentTransitionsTable {
  merchant_id: string;
  payment_id: string;
  seq: number;
  from_status: string | null;
  to_status: string;
  event: string;
  amount_minor: bigint | null;
  raw_code: string | null;
  at: Timestamp;
}

export interface LedgerAccountsTable {
  merchant_id: string;
  environment: Environment;
  currency: string;
  role: string;
  shard: ColumnType<number, number | undefined, number>;
  debits_minor: bigint;
  credits_minor: bigint;
}

export interface LedgerTransactionsTable {
  merchant_id: string;
  environment: Environment;
  id: string;
  payment_id: string | null;
  kind: string;
  created_at: Timestamp;
}

export interface LedgerEntriesTable {
  merchant_id: string;
  transaction_id: string;
  entry_no: number;
  environment: Environment;
  currency: string;
  role: string;
  debit_minor: bigint;
  credit_minor: bigint;
}

export interface LedgerHoldsTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  payment_id: string;
  currency: string;
  amount_minor: bigint;
  status: 'pending' | 'posted' | 'voided' | 'expired';
  posted_minor: ColumnType<bigint, bigint | undefined, bigint>;
  created_at: Timestamp;
  resolved_at: NullableTimestamp;
}

export interface EventsTable {
  merchant_id: string;
  environment: Environment;
  id: string;
  type: string;
  object_id: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
}

export interface WebhookEndpointsTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  url: string;
  description: ColumnType<string, string | undefined>;
  event_types: ColumnType<string[], string[] | undefined>;
  enabled: ColumnType<boolean, boolean | undefined>;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: NullableTimestamp;
  format: ColumnType<string, string | undefined>;
  product: ColumnType<Product | null, Product | null | undefined>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  endpoint_id: string;
  event_id: string;
  status: ColumnType<
    'pending' | 'delivered' | 'failed' | 'cancelled',
    'pending' | 'delivered' | 'failed' | 'cancelled' | undefined
  >;
  attempts: ColumnType<number, number | undefined>;
  test_clock_id: string | null;
  next_attempt_at: NullableTimestamp;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface WebhookAttemptsTable {
  merchant_id: string;
  delivery_id: string;
  attempt_no: number;
  at: Timestamp;
  outcome: string;
  status_code: number | null;
  latency_ms: number;
  response_snippet: ColumnType<string, string | undefined>;
  error: string | null;
}

export interface SmsDailyCountsTable {
  scope: string;
  day: Date;
  count: number;
}

export interface SmsMessagesTable {
  merchant_id: string;
  id: string;
  environment: Environment;
  to_msisdn: string;
  prefix: string;
  sender: string;
  purpose: string;
  language: string;
  body: string;
  segments: number;
  status: ColumnType<
    'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'unknown',
    'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'unknown' | undefined
  >;
  gateway_id: string | null;
  gateway_refs: ColumnType<string[], string[] | undefined>;
  delivered_segments: ColumnType<number, number | undefined>;
  raw_code: string | null;
  raw_message: string | null;
  sandbox_data: ColumnType<Record<string, string>, string | undefined, string>;
  test_clock_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  sent_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
}

export interface SmsReceiptsTable {
  gateway_id: string;
  gateway_ref: string;
  status: string;
  raw_status: string;
  final: boolean;
  at: Timestamp;
  received_at: Timestamp;
}

export interface CbProductsTable {
  merchant_id: string;
  environment: Environment;
  product_id: ColumnType<bigint, bigint | undefined, never>;
  name: string;
  description: ColumnType<string, string | undefined>;
  enabled: ColumnType<boolean, boolean | undefined>;
  created_at: Timestamp;
}

export interface CbSettingsTable {
  merchant_id: string;
  environment: Environment;
  webhook_endpoint_id: string | null;
  support_contact: ColumnType<string, string | undefined>;
  send_bill_allowed: ColumnType<boolean, boolean | undefined>;
  updated_at: Timestamp;
}

export interface Database {
  merchants: MerchantsTable;
  sms_daily_counts: SmsDailyCountsTable;
  credentials: CredentialsTable;
  product_access: ProductAccessTable;
  operator_keys: OperatorKeysTable;
  audit_log: AuditLogTable;
  idempotency_keys: IdempotencyKeysTable;
  bootstrap_secrets: BootstrapSecretsTable;
  schema_migrations: SchemaMigrationsTable;
  test_clocks: TestClocksTable;
  jobs: JobsTable;
  job_schedules: JobSchedulesTable;
  payments: PaymentsTable;
  payment_transitions: PaymentTransitionsTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_holds: LedgerHoldsTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  sms_messages: SmsMessagesTable;
  sms_receipts: SmsReceiptsTable;
  cb_products: CbProductsTable;
  cb_settings: CbSettingsTable;
}

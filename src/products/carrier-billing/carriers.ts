import { sql, type ColumnType, type Kysely, type Selectable } from 'kysely';
import { isUniqueViolation, type Executor } from '../../core/db/db.js';
import type { Database, Environment } from '../../core/db/schema.js';
import { AppError, assert } from '../../core/errors/errors.js';
import { newId } from '../../core/ids/ids.js';
import { amountMinorMax, parseCurrency } from '../../core/money/money.js';
import { callingCodeOf, isCountryCode, parseMsisdn } from './msisdn.js';

/**
 * Carriers: the mobile networks carrier billing charges through. Operator-managed records per
 * environment (no merchant owns them) with the network's rules — currency, refunds, the mandatory
 * confirmation SMS, PIN length, spend limits per subscriber — and the connector that bills it. A
 * purchase finds its carrier with `detectCarrier` (ported numbers first, then MCC/MNC, then number
 * ranges) and checks `checkSpendLimits` before charging.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** Kysely table types (db/migrations/0006_carriers.sql). */
export interface CarriersTable {
  id: string;
  environment: Environment;
  name: string;
  country: string;
  mcc: string;
  mnc: string;
  number_ranges: ColumnType<string[], string[] | undefined, string[]>;
  currency: string;
  refunds_supported: ColumnType<boolean, boolean | undefined, boolean>;
  partial_refunds_supported: ColumnType<boolean, boolean | undefined, boolean>;
  confirmation_sms_required: ColumnType<boolean, boolean | undefined, boolean>;
  pin_length: ColumnType<number, number | undefined, number>;
  per_transaction_max_minor: bigint;
  daily_max_minor: bigint;
  monthly_max_minor: bigint;
  connector_id: string;
  connector_config: ColumnType<Record<string, unknown>, string | undefined, string>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface NumberPortabilityTable {
  environment: Environment;
  msisdn: string;
  carrier_id: string;
  created_at: Timestamp;
}

export type CarrierRow = Selectable<CarriersTable>;
export type PortedNumberRow = Selectable<NumberPortabilityTable>;

type CarrierDatabase = Database & { carriers: CarriersTable; number_portability: NumberPortabilityTable };

/** The shared schema type does not list these tables yet; this is the one place that widens it. */
function carrierDb(db: Executor): Kysely<CarrierDatabase> {
  return db as unknown as Kysely<CarrierDatabase>;
}

/**
 * Carrier connectors a carrier record may name. Kept in step with `sandboxConnectorIds` in
 * src/connectors/sandbox-connectors.ts (a product does not import that registry); real carrier
 * connectors are added here as they are written.
 */
export const carrierConnectorIds = ['carrier-simulator', 'carrier-simulator-no-refunds'] as const;
export type CarrierConnectorId = (typeof carrierConnectorIds)[number];

/** Ids of the carriers migration 0006 seeds into the sandbox. */
export const sandboxCarrierIds = {
  ukWithRefunds: 'car_sandbox_uk_refunds',
  ukWithoutRefunds: 'car_sandbox_uk_norefunds',
} as const;

/** Payments of carrier billing name their carrier under this metadata key; spend limits count by it. */
export const carrierIdMetadataKey = 'carrier_id';

export const carrierNameLengthMax = 200;
export const numberRangesPerCarrierMax = 200;
export const numberRangeDigitsMax = 15;
export const pinLengthMin = 4;
export const pinLengthMax = 8;
export const pinLengthDefault = 6;
/** Connector configs are small settings objects; credentials belong in a secret store, not here. */
export const connectorConfigBytesMax = 16_384;

/** Every field an operator sets; `environment` and `id` are fixed at creation. */
export interface CarrierFields {
  name: string;
  country: string;
  mcc: string;
  mnc: string;
  numberRanges: string[];
  currency: string;
  refundsSupported: boolean;
  partialRefundsSupported: boolean;
  confirmationSmsRequired: boolean;
  pinLength: number;
  perTransactionMaxMinor: bigint;
  dailyMaxMinor: bigint;
  monthlyMaxMinor: bigint;
  connectorId: string;
  connectorConfig: Record<string, unknown>;
  enabled: boolean;
}

type CarrierDefaults =
  | 'numberRanges'
  | 'refundsSupported'
  | 'partialRefundsSupported'
  | 'confirmationSmsRequired'
  | 'pinLength'
  | 'connectorConfig'
  | 'enabled';

export type CreateCarrierInput = { environment: Environment } & Omit<CarrierFields, CarrierDefaults> &
  Partial<Pick<CarrierFields, CarrierDefaults>>;
export type UpdateCarrierInput = Partial<CarrierFields>;

export function carrierView(row: CarrierRow) {
  return {
    id: row.id,
    object: 'carrier' as const,
    environment: row.environment,
    name: row.name,
    country: row.country,
    mcc: row.mcc,
    mnc: row.mnc,
    number_ranges: row.number_ranges,
    currency: row.currency,
    refunds_supported: row.refunds_supported,
    partial_refunds_supported: row.partial_refunds_supported,
    confirmation_sms_required: row.confirmation_sms_required,
    pin_length: row.pin_length,
    // Limits are at most amountMinorMax (10^15), exact as JSON numbers.
    per_transaction_max_minor: Number(row.per_transaction_max_minor),
    daily_max_minor: Number(row.daily_max_minor),
    monthly_max_minor: Number(row.monthly_max_minor),
    connector_id: row.connector_id,
    connector_config: row.connector_config,
    enabled: row.enabled,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function portedNumberView(row: PortedNumberRow) {
  return {
    msisdn: row.msisdn,
    carrier_id: row.carrier_id,
    environment: row.environment,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Checks and normalises a carrier's fields as a whole (after a PATCH is merged, too): the rules the
 * table's CHECKs guard, said with the field's name, plus those only code can check (a known country,
 * currency and connector; ranges inside the country's calling code).
 */
export function validateCarrierFields(fields: CarrierFields): CarrierFields {
  const name = fields.name.trim();
  if (name.length < 1 || name.length > carrierNameLengthMax) {
    throw invalid('/name', `must be 1-${carrierNameLengthMax} characters`);
  }
  if (!isCountryCode(fields.country))
    throw invalid('/country', 'must be an ISO 3166-1 alpha-2 code, e.g. GB');
  if (!/^[0-9]{3}$/.test(fields.mcc)) throw invalid('/mcc', 'must be 3 digits');
  if (!/^[0-9]{2,3}$/.test(fields.mnc)) throw invalid('/mnc', 'must be 2 or 3 digits');
  const callingCode = callingCodeOf(fields.country);
  const numberRanges = [...new Set(fields.numberRanges)];
  if (numberRanges.length > numberRangesPerCarrierMax) {
    throw invalid('/number_ranges', `must have at most ${numberRangesPerCarrierMax} prefixes`);
  }
  for (const prefix of numberRanges) {
    if (!new RegExp(`^[1-9][0-9]{0,${numberRangeDigitsMax - 1}}$`).test(prefix)) {
      throw invalid('/number_ranges', `${JSON.stringify(prefix)} is not a prefix of international digits`);
    }
    if (!prefix.startsWith(callingCode)) {
      throw invalid(
        '/number_ranges',
        `${prefix} is not inside ${fields.country}'s calling code +${callingCode}`,
      );
    }
  }
  const currency = parseCurrency(fields.currency, '/currency');
  if (fields.partialRefundsSupported && !fields.refundsSupported) {
    throw invalid('/partial_refunds_supported', 'needs refunds_supported');
  }
  if (
    !Number.isInteger(fields.pinLength) ||
    fields.pinLength < pinLengthMin ||
    fields.pinLength > pinLengthMax
  ) {
    throw invalid('/pin_length', `must be ${pinLengthMin}-${pinLengthMax}`);
  }
  const limits = [
    ['/per_transaction_max_minor', fields.perTransactionMaxMinor],
    ['/daily_max_minor', fields.dailyMaxMinor],
    ['/monthly_max_minor', fields.monthlyMaxMinor],
  ] as const;
  for (const [field, value] of limits) {
    if (value < 1n || value > amountMinorMax) throw invalid(field, `must be 1-${amountMinorMax} minor units`);
  }
  if (fields.dailyMaxMinor < fields.perTransactionMaxMinor) {
    throw invalid('/daily_max_minor', 'must be at least per_transaction_max_minor');
  }
  if (fields.monthlyMaxMinor < fields.dailyMaxMinor) {
    throw invalid('/monthly_max_minor', 'must be at least daily_max_minor');
  }
  if (!(carrierConnectorIds as readonly string[]).includes(fields.connectorId)) {
    throw invalid('/connector_id', `must be one of ${carrierConnectorIds.join(', ')}`);
  }
  const config: unknown = fields.connectorConfig;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw invalid('/connector_config', 'must be an object');
  }
  if (Buffer.byteLength(JSON.stringify(config), 'utf8') > connectorConfigBytesMax) {
    throw invalid('/connector_config', `must be at most ${connectorConfigBytesMax} bytes as JSON`);
  }
  return { ...fields, name, numberRanges, currency };
}

export async function findCarrier(db: Executor, id: string): Promise<CarrierRow | undefined> {
  return carrierDb(db).selectFrom('carriers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getCarrier(db: Executor, id: string): Promise<CarrierRow> {
  const row = await findCarrier(db, id);
  if (!row) throw new AppError('not_found', `No carrier ${id}.`);
  return row;
}

/** Carriers by id, descending (the native API's list order), `limit + 1` rows to tell `has_more`. */
export async function listCarriers(
  db: Executor,
  filter: { environment?: Environment; enabled?: boolean; limit: number; startingAfter?: string },
): Promise<CarrierRow[]> {
  let query = carrierDb(db)
    .selectFrom('carriers')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.environment) query = query.where('environment', '=', filter.environment);
  if (filter.enabled !== undefined) query = query.where('enabled', '=', filter.enabled);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  return query.execute();
}

export async function createCarrier(tx: Executor, input: CreateCarrierInput): Promise<CarrierRow> {
  const fields = validateCarrierFields({
    ...input,
    numberRanges: input.numberRanges ?? [],
    refundsSupported: input.refundsSupported ?? false,
    partialRefundsSupported: input.partialRefundsSupported ?? false,
    confirmationSmsRequired: input.confirmationSmsRequired ?? true,
    pinLength: input.pinLength ?? pinLengthDefault,
    connectorConfig: input.connectorConfig ?? {},
    enabled: input.enabled ?? true,
  });
  await lockCarrierWrites(tx);
  const id = newCarrierId();
  await assertNoConflicts(tx, input.environment, id, fields);
  try {
    return await carrierDb(tx)
      .insertInto('carriers')
      .values({ id, environment: input.environment, ...columnsOf(fields) })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asConflict(error, fields);
  }
}

/** Applies a partial change; the merged record is validated as a whole. */
export async function updateCarrier(
  tx: Executor,
  id: string,
  patch: UpdateCarrierInput,
): Promise<CarrierRow> {
  await lockCarrierWrites(tx);
  const current = await carrierDb(tx)
    .selectFrom('carriers')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw new AppError('not_found', `No carrier ${id}.`);
  const fields = validateCarrierFields(mergePatch(fieldsOf(current), patch));
  await assertNoConflicts(tx, current.environment, id, fields);
  try {
    return await carrierDb(tx)
      .updateTable('carriers')
      .set({ ...columnsOf(fields), updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asConflict(error, fields);
  }
}

/** Ported numbers of a carrier by MSISDN, ascending, `limit + 1` rows. */
export async function listPortedNumbers(
  db: Executor,
  carrierId: string,
  page: { limit: number; startingAfter?: string },
): Promise<PortedNumberRow[]> {
  let query = carrierDb(db)
    .selectFrom('number_portability')
    .selectAll()
    .where('carrier_id', '=', carrierId)
    .orderBy('msisdn')
    .limit(page.limit + 1);
  if (page.startingAfter) query = query.where('msisdn', '>', page.startingAfter);
  return query.execute();
}

/**
 * Records that `msisdn` now belongs to the carrier's network (in the carrier's environment). A number
 * already ported elsewhere moves: a number is on one network at a time.
 */
export async function addPortedNumber(
  tx: Executor,
  carrierId: string,
  msisdn: unknown,
): Promise<PortedNumberRow> {
  const carrier = await getCarrier(tx, carrierId);
  const parsed = parseMsisdn(msisdn, '/msisdn');
  return carrierDb(tx)
    .insertInto('number_portability')
    .values({ environment: carrier.environment, msisdn: parsed.msisdn, carrier_id: carrier.id })
    .onConflict((conflict) =>
      conflict
        .columns(['environment', 'msisdn'])
        .doUpdateSet({ carrier_id: carrier.id, created_at: sql<Date>`now()` }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The number is back on the network its range says (404 unless it was ported to this carrier). */
export async function removePortedNumber(
  tx: Executor,
  carrierId: string,
  msisdn: unknown,
): Promise<PortedNumberRow> {
  const carrier = await getCarrier(tx, carrierId);
  const parsed = parseMsisdn(msisdn, 'params:/msisdn');
  const row = await carrierDb(tx)
    .deleteFrom('number_portability')
    .where('environment', '=', carrier.environment)
    .where('msisdn', '=', parsed.msisdn)
    .where('carrier_id', '=', carrier.id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `${parsed.msisdn} is not ported to carrier ${carrier.id}.`);
  return row;
}

export interface DetectedCarrier {
  readonly carrier: CarrierRow;
  /** The portability table placed the number on another network than its number range's. */
  readonly ported: boolean;
}

/**
 * The network that bills `msisdn`, among the environment's enabled carriers:
 *   1. the portability table (the number's real network), whatever the client said;
 *   2. else, when both MCC and MNC are given, the carrier with that MCC/MNC (an MNC sent as a number,
 *      `2` for `02`, matches by value);
 *   3. else the carrier with the longest number range the MSISDN starts with.
 * The choice is made among all carriers, then it must be enabled: a number whose network is disabled
 * finds no carrier rather than being billed on another network. Undefined: unsupported carrier.
 * `msisdn` is international digits as `parseMsisdn` returns them.
 */
export async function detectCarrier(
  db: Executor,
  input: {
    environment: Environment;
    msisdn: string;
    mcc?: string | number | undefined;
    mnc?: string | number | undefined;
  },
): Promise<DetectedCarrier | undefined> {
  const network = networkCodes(input.mcc, input.mnc);
  const mcc = network?.mcc ?? null;
  const mnc = network?.mnc ?? null;
  const result = await sql<CarrierRow & { is_ported: boolean }>`
    WITH ported AS (
      SELECT carrier_id FROM number_portability WHERE environment = ${input.environment} AND msisdn = ${input.msisdn}
    ), home AS (
      SELECT c.id FROM carriers c CROSS JOIN LATERAL unnest(c.number_ranges) AS r(prefix)
       WHERE c.environment = ${input.environment} AND left(${input.msisdn}::text, length(r.prefix)) = r.prefix
       ORDER BY length(r.prefix) DESC, c.enabled DESC, c.id
       LIMIT 1
    ), network AS (
      SELECT c.id FROM carriers c
       WHERE ${mcc}::text IS NOT NULL AND c.environment = ${input.environment}
         AND c.mcc = ${mcc}::text AND c.mnc::integer = ${mnc}::integer
       ORDER BY (c.mnc = ${mnc}::text) DESC, c.enabled DESC, c.id
       LIMIT 1
    ), chosen AS (
      SELECT coalesce((SELECT carrier_id FROM ported),
                      CASE WHEN ${mcc}::text IS NULL THEN (SELECT id FROM home) ELSE (SELECT id FROM network) END) AS id
    )
    SELECT c.*,
           (SELECT carrier_id FROM ported) IS NOT NULL
             AND (SELECT carrier_id FROM ported) IS DISTINCT FROM (SELECT id FROM home) AS is_ported
      FROM chosen JOIN carriers c ON c.id = chosen.id
     WHERE c.environment = ${input.environment} AND c.enabled`.execute(db);
  const row = result.rows[0];
  if (!row) return undefined;
  const { is_ported: ported, ...carrier } = row;
  return { carrier, ported };
}

export type SpendLimit = 'per_transaction' | 'daily' | 'monthly';

export interface SpendLimitExceeded {
  readonly limit: SpendLimit;
  readonly limitMinor: bigint;
  /** Already spent in the limit's window, without this charge (0 for `per_transaction`). */
  readonly spentMinor: bigint;
}

/**
 * Would charging `amountMinor` to `msisdn` on `carrier` break a spend limit? The limits belong to the
 * subscriber at the carrier, so sales of every merchant count: carrier-billing `sale` payments to this
 * MSISDN on this carrier (`metadata.carrier_id`), in its currency and environment, that succeeded or may
 * still succeed (`pending`, `unknown`), created in the UTC day / calendar month of `now`. Refunds do not
 * give spending back. One statement; callers that must not race a concurrent charge of the same
 * subscriber call `lockSubscriberSpend` first in the transaction that creates the payment.
 */
export async function checkSpendLimits(
  db: Executor,
  input: {
    environment: Environment;
    carrier: Pick<
      CarrierRow,
      'id' | 'currency' | 'per_transaction_max_minor' | 'daily_max_minor' | 'monthly_max_minor'
    >;
    msisdn: string;
    amountMinor: bigint;
    /** The time whose UTC day and month count; by default the database's (payments are stamped with it). */
    now?: Date;
  },
): Promise<SpendLimitExceeded | undefined> {
  const { carrier, amountMinor } = input;
  assert(amountMinor > 0n, 'spend limits are checked for positive amounts');
  if (amountMinor > carrier.per_transaction_max_minor) {
    return { limit: 'per_transaction', limitMinor: carrier.per_transaction_max_minor, spentMinor: 0n };
  }
  const at = input.now ? sql`${input.now.toISOString()}::timestamptz` : sql`now()`;
  const utc = sql`(${at} AT TIME ZONE 'UTC')`;
  const dayStart = sql`(date_trunc('day', ${utc}) AT TIME ZONE 'UTC')`;
  const dayEnd = sql`((date_trunc('day', ${utc}) + interval '1 day') AT TIME ZONE 'UTC')`;
  const monthStart = sql`(date_trunc('month', ${utc}) AT TIME ZONE 'UTC')`;
  const monthEnd = sql`((date_trunc('month', ${utc}) + interval '1 month') AT TIME ZONE 'UTC')`;
  // Windows are [start, start + 1 day/month) of the UTC day and calendar month, computed in the query so
  // that database time costs no extra round trip.
  const result = await sql<{ day_minor: bigint; month_minor: bigint }>`
    SELECT coalesce(sum(amount_minor) FILTER (WHERE created_at >= ${dayStart}
                                                AND created_at < ${dayEnd}), 0)::bigint AS day_minor,
           coalesce(sum(amount_minor), 0)::bigint AS month_minor
      FROM payments
     WHERE payer_ref = ${input.msisdn}
       AND environment = ${input.environment}
       AND product = 'carrier-billing'
       AND kind = 'sale'
       AND created_at >= ${monthStart}
       AND created_at < ${monthEnd}
       AND status IN ('succeeded', 'pending', 'unknown')
       AND currency = ${carrier.currency}
       AND metadata ->> ${sql.lit(carrierIdMetadataKey)} = ${carrier.id}`.execute(db);
  const spent = result.rows[0];
  assert(spent, 'an aggregate returns one row');
  if (spent.day_minor + amountMinor > carrier.daily_max_minor) {
    return { limit: 'daily', limitMinor: carrier.daily_max_minor, spentMinor: spent.day_minor };
  }
  if (spent.month_minor + amountMinor > carrier.monthly_max_minor) {
    return { limit: 'monthly', limitMinor: carrier.monthly_max_minor, spentMinor: spent.month_minor };
  }
  return undefined;
}

/**
 * Serialises charges of one subscriber on one carrier until the transaction ends, so a limit check
 * and the payment it allows are not interleaved with another's. Call it before `checkSpendLimits` in
 * the transaction that creates the payment.
 */
export async function lockSubscriberSpend(
  tx: Executor,
  input: { environment: Environment; carrierId: string; msisdn: string },
): Promise<void> {
  const key = `carrier-spend:${input.environment}:${input.carrierId}:${input.msisdn}`;
  await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
}

/**
 * MCC and MNC as clients send them: strings, or numbers that lost their leading zeros (`2` for `02`).
 * Used only when both are present; an empty string counts as absent.
 */
export function networkCodes(
  mccInput: string | number | undefined,
  mncInput: string | number | undefined,
): { mcc: string; mnc: string } | undefined {
  const mccText = codeText(mccInput);
  const mncText = codeText(mncInput);
  if (mccText === '' || mncText === '') return undefined;
  if (!/^[0-9]{1,3}$/.test(mccText)) throw invalid('mcc', 'must be 3 digits');
  if (!/^[0-9]{1,3}$/.test(mncText)) throw invalid('mnc', 'must be 2 or 3 digits');
  return { mcc: mccText.padStart(3, '0'), mnc: mncText.padStart(2, '0') };
}

function codeText(input: string | number | undefined): string {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? String(input) : 'invalid';
  return input?.trim() ?? '';
}

/**
 * Carrier writes are rare (operators) and check other carriers before writing (MCC/MNC, ranges): one
 * transaction-scoped lock makes those checks exact.
 */
async function lockCarrierWrites(tx: Executor): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('carriers:write'))`.execute(tx);
}

async function assertNoConflicts(
  tx: Executor,
  environment: Environment,
  id: string,
  fields: CarrierFields,
): Promise<void> {
  const others = await carrierDb(tx)
    .selectFrom('carriers')
    .select(['id', 'mcc', 'mnc', 'number_ranges', 'enabled'])
    .where('environment', '=', environment)
    .where('id', '<>', id)
    .execute();
  const sameNetwork = others.find((other) => other.mcc === fields.mcc && other.mnc === fields.mnc);
  if (sameNetwork) {
    throw new AppError(
      'conflict',
      `Carrier ${sameNetwork.id} already has MCC ${fields.mcc} MNC ${fields.mnc} in ${environment}.`,
      { field: '/mnc' },
    );
  }
  if (!fields.enabled) return;
  // Two enabled networks claiming the same prefix would make detection arbitrary; nested prefixes are
  // fine (the longest wins).
  const ranges = new Set(fields.numberRanges);
  for (const other of others) {
    if (!other.enabled) continue;
    const shared = other.number_ranges.find((prefix) => ranges.has(prefix));
    if (shared !== undefined) {
      throw new AppError(
        'conflict',
        `Number range ${shared} already belongs to enabled carrier ${other.id}.`,
        {
          field: '/number_ranges',
        },
      );
    }
  }
}

/** A concurrent writer that slipped past the checks still meets the unique constraint: 409, not 500. */
function asConflict(error: unknown, fields: CarrierFields): unknown {
  if (isUniqueViolation(error, 'carriers_environment_mcc_mnc_key')) {
    return new AppError('conflict', `Another carrier already has MCC ${fields.mcc} MNC ${fields.mnc}.`, {
      field: '/mnc',
    });
  }
  return error;
}

function mergePatch(current: CarrierFields, patch: UpdateCarrierInput): CarrierFields {
  const merged: Record<keyof CarrierFields, unknown> = { ...current };
  for (const key of Object.keys(patch) as (keyof CarrierFields)[]) {
    if (patch[key] !== undefined) merged[key] = patch[key];
  }
  return merged as CarrierFields;
}

function fieldsOf(row: CarrierRow): CarrierFields {
  return {
    name: row.name,
    country: row.country,
    mcc: row.mcc,
    mnc: row.mnc,
    numberRanges: row.number_ranges,
    currency: row.currency,
    refundsSupported: row.refunds_supported,
    partialRefundsSupported: row.partial_refunds_supported,
    confirmationSmsRequired: row.confirmation_sms_required,
    pinLength: row.pin_length,
    perTransactionMaxMinor: row.per_transaction_max_minor,
    dailyMaxMinor: row.daily_max_minor,
    monthlyMaxMinor: row.monthly_max_minor,
    connectorId: row.connector_id,
    connectorConfig: row.connector_config,
    enabled: row.enabled,
  };
}

function columnsOf(fields: CarrierFields) {
  return {
    name: fields.name,
    country: fields.country,
    mcc: fields.mcc,
    mnc: fields.mnc,
    number_ranges: fields.numberRanges,
    currency: fields.currency,
    refunds_supported: fields.refundsSupported,
    partial_refunds_supported: fields.partialRefundsSupported,
    confirmation_sms_required: fields.confirmationSmsRequired,
    pin_length: fields.pinLength,
    per_transaction_max_minor: fields.perTransactionMaxMinor,
    daily_max_minor: fields.dailyMaxMinor,
    monthly_max_minor: fields.monthlyMaxMinor,
    connector_id: fields.connectorId,
    connector_config: JSON.stringify(fields.connectorConfig),
    enabled: fields.enabled,
  };
}

function newCarrierId(): string {
  return newId('carrier');
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}.`, { field });
}

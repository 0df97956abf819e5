import { sql } from 'kysely';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { detectCarrier } from '../carrier-billing/carriers.js';
import { callingCodeOf, isCountryCode, parseMsisdn } from '../carrier-billing/msisdn.js';
import { mnoCodes, paydCodes } from './codes.js';
import { integer, integerValue, PaydFieldError, queryValue, textValue, type Body } from './fields.js';
import {
  clientProducts,
  productTypes,
  rulesOf,
  transactionColumns,
  type ClientRow,
  type ProductRow,
  type TransactionRow,
} from './repo.js';
import {
  checkClientId,
  identifierKindNames,
  PaydRejection,
  productFor,
  type BillPaymentDeps,
  type PaydAnswer,
} from './service.js';
import { openToken } from './seal.js';
import { lookupReference, ppmToPercent, termsFor } from './terms.js';

/** The read-only Payd APIs: Product, Financial Terms, Transaction, In-Flight, Token and MNO lookups. */

type Query = Readonly<Record<string, unknown>>;

function queryInteger(query: Query, field: string, min: bigint, max: bigint): bigint | undefined {
  const value = queryValue(query, field);
  if (value === undefined || value === '') return undefined;
  return integerValue(value, field, min, max);
}

function requiredQueryInteger(query: Query, field: string, min: bigint, max: bigint): bigint {
  const value = queryInteger(query, field, min, max);
  if (value === undefined) throw new PaydFieldError(field, 'may not be null');
  return value;
}

function checkQueryClient(query: Query, client: ClientRow): void {
  const clientId = requiredQueryInteger(query, 'clientId', 1n, 999_999_999n);
  checkClientId({ clientId: clientId.toString() }, client);
}

export function pricingView(product: ProductRow) {
  const pricing = rulesOf(product).pricing;
  return pricing.type === 'single'
    ? { type: 'single', amount: Number(pricing.amount) }
    : {
        type: 'range',
        minimumAmount: Number(pricing.minimumAmount),
        maximumAmount: Number(pricing.maximumAmount),
        increment: Number(pricing.increment),
      };
}

export function publicProduct(product: ProductRow) {
  return {
    publicProduct: {
      id: product.product_id,
      productTypeId: product.product_type_id,
      productTypeName: productTypes[product.product_type_id] ?? 'Other',
      description: product.name,
      shortDescription: product.short_description,
      currencyCode: product.currency,
      pricing: pricingView(product),
      fee: { fixedAmount: Number(product.fee_fixed_minor), percentage: ppmToPercent(product.fee_rate_ppm) },
      targetIdentifier: {
        type: product.identifier_kind,
        description: identifierKindNames[product.identifier_kind],
        pattern: product.identifier_pattern,
      },
      supportToken: ['ElecBillpayment', 'Airtime', 'Data', 'Voucher', 'SubscriptionVoucher'].includes(
        productTypes[product.product_type_id] ?? '',
      ),
      active: product.active,
    },
  };
}

export async function productLookup(
  deps: BillPaymentDeps,
  client: ClientRow,
  query: Query,
): Promise<PaydAnswer> {
  checkQueryClient(query, client);
  const productId = queryInteger(query, 'productId', 1n, 2_147_483_647n);
  const productTypeId = queryInteger(query, 'productTypeId', 1n, 2_147_483_647n);
  const includeRaw = queryValue(query, 'includeInactive');
  if (includeRaw !== undefined && includeRaw !== 'true' && includeRaw !== 'false')
    throw new PaydFieldError('includeInactive', 'must be true or false');
  queryInteger(query, 'channelId', 0n, 99n);
  queryInteger(query, 'vendorId', 1n, 2_147_483_647n);
  if (productTypeId !== undefined && productTypes[Number(productTypeId)] === undefined) {
    return {
      status: 400,
      body: {
        responseCode: paydCodes.badRequest,
        responseMessage: `Product type ID ${productTypeId} does not exist`,
      },
    };
  }
  const rows = await clientProducts(deps.db, client.client_id, {
    ...(productId !== undefined && productId <= 9999n ? { productId: Number(productId) } : {}),
    ...(productTypeId !== undefined ? { productTypeId: Number(productTypeId) } : {}),
    includeInactive: includeRaw === 'true',
  });
  if (productId !== undefined && (productId > 9999n || rows.length === 0)) {
    return {
      status: 400,
      body: { responseCode: paydCodes.badRequest, responseMessage: `Product ID ${productId} does not exist` },
    };
  }
  if (rows.length === 0) return { status: 204, body: {} };
  return { status: 200, body: { products: rows.map(publicProduct) } };
}

export async function financialTerms(
  deps: BillPaymentDeps,
  client: ClientRow,
  query: Query,
): Promise<PaydAnswer> {
  checkQueryClient(query, client);
  const productId = requiredQueryInteger(query, 'productId', 1n, 9999n);
  const purchaseAmount = requiredQueryInteger(query, 'purchaseAmount', 1n, 999_999_999_999n);
  let product: ProductRow;
  try {
    product = await productFor(deps, client, productId);
  } catch (error) {
    if (!(error instanceof PaydRejection)) throw error;
    return {
      status: 400,
      body: { responseCode: paydCodes.badRequest, responseMessage: `Product ID ${productId} does not exist` },
    };
  }
  const terms = termsFor(rulesOf(product), purchaseAmount);
  return {
    status: 200,
    body: {
      clientId: client.client_id,
      productId: product.product_id,
      currencyCode: product.currency,
      purchaseAmount: Number(purchaseAmount),
      lookupReference: lookupReference(deps.keys.lookup, {
        clientId: client.client_id,
        productId: product.product_id,
        purchaseAmount,
        feeAmount: terms.feeAmount,
        nowSeconds: Math.floor(deps.clock.now().getTime() / 1000),
      }),
      breakdown: {
        reserveAmount: Number(terms.reserveAmount),
        vendAmount: Number(terms.vendAmount),
        feeAmount: Number(terms.feeAmount),
        settlementAmount: Number(terms.settlementAmount),
        clientShareAmount: Number(terms.clientShareAmount),
      },
    },
  };
}

/** Transaction Lookup keeps the last 30 days. */
export const lookupWindowDays = 30;

export function transactionStatus(txn: TransactionRow): 'SUCCESS' | 'FAILED' | 'PENDING' {
  return txn.state === 'succeeded' ? 'SUCCESS' : txn.state === 'failed' ? 'FAILED' : 'PENDING';
}

export function transactionView(txn: TransactionRow, sealKey: Buffer) {
  return {
    id: txn.raas_txn_ref,
    raasTxnRef: txn.raas_txn_ref,
    clientTxnRef: txn.client_txn_ref,
    reserveFundsTxnRef: txn.reserve_funds_txn_ref,
    timestamp: txn.created_at.toISOString(),
    amount: Number(txn.purchase_minor),
    purchaseAmount: Number(txn.purchase_minor),
    productId: txn.product_id,
    clientId: txn.client_id,
    currencyCode: txn.currency,
    sourceIdentifier: txn.source_identifier,
    targetIdentifier: txn.target_identifier,
    channelId: txn.channel_id,
    channelSessionId: txn.channel_session_id,
    channelName: txn.channel_name,
    reserveFundsResponseCode: txn.reserve_funds_code,
    transactResultResponseCode: txn.result_code,
    transactionStatus: transactionStatus(txn),
    token: openToken(sealKey, txn.raas_txn_ref, txn.token),
    reserveAmount: Number(txn.reserve_minor),
    feeAmount: Number(txn.fee_minor),
    clientShareAmount: Number(txn.client_share_minor),
    settlementAmount: Number(txn.settlement_minor),
    vendAmount: Number(txn.vend_minor),
  };
}

export async function transactionLookup(
  deps: BillPaymentDeps,
  client: ClientRow,
  query: Query,
): Promise<PaydAnswer> {
  checkQueryClient(query, client);
  const keys = [
    ['raasTxnRef', 'raas_txn_ref'],
    ['clientTransactionReference', 'client_txn_ref'],
    ['clientTxnRef', 'client_txn_ref'],
    ['reserveFundsTxnRef', 'reserve_funds_txn_ref'],
  ] as const;
  let chosen: { field: string; column: string; value: string } | undefined;
  for (const [field, column] of keys) {
    const value = queryValue(query, field);
    if (value === undefined) continue;
    textValue(value, field, 64);
    chosen ??= { field, column, value };
  }
  if (!chosen) {
    return {
      status: 400,
      body: {
        responseCode: paydCodes.badRequest,
        responseMessage:
          'Missing parameter; at least one of raasTxnRef, clientTransactionReference, reserveFundsTxnRef',
      },
    };
  }
  const { rows } = await sql<TransactionRow>`
    SELECT ${transactionColumns} FROM bp_transactions
     WHERE client_id = ${client.client_id} AND ${sql.ref(chosen.column)} = ${chosen.value}
       AND created_at > now() - make_interval(days => ${lookupWindowDays})
     ORDER BY created_at DESC LIMIT 1`.execute(deps.db);
  const txn = rows[0];
  if (!txn) {
    return {
      status: 404,
      body: { responseCode: paydCodes.notFound, responseMessage: `Transaction ${chosen.value} not found` },
    };
  }
  return {
    status: 200,
    body: {
      responseCode: paydCodes.success,
      responseMessage: 'SUCCESS',
      ...transactionView(txn, deps.keys.seal),
    },
  };
}

export async function inFlightCheck(
  deps: BillPaymentDeps,
  client: ClientRow,
  body: Body,
): Promise<PaydAnswer> {
  const source = textValue(body.sourceIdentifier ?? missing('sourceIdentifier'), 'sourceIdentifier', 32, {
    alphanumeric: true,
  });
  const target = textValue(body.targetIdentifier ?? missing('targetIdentifier'), 'targetIdentifier', 32, {
    alphanumeric: true,
  });
  checkClientId(body, client);
  const productId = integer(body, 'productId', 1n, 999_999_999_999n);
  const purchaseAmount = integer(body, 'purchaseAmount', 1n, 999_999_999_999n);
  const { rows } = await sql<{ raas_txn_ref: string; created_at: Date }>`
    SELECT raas_txn_ref, created_at FROM bp_transactions
     WHERE client_id = ${client.client_id} AND source_identifier = ${source} AND target_identifier = ${target}
       AND product_id = ${productId > 9999n ? -1 : Number(productId)} AND purchase_minor = ${purchaseAmount.toString()}
       AND state IN ('pending', 'vending')
     ORDER BY created_at LIMIT 100`.execute(deps.db);
  return {
    status: 200,
    body: {
      hasPendingTransactions: rows.length > 0,
      transactions: rows.map((r) => ({ raasTxnRef: r.raas_txn_ref, created: r.created_at.toISOString() })),
    },
  };
}

function missing(field: string): never {
  throw new PaydFieldError(field, 'may not be null');
}

export const tokenLookupLimitMax = 100;

export async function tokenLookup(
  deps: BillPaymentDeps,
  client: ClientRow,
  query: Query,
): Promise<PaydAnswer> {
  const source = queryValue(query, 'sourceIdentifier');
  if (source === undefined) throw new PaydFieldError('sourceIdentifier', 'may not be null');
  textValue(source, 'sourceIdentifier', 32, { alphanumeric: true });
  checkQueryClient(query, client);
  const channelId = queryInteger(query, 'channelId', 0n, 99n);
  const productTypeId = queryInteger(query, 'productTypeId', 1n, 99n);
  const limit = queryInteger(query, 'limit', 1n, BigInt(tokenLookupLimitMax)) ?? 10n;
  const { rows } = await sql<TransactionRow & { description: string }>`
    SELECT ${sql.raw(transactionColumnsWithPrefix)}, p.name AS description FROM bp_transactions t
      JOIN bp_products p ON p.environment = t.environment AND p.product_id = t.product_id
     WHERE t.client_id = ${client.client_id} AND t.source_identifier = ${source} AND t.token IS NOT NULL
       AND t.state = 'succeeded'
       AND (${channelId === undefined ? null : Number(channelId)}::int IS NULL OR t.channel_id = ${channelId === undefined ? null : Number(channelId)})
       AND (${productTypeId === undefined ? null : Number(productTypeId)}::int IS NULL OR t.product_type_id = ${productTypeId === undefined ? null : Number(productTypeId)})
     ORDER BY t.created_at DESC LIMIT ${Number(limit)}`.execute(deps.db);
  return {
    status: 200,
    body: {
      userTokens: rows.map((t) => ({
        targetIdentifier: t.target_identifier,
        clientId: t.client_id,
        channelId: t.channel_id,
        productId: t.product_id,
        productTypeId: t.product_type_id,
        description: t.description,
        attributes: t.serial_number ? [{ name: 'serialNumber', value: t.serial_number }] : [],
        raasTxnRef: t.raas_txn_ref,
        transactionDate: t.created_at.toISOString(),
        purchaseAmount: Number(t.purchase_minor),
        token: openToken(deps.keys.seal, t.raas_txn_ref, t.token),
      })),
    },
  };
}

const transactionColumnsWithPrefix = `t.raas_txn_ref, t.merchant_id, t.environment, t.client_id, t.client_txn_ref,
  t.product_id, t.product_type_id, t.purchase_minor::text AS purchase_minor, t.target_identifier, t.channel_id,
  t.token, t.serial_number, t.created_at`;

/**
 * Operators known by prefix where carrier billing has no carrier record (Nigeria and South Africa, the
 * vendor's markets); the carrier records of carrier billing win when they cover the number.
 */
const knownOperators: readonly { prefix: string; code: string; name: string }[] = [
  { prefix: '234703', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234706', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234803', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234806', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234810', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234813', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234816', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234903', code: 'MTN-NG', name: 'MTN Nigeria' },
  { prefix: '234705', code: 'GLO', name: 'Globacom' },
  { prefix: '234805', code: 'GLO', name: 'Globacom' },
  { prefix: '234807', code: 'GLO', name: 'Globacom' },
  { prefix: '234815', code: 'GLO', name: 'Globacom' },
  { prefix: '234701', code: 'AIRTEL', name: 'Airtel Nigeria' },
  { prefix: '234802', code: 'AIRTEL', name: 'Airtel Nigeria' },
  { prefix: '234808', code: 'AIRTEL', name: 'Airtel Nigeria' },
  { prefix: '234812', code: 'AIRTEL', name: 'Airtel Nigeria' },
  { prefix: '234902', code: 'AIRTEL', name: 'Airtel Nigeria' },
  { prefix: '234809', code: '9MOBILE', name: '9mobile' },
  { prefix: '234817', code: '9MOBILE', name: '9mobile' },
  { prefix: '234818', code: '9MOBILE', name: '9mobile' },
  { prefix: '234909', code: '9MOBILE', name: '9mobile' },
  { prefix: '2782', code: 'SOUVXP', name: 'Vodacom' },
  { prefix: '2772', code: 'SOUVXP', name: 'Vodacom' },
  { prefix: '2776', code: 'SOUVXP', name: 'Vodacom' },
  { prefix: '2783', code: 'SOUMFB', name: 'MTN South Africa' },
  { prefix: '2773', code: 'SOUMFB', name: 'MTN South Africa' },
  { prefix: '2778', code: 'SOUMFB', name: 'MTN South Africa' },
  { prefix: '2784', code: 'SOUCELLC', name: 'Cell C' },
  { prefix: '2774', code: 'SOUCELLC', name: 'Cell C' },
  { prefix: '2781', code: 'SOUTELKOM', name: 'Telkom Mobile' },
];

export async function mnoLookup(deps: BillPaymentDeps, client: ClientRow, query: Query): Promise<PaydAnswer> {
  checkQueryClient(query, client);
  const msisdn = queryValue(query, 'msisdn');
  if (msisdn === undefined) throw new PaydFieldError('msisdn', 'may not be null');
  textValue(msisdn, 'msisdn', 32);
  const callingCode = requiredQueryInteger(query, 'countryCallingCode', 1n, 999n);
  const clientTxnRef = queryValue(query, 'clientTxnRef');
  if (clientTxnRef !== undefined) textValue(clientTxnRef, 'clientTxnRef', 64);
  queryInteger(query, 'channelId', 0n, 99n);
  const fail = (status: number, code: string, message: string): PaydAnswer => ({
    status,
    body: { msisdn, countryCallingCode: Number(callingCode), responseCode: code, responseMessage: message },
  });
  const digits = msisdn.replace(/^\+/, '');
  if (!/^\d{7,15}$/.test(digits)) {
    return fail(
      400,
      mnoCodes.badMsisdn,
      'Msisdn format incorrect or countryCallingCode does not match msisdn',
    );
  }
  let country: string;
  try {
    country = parseMsisdn(digits, 'msisdn').country;
  } catch {
    const parsed = parsePhoneNumberFromString(`+${digits}`);
    if (!parsed?.countryCallingCode) return fail(400, mnoCodes.unknownCountry, 'Unknown country code/prefix');
    return fail(
      400,
      mnoCodes.badMsisdn,
      'Msisdn format incorrect or countryCallingCode does not match msisdn',
    );
  }
  if (
    !digits.startsWith(callingCode.toString()) ||
    !isCountryCode(country) ||
    callingCodeOf(country) !== callingCode.toString()
  ) {
    return fail(
      400,
      mnoCodes.badMsisdn,
      'Msisdn format incorrect or countryCallingCode does not match msisdn',
    );
  }
  const carrier = await detectCarrier(deps.db, { environment: client.environment, msisdn: digits });
  const known = knownOperators.find((o) => digits.startsWith(o.prefix));
  const operator = carrier
    ? { code: `${carrier.carrier.mcc}${carrier.carrier.mnc}`, name: carrier.carrier.name }
    : known
      ? { code: known.code, name: known.name }
      : undefined;
  if (!operator) return fail(404, mnoCodes.noOperator, 'Unable to identify operator');
  return {
    status: 200,
    body: {
      msisdn: digits,
      countryCallingCode: Number(callingCode),
      countryCode: country,
      operatorCode: operator.code,
      operatorName: operator.name,
      lookupRef: `mno${Date.now().toString(36)}`,
      responseCode: paydCodes.success,
      responseMessage: 'SUCCESS',
    },
  };
}

export type { ProductRow };

import { Type } from 'typebox';
import { issueCredential } from '../../core/credentials/credentials.js';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { AppError } from '../../core/errors/errors.js';
import { parseCurrency } from '../../core/money/money.js';
import { hashSecret, randomBase62 } from '../../core/secrets/secrets.js';
import { createEndpoint, validateEndpointUrl } from '../../core/webhooks/endpoints.js';
import type { App, RouteContext } from '../../http/app.js';
import { runMutation } from '../../http/mutation.js';
import { merchantOf } from '../../http/principal.js';
import { commonErrors, IdempotencyHeaders } from '../../http/schemas.js';
import { realmOf, signingSecretOf } from './auth.js';
import { transactResultFormatName } from './callback.js';
import type { BillPaymentConnectors } from './connectors.js';
import { pricingView } from './lookups.js';
import { transactResultEventType } from './processing.js';
import {
  enableProduct,
  fundingSourcesOf,
  getClient,
  insertClient,
  insertFundingSource,
  listClients,
  listProducts,
  productTypes,
  setFundingSourceEndpoint,
  upsertProduct,
  type ClientRow,
  type FundingSourceRow,
  type IdentifierKind,
  type ProductRow,
} from './repo.js';
import { gatewayPrefix } from './routes.js';
import { percentToPpm, ppmToPercent, type ProductPricing } from './terms.js';

/**
 * The native API of bill payment: operators manage the product catalogue and which client may sell
 * which product; merchants create their Payd clients (credentials shown once) and funding sources
 * (bank connector and Transact Result URL). Purchases are core payments, visible through `/v1/payments`.
 */
export const defaultIdentifierPatterns: Readonly<Record<IdentifierKind, string>> = {
  msisdn: '^[0-9]{7,15}$',
  meter: '^[0-9]{6,20}$',
  account: '^[a-zA-Z0-9]{4,32}$',
  smart_card: '^[0-9]{8,14}$',
};

const Money = Type.Integer({ minimum: 0, maximum: 999_999_999_999 });
const Percentage = Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,4})?$', description: 'e.g. "1.5" for 1.5 %' });
const Rule = Type.Object(
  { fixed_amount: Type.Optional(Money), percentage: Type.Optional(Percentage) },
  { additionalProperties: false },
);

const ProductBody = Type.Object(
  {
    environment: Type.Enum(['sandbox', 'production']),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    short_description: Type.Optional(Type.String({ maxLength: 64 })),
    product_type_id: Type.Integer({ minimum: 1, maximum: 99 }),
    biller_connector_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    biller_product_code: Type.String({ minLength: 1, maxLength: 64 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    pricing: Type.Union([
      Type.Object(
        { type: Type.Literal('single'), amount: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }) },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          type: Type.Literal('range'),
          minimum_amount: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
          maximum_amount: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
          increment: Type.Integer({ minimum: 1, maximum: 999_999_999_999 }),
        },
        { additionalProperties: false },
      ),
    ]),
    fee: Type.Optional(Rule),
    client_share: Type.Optional(Rule),
    identifier: Type.Object(
      {
        kind: Type.Enum(['msisdn', 'meter', 'account', 'smart_card']),
        pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      },
      { additionalProperties: false },
    ),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export function productView(row: ProductRow) {
  return {
    product_id: row.product_id,
    environment: row.environment,
    name: row.name,
    short_description: row.short_description,
    product_type_id: row.product_type_id,
    product_type_name: productTypes[row.product_type_id] ?? 'Other',
    biller_connector_id: row.biller_connector_id,
    biller_product_code: row.biller_product_code,
    currency: row.currency,
    pricing: pricingView(row),
    fee: { fixed_amount: Number(row.fee_fixed_minor), percentage: ppmToPercent(row.fee_rate_ppm) },
    client_share: {
      fixed_amount: Number(row.share_fixed_minor),
      percentage: ppmToPercent(row.share_rate_ppm),
    },
    identifier: { kind: row.identifier_kind, pattern: row.identifier_pattern },
    active: row.active,
  };
}

function ppm(field: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const value = percentToPpm(text);
  if (value === undefined)
    throw new AppError('validation_failed', `${field} must be 0-100 with at most 4 decimals.`, { field });
  return value;
}

export interface ProductInput {
  environment: Environment;
  productId: number;
  body: {
    name: string;
    short_description?: string;
    product_type_id: number;
    biller_connector_id?: string;
    biller_product_code: string;
    currency: string;
    pricing:
      | { type: 'single'; amount: number }
      | { type: 'range'; minimum_amount: number; maximum_amount: number; increment: number };
    fee?: { fixed_amount?: number; percentage?: string };
    client_share?: { fixed_amount?: number; percentage?: string };
    identifier: { kind: IdentifierKind; pattern?: string };
    active?: boolean;
  };
}

export async function saveProduct(
  db: Executor,
  connectors: BillPaymentConnectors,
  input: ProductInput,
): Promise<ProductRow> {
  const b = input.body;
  const currency = parseCurrency(b.currency, '/currency');
  const billerId = b.biller_connector_id ?? 'biller-simulator';
  const biller = connectors.billers.get(billerId);
  if (!biller)
    throw new AppError('validation_failed', `No biller connector ${billerId}.`, {
      field: '/biller_connector_id',
    });
  const capabilities = biller.capabilities();
  if (!capabilities.products.some((p) => p.productCode === b.biller_product_code)) {
    throw new AppError('validation_failed', `${billerId} has no product ${b.biller_product_code}.`, {
      field: '/biller_product_code',
    });
  }
  if (!capabilities.currencies.includes(currency)) {
    throw new AppError('validation_failed', `${billerId} does not sell in ${currency}.`, {
      field: '/currency',
    });
  }
  const pattern = b.identifier.pattern ?? defaultIdentifierPatterns[b.identifier.kind];
  try {
    new RegExp(pattern);
  } catch {
    throw new AppError('validation_failed', 'identifier.pattern is not a valid regular expression.', {
      field: '/identifier/pattern',
    });
  }
  let pricing: ProductPricing;
  if (b.pricing.type === 'single') pricing = { type: 'single', amount: BigInt(b.pricing.amount) };
  else {
    if (b.pricing.minimum_amount > b.pricing.maximum_amount) {
      throw new AppError('validation_failed', 'pricing.minimum_amount is above maximum_amount.', {
        field: '/pricing/minimum_amount',
      });
    }
    pricing = {
      type: 'range',
      minimumAmount: BigInt(b.pricing.minimum_amount),
      maximumAmount: BigInt(b.pricing.maximum_amount),
      increment: BigInt(b.pricing.increment),
    };
  }
  return upsertProduct(db, {
    environment: input.environment,
    productId: input.productId,
    name: b.name,
    shortDescription: b.short_description ?? '',
    productTypeId: b.product_type_id,
    billerConnectorId: billerId,
    billerProductCode: b.biller_product_code,
    currency,
    rules: {
      pricing,
      feeFixed: BigInt(b.fee?.fixed_amount ?? 0),
      feeRatePpm: ppm('/fee/percentage', b.fee?.percentage),
      shareFixed: BigInt(b.client_share?.fixed_amount ?? 0),
      shareRatePpm: ppm('/client_share/percentage', b.client_share?.percentage),
    },
    identifierKind: b.identifier.kind,
    identifierPattern: pattern,
    active: b.active ?? true,
  });
}

function clientView(row: ClientRow, fundingSources: FundingSourceRow[] = []) {
  return {
    client_id: row.client_id,
    name: row.name,
    environment: row.environment,
    realm: realmOf[row.environment],
    signature_required: row.signature_required,
    active: row.active,
    funding_sources: fundingSources.map(fundingSourceView),
    created_at: row.created_at.toISOString(),
  };
}

function fundingSourceView(row: FundingSourceRow) {
  return {
    funding_source_id: row.funding_source_id,
    name: row.name,
    connector_id: row.connector_id,
    webhook_endpoint_id: row.webhook_endpoint_id,
    active: row.active,
  };
}

export interface CreatedClient {
  client: ClientRow;
  clientSecret: string;
  apiKey: string;
}

export async function createClient(
  tx: Executor,
  input: {
    merchantId: string;
    environment: Environment;
    name: string;
    signatureRequired: boolean;
    clientId?: number;
  },
): Promise<CreatedClient> {
  const credential = await issueCredential(tx, {
    merchantId: input.merchantId,
    environment: input.environment,
    dialect: 'bill_payment',
    name: `Payd client ${input.name}`.slice(0, 100),
  });
  const clientSecret = randomBase62(40);
  const client = await insertClient(tx, {
    ...(input.clientId !== undefined ? { clientId: input.clientId } : {}),
    merchantId: input.merchantId,
    environment: input.environment,
    name: input.name,
    secretHash: hashSecret(clientSecret),
    credentialId: credential.row.id,
    signatureRequired: input.signatureRequired,
  });
  return {
    client,
    clientSecret,
    apiKey: credential.secret.reveal(),
  };
}

export async function addFundingSource(
  tx: Executor,
  ctx: { allowPrivate: boolean; connectors: BillPaymentConnectors },
  client: ClientRow,
  input: { name: string; connectorId?: string; resultUrl?: string },
): Promise<FundingSourceRow> {
  const connectorId = input.connectorId ?? 'funding-source-simulator';
  if (!ctx.connectors.fundingSources.has(connectorId)) {
    throw new AppError('validation_failed', `No funding-source connector ${connectorId}.`, {
      field: '/connector_id',
    });
  }
  const row = await insertFundingSource(tx, {
    clientId: client.client_id,
    merchantId: client.merchant_id,
    environment: client.environment,
    name: input.name,
    connectorId,
  });
  if (input.resultUrl === undefined) return row;
  validateEndpointUrl(input.resultUrl, client.environment, ctx.allowPrivate);
  const endpoint = await createEndpoint(tx, {
    merchantId: client.merchant_id,
    environment: client.environment,
    url: input.resultUrl,
    description: `Payd Transact Result, funding source ${row.funding_source_id}`,
    eventTypes: [transactResultEventType(row.funding_source_id)],
    format: transactResultFormatName,
    product: 'bill-payment',
  });
  await setFundingSourceEndpoint(tx, row.funding_source_id, endpoint.row.id);
  return { ...row, webhook_endpoint_id: endpoint.row.id };
}

export function nativeRoutes(
  app: App,
  ctx: RouteContext,
  deps: { connectors: BillPaymentConnectors; signingKey: Buffer },
): void {
  const db = ctx.database.db;
  const operator = { auth: 'operator' as const };
  const merchant = { auth: 'merchant' as const };
  const tags = ['bill-payment'];

  app.put(
    '/v1/bill-payment/products/:productId',
    {
      config: { ...operator, auditTarget: 'productId' },
      schema: {
        tags: ['operator'],
        summary: 'Create or replace a bill-payment product (Payd productId 1-9999) in an environment.',
        security: [{ operatorKey: [] }],
        headers: IdempotencyHeaders,
        params: Type.Object({ productId: Type.String({ pattern: '^[1-9][0-9]{0,3}$' }) }),
        body: ProductBody,
        response: { 200: Type.Unknown(), ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const row = await saveProduct(tx, deps.connectors, {
          environment: request.body.environment,
          productId: Number(request.params.productId),
          body: request.body,
        });
        return { status: 200, body: productView(row), targetId: String(row.product_id) };
      }),
  );

  app.get(
    '/v1/bill-payment/products',
    {
      config: operator,
      schema: {
        tags: ['operator'],
        summary: 'The bill-payment catalogue of an environment.',
        security: [{ operatorKey: [] }],
        querystring: Type.Object({ environment: Type.Enum(['sandbox', 'production']) }),
        response: { 200: Type.Unknown(), ...commonErrors },
      },
    },
    async (request) => ({ data: (await listProducts(db, request.query.environment)).map(productView) }),
  );

  app.put(
    '/v1/bill-payment/clients/:clientId/products/:productId',
    {
      config: { ...operator, auditTarget: 'clientId' },
      schema: {
        tags: ['operator'],
        summary: 'Enable or disable a product for a Payd client.',
        security: [{ operatorKey: [] }],
        headers: IdempotencyHeaders,
        params: Type.Object({
          clientId: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }),
          productId: Type.String({ pattern: '^[1-9][0-9]{0,3}$' }),
        }),
        body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: Type.Unknown(), ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const client = await getClient(tx, Number(request.params.clientId));
        if (!client) throw new AppError('not_found', `No client ${request.params.clientId}.`);
        const products = await listProducts(tx, client.environment);
        if (!products.some((p) => p.product_id === Number(request.params.productId))) {
          throw new AppError('not_found', `No product ${request.params.productId} in ${client.environment}.`);
        }
        await enableProduct(tx, client, Number(request.params.productId), request.body.enabled);
        return {
          status: 200,
          body: {
            client_id: client.client_id,
            product_id: Number(request.params.productId),
            enabled: request.body.enabled,
          },
        };
      }),
  );

  app.post(
    '/v1/bill-payment/clients',
    {
      config: merchant,
      schema: {
        tags,
        summary:
          'Create a Payd client: clientId, client_secret (token endpoint), API key and Signature secret, shown once.',
        security: [{ merchantKey: [] }],
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            signature_required: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Unknown(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const scope = merchantOf(request.principal);
      return runMutation(request, reply, db, async (tx) => {
        const created = await createClient(tx, {
          merchantId: scope.merchantId,
          environment: scope.environment,
          name: request.body.name,
          signatureRequired: request.body.signature_required ?? false,
        });
        return {
          status: 201,
          body: {
            ...clientView(created.client),
            client_secret: created.clientSecret,
            api_key: created.apiKey,
            signing_secret: signingSecretOf(deps.signingKey, created.client.client_id),
            token_url: `${ctx.config.baseUrl}/auth/realms/${realmOf[scope.environment]}/protocol/openid-connect/token`,
            api_base_url: `${ctx.config.baseUrl}${gatewayPrefix}`,
          },
          targetId: String(created.client.client_id),
        };
      });
    },
  );

  app.get(
    '/v1/bill-payment/clients',
    {
      config: merchant,
      schema: {
        tags,
        summary: 'Your Payd clients with their funding sources.',
        security: [{ merchantKey: [] }],
        response: { 200: Type.Unknown(), ...commonErrors },
      },
    },
    async (request) => {
      const scope = merchantOf(request.principal);
      const rows = await listClients(db, scope.merchantId, scope.environment);
      return {
        data: await Promise.all(
          rows.map(async (c) => clientView(c, await fundingSourcesOf(db, c.client_id))),
        ),
      };
    },
  );

  app.post(
    '/v1/bill-payment/clients/:clientId/funding-sources',
    {
      config: { ...merchant, auditTarget: 'clientId' },
      schema: {
        tags,
        summary: 'Add a funding source: the bank connector and the URL that receives Transact Result.',
        security: [{ merchantKey: [] }],
        headers: IdempotencyHeaders,
        params: Type.Object({ clientId: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }) }),
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            connector_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            result_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Unknown(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const scope = merchantOf(request.principal);
      return runMutation(request, reply, db, async (tx) => {
        const client = await getClient(tx, Number(request.params.clientId));
        if (!client || client.merchant_id !== scope.merchantId || client.environment !== scope.environment) {
          throw new AppError('not_found', `No client ${request.params.clientId}.`);
        }
        const row = await addFundingSource(
          tx,
          { allowPrivate: ctx.config.allowPrivateCallbacks, connectors: deps.connectors },
          client,
          {
            name: request.body.name,
            ...(request.body.connector_id !== undefined ? { connectorId: request.body.connector_id } : {}),
            ...(request.body.result_url !== undefined ? { resultUrl: request.body.result_url } : {}),
          },
        );
        return { status: 201, body: fundingSourceView(row), targetId: String(row.funding_source_id) };
      });
    },
  );
}

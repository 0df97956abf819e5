import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  authenticateSecret,
  passwordMatches,
  type AuthenticatedCredential,
} from '../../core/credentials/credentials.js';
import type { Environment } from '../../core/db/schema.js';
import { AppError, isAppError } from '../../core/errors/errors.js';
import { completeIdempotencyKey, releaseIdempotencyKey } from '../../core/idempotency/idempotency.js';
import { createEndpoint, updateEndpoint, validateEndpointUrl } from '../../core/webhooks/endpoints.js';
import type { App, RouteContext } from '../../http/app.js';
import { runMutation } from '../../http/mutation.js';
import { merchantOf } from '../../http/principal.js';
import { commonErrors, IdempotencyHeaders } from '../../http/schemas.js';
import { callbackEventTypes, callbackFormatName } from './callback.js';
import { dcbCodes } from './codes.js';
import { parseEnvelope, parseMethod, type DcbEnvelope } from './dialect.js';
import {
  getSettings,
  insertProduct,
  listProducts,
  settingsView,
  updateProduct,
  upsertSettings,
  type CbProductRow,
} from './repo.js';
import { fail, runMethod, type CarrierBillingDeps, type DcbResponse } from './service.js';

const DcbAnswer = Type.Object(
  {
    status: Type.Enum(['Success', 'Error']),
    description: Type.String({ description: '"NN - text"; the codes are listed in the product README.' }),
  },
  { additionalProperties: true },
);

const Envelope = Type.Object(
  {
    mx: Type.Optional(Type.Unknown({ description: 'MSISDN in international digits, e.g. 447700900123' })),
    mcc: Type.Optional(Type.Unknown()),
    mnc: Type.Optional(Type.Unknown()),
    productId: Type.Optional(Type.Unknown({ description: 'Your carrier-billing product id (a number)' })),
    u: Type.Optional(Type.String()),
    p: Type.Optional(Type.String()),
    pt: Type.Optional(Type.String({ description: 'Passthrough, echoed in callbacks' })),
    pinId: Type.Optional(Type.String()),
    txid: Type.Optional(Type.String()),
    params: Type.Optional(Type.Array(Type.Object({ key: Type.String(), value: Type.Unknown() }))),
  },
  { additionalProperties: true },
);

const credentials = new WeakMap<FastifyRequest, AuthenticatedCredential>();

/**
 * The Infomedia DCB dialect: `POST /dcb/{Method}` (production credentials) and `POST /dcbsb/{Method}`
 * (sandbox), `X-Infomedia-Api-Key` plus `u`/`p` in the body. Business outcomes are HTTP 200 with
 * `status: "Error"`; authentication failures are 401 in the same shape.
 */
export function dialectRoutes(app: App, ctx: RouteContext, deps: CarrierBillingDeps): void {
  for (const [prefix, environment] of [
    ['/dcb', 'production'],
    ['/dcbsb', 'sandbox'],
  ] as const) {
    app.post(
      `${prefix}/:method`,
      {
        config: { auth: 'public' },
        schema: {
          tags: ['carrier-billing (Infomedia DCB)'],
          summary: `Infomedia DCB method (${environment}): PinGenerateWithParams, SendBillWithPin, PinValidateWithParams, SendBill, Refund, GetTransaction, DecryptMX, SendMessageWithCampaign.`,
          params: Type.Object({ method: Type.String({ maxLength: 64 }) }),
          headers: Type.Object({ 'x-infomedia-api-key': Type.Optional(Type.String()) }),
          body: Envelope,
          response: {
            200: DcbAnswer,
            400: DcbAnswer,
            401: DcbAnswer,
            404: DcbAnswer,
            413: DcbAnswer,
            415: DcbAnswer,
            500: DcbAnswer,
          },
        },
        onRequest: async (request, reply) => authenticateDcb(request, reply, ctx, environment),
        // Fastify awaits an async error handler (the promise is not lost).
        // eslint-disable-next-line @typescript-eslint/no-misused-promises
        errorHandler: async (error, request, reply) => {
          if (request.idempotency) await releaseIdempotencyKey(ctx.database.db, request.idempotency);
          const status = (error as { statusCode?: number }).statusCode;
          if (status !== undefined && status >= 400 && status < 500) {
            const detail =
              status === 413
                ? 'body too large'
                : status === 415
                  ? 'Content-Type must be application/json'
                  : error.message;
            return reply
              .code(status === 413 || status === 415 ? status : 400)
              .send(fail(dcbCodes.validation, detail));
          }
          request.log.error({ err: error }, 'carrier-billing request failed');
          return reply.code(500).send(fail(dcbCodes.internal, `request id ${request.id}`));
        },
      },
      async (request, reply) => {
        const method = parseMethod(request.params.method);
        if (!method) return answer(request, reply, ctx, fail(dcbCodes.methodNotFound), 404);
        let envelope: DcbEnvelope;
        try {
          envelope = parseEnvelope(request.body);
        } catch (error) {
          if (!isAppError(error)) throw error;
          return answer(
            request,
            reply,
            ctx,
            fail(dcbCodes.validation, error.message, error.field ? { field: error.field } : {}),
            200,
          );
        }
        const credential = credentials.get(request);
        if (!credential) throw new Error('invariant violated: DCB request without credential');
        const u = envelope.fields.get('u');
        const p = envelope.fields.get('p');
        if (u === undefined || p === undefined || !passwordMatches(credential, u, p)) {
          return answer(
            request,
            reply,
            ctx,
            fail(dcbCodes.authentication, 'u and p do not match the API key'),
            401,
          );
        }
        const response = await runMethod(
          deps,
          { merchantId: credential.merchantId, environment },
          method,
          envelope,
        );
        return answer(request, reply, ctx, response, 200);
      },
    );
  }
}

async function authenticateDcb(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
  environment: Environment,
) {
  const header = request.headers['x-infomedia-api-key'];
  const key = typeof header === 'string' ? header.trim() : '';
  const credential = key ? await authenticateSecret(ctx.database.db, 'carrier_billing', key) : undefined;
  let refusal: string | undefined;
  if (!credential) refusal = 'X-Infomedia-Api-Key is missing or not valid';
  else if (credential.environment !== environment) {
    refusal = `this key is for ${credential.environment === 'sandbox' ? '/dcbsb' : '/dcb'}`;
  } else if (!credential.merchantActive) refusal = 'the account is disabled';
  else if (!credential.accessApproved)
    refusal = `carrier billing is not approved for this account in ${environment}`;
  if (refusal || !credential) {
    return reply.code(401).send(fail(dcbCodes.authentication, refusal));
  }
  credentials.set(request, credential);
  request.principal = {
    kind: 'merchant',
    merchantId: credential.merchantId,
    environment: credential.environment,
    credentialId: credential.credentialId,
  };
}

/** Sends a DCB answer; with an Idempotency-Key, stores it for replays first. */
async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
  body: DcbResponse,
  status: number,
) {
  if (request.idempotency) {
    await completeIdempotencyKey(ctx.database.db, {
      ...request.idempotency,
      status,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(body),
    });
  }
  return reply.code(status).send(body);
}

const Product = Type.Object({
  productId: Type.Integer({ description: 'The `productId` of Infomedia requests.' }),
  name: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});

function productView(row: CbProductRow) {
  return {
    productId: Number(row.product_id),
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    created_at: row.created_at.toISOString(),
  };
}

const Settings = Type.Object({
  webhook_url: Type.Union([Type.String(), Type.Null()]),
  support_contact: Type.String(),
  send_bill_allowed: Type.Boolean({ description: 'SendBill (no PIN) is allowed by an operator.' }),
});

/** Native API of the product: its productIds and settings (callback URL, support contact). */
export function nativeRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const config = { auth: 'merchant' as const };
  const security = [{ merchantKey: [] }];

  app.get(
    '/v1/carrier-billing/products',
    {
      config,
      schema: {
        tags: ['carrier-billing'],
        summary: 'Your carrier-billing products (productIds).',
        security,
        response: { 200: Type.Object({ data: Type.Array(Product) }), ...commonErrors },
      },
    },
    async (request) => ({ data: (await listProducts(db, merchantOf(request.principal))).map(productView) }),
  );

  app.post(
    '/v1/carrier-billing/products',
    {
      config,
      schema: {
        tags: ['carrier-billing'],
        summary: 'Create a product; its productId goes in Infomedia requests.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            description: Type.Optional(Type.String({ maxLength: 255 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Product, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const row = await insertProduct(tx, merchantOf(request.principal), request.body);
        return { status: 201, body: productView(row), targetId: String(row.product_id) };
      }),
  );

  app.patch(
    '/v1/carrier-billing/products/:productId',
    {
      config,
      schema: {
        tags: ['carrier-billing'],
        summary: 'Rename, describe or disable a product.',
        security,
        headers: IdempotencyHeaders,
        params: Type.Object({ productId: Type.String({ pattern: '^[0-9]{1,18}$' }) }),
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            description: Type.Optional(Type.String({ maxLength: 255 })),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Product, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const row = await updateProduct(
          tx,
          merchantOf(request.principal),
          BigInt(request.params.productId),
          request.body,
        );
        if (!row) throw new AppError('not_found', `No product ${request.params.productId}.`);
        return { status: 200, body: productView(row) };
      }),
  );

  app.get(
    '/v1/carrier-billing/settings',
    {
      config,
      schema: {
        tags: ['carrier-billing'],
        summary: 'Callback URL and support contact.',
        security,
        response: { 200: Settings, ...commonErrors },
      },
    },
    async (request) => settingsView(db, merchantOf(request.principal)),
  );

  app.put(
    '/v1/carrier-billing/settings',
    {
      config,
      schema: {
        tags: ['carrier-billing'],
        summary: 'Set the callback URL (Infomedia-style GET callbacks) and the support contact named in SMS.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            webhook_url: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()]),
            ),
            support_contact: Type.Optional(Type.String({ maxLength: 60 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Settings, ...commonErrors },
      },
    },
    async (request, reply) => {
      const scope = merchantOf(request.principal);
      return runMutation(request, reply, db, async (tx) => {
        const current = await getSettings(tx, scope);
        let endpointId = current.webhook_endpoint_id;
        const url = request.body.webhook_url;
        if (url !== undefined) {
          if (url === null) {
            if (endpointId) await updateEndpoint(tx, scope, endpointId, { enabled: false });
          } else {
            validateEndpointUrl(url, scope.environment, ctx.config.allowPrivateCallbacks);
            if (endpointId) await updateEndpoint(tx, scope, endpointId, { url, enabled: true });
            else {
              const created = await createEndpoint(tx, {
                ...scope,
                url,
                description: 'carrier-billing callbacks',
                eventTypes: callbackEventTypes,
                format: callbackFormatName,
                product: 'carrier-billing',
              });
              endpointId = created.row.id;
            }
          }
        }
        await upsertSettings(tx, scope, {
          webhookEndpointId: endpointId,
          ...(request.body.support_contact !== undefined
            ? { supportContact: request.body.support_contact }
            : {}),
        });
        return { status: 200, body: await settingsView(tx, scope) };
      });
    },
  );

  app.put(
    '/v1/merchants/:id/carrier-billing/send-bill',
    {
      config: { auth: 'operator', auditTarget: 'id' },
      schema: {
        tags: ['operator'],
        summary: 'Allow or forbid SendBill (charges without a PIN) for a merchant in an environment.',
        security: [{ operatorKey: [] }],
        headers: IdempotencyHeaders,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object(
          { environment: Type.Enum(['sandbox', 'production']), allowed: Type.Boolean() },
          { additionalProperties: false },
        ),
        response: { 200: Settings, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const merchant = await tx
          .selectFrom('merchants')
          .select('id')
          .where('id', '=', request.params.id)
          .executeTakeFirst();
        if (!merchant) throw new AppError('not_found', `No merchant ${request.params.id}.`);
        const scope = { merchantId: merchant.id, environment: request.body.environment };
        await upsertSettings(tx, scope, { sendBillAllowed: request.body.allowed });
        return { status: 200, body: await settingsView(tx, scope) };
      }),
  );
}

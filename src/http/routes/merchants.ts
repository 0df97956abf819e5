import { Type } from 'typebox';
import { credentialView, issueCredential } from '../../core/credentials/credentials.js';
import { environments } from '../../core/db/schema.js';
import {
  getMerchant,
  insertMerchant,
  listMerchants,
  merchantView,
  setMerchantStatus,
} from '../../core/merchants/merchants.js';
import type { App, RouteContext } from '../app.js';
import { runMutation } from '../mutation.js';
import { merchantOf } from '../principal.js';
import { PageQuery, pageEnvelope, pageOf, pageSizeDefault } from '../pagination.js';
import { commonErrors, IdempotencyHeaders, IdParams, IssuedCredential, Merchant } from '../schemas.js';

const operator = { auth: 'operator' as const, auditTarget: 'id' };
const operatorSecurity = [{ operatorKey: [] }];

export function merchantRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;

  app.post(
    '/v1/merchants',
    {
      config: operator,
      schema: {
        tags: ['operator'],
        summary: 'Create a merchant, with a native key for each environment (secrets shown once).',
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ merchant: Merchant, credentials: Type.Array(IssuedCredential) }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const merchant = await insertMerchant(tx, { name: request.body.name });
        const now = ctx.clock.now();
        const credentials = [];
        for (const environment of environments) {
          const issued = await issueCredential(tx, {
            merchantId: merchant.id,
            environment,
            dialect: 'native',
            name: `${environment} native key`,
          });
          credentials.push({ ...credentialView(issued.row, now), secret: issued.secret.reveal() });
        }
        return {
          status: 201,
          body: { merchant: merchantView(merchant), credentials },
          targetId: merchant.id,
        };
      }),
  );

  app.get(
    '/v1/merchants',
    {
      config: operator,
      schema: {
        tags: ['operator'],
        summary: 'List merchants, newest first.',
        security: operatorSecurity,
        querystring: Type.Object(
          { ...PageQuery.properties, status: Type.Optional(Type.Enum(['active', 'disabled'])) },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(Merchant), ...commonErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listMerchants(db, {
        limit,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
        ...(request.query.status ? { status: request.query.status } : {}),
      });
      return pageOf(rows, limit, merchantView, (r) => r.id);
    },
  );

  app.get(
    '/v1/merchants/:id',
    {
      config: operator,
      schema: {
        tags: ['operator'],
        summary: 'Get a merchant.',
        security: operatorSecurity,
        params: IdParams,
        response: { 200: Merchant, ...commonErrors },
      },
    },
    async (request) => merchantView(await getMerchant(db, request.params.id)),
  );

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post(
      `/v1/merchants/:id/${action}`,
      {
        config: operator,
        schema: {
          tags: ['operator'],
          summary:
            action === 'disable'
              ? 'Disable a merchant: every credential stops working at once.'
              : 'Enable a disabled merchant again.',
          security: operatorSecurity,
          headers: IdempotencyHeaders,
          params: IdParams,
          response: { 200: Merchant, ...commonErrors },
        },
      },
      async (request, reply) =>
        runMutation(request, reply, db, async (tx) => ({
          status: 200,
          body: merchantView(await setMerchantStatus(tx, request.params.id, status)),
        })),
    );
  }

  app.get(
    '/v1/merchant',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['merchant'],
        summary: 'The merchant this key belongs to, and the environment the key selects.',
        security: [{ merchantKey: [] }],
        response: {
          200: Type.Object({ merchant: Merchant, environment: Type.Enum(['sandbox', 'production']) }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      return {
        merchant: merchantView(await getMerchant(db, principal.merchantId)),
        environment: principal.environment,
      };
    },
  );
}

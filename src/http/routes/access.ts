import { Type } from 'typebox';
import {
  accessView,
  decideAccess,
  getAccess,
  listAccess,
  renameAccess,
  requestAccess,
} from '../../core/access/access.js';
import type { App, RouteContext } from '../app.js';
import { runMutation } from '../mutation.js';
import { merchantOf } from '../principal.js';
import { PageQuery, pageEnvelope, pageOf, pageSizeDefault } from '../pagination.js';
import {
  AccessRequest,
  commonErrors,
  EnvironmentSchema,
  IdempotencyHeaders,
  IdParams,
  ProductSchema,
} from '../schemas.js';

const Name = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Your name for this subscription to the product.',
});
const Reason = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);

/**
 * Product access requests (seed 000's portal "subscriptions"). Sandbox requests are approved at once;
 * production requests wait for an operator. Both caller kinds read; merchants see only their own
 * environment, operators see everything.
 */
export function accessRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const both: Array<Record<string, string[]>> = [{ merchantKey: [] }, { operatorKey: [] }];

  app.get(
    '/v1/access-requests',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['merchant', 'operator'],
        summary: 'List access requests: a merchant sees its own environment, an operator all (filterable).',
        security: both,
        querystring: Type.Object(
          {
            ...PageQuery.properties,
            status: Type.Optional(Type.Enum(['pending', 'approved', 'rejected', 'revoked'])),
            merchant_id: Type.Optional(Type.String({ maxLength: 64, description: 'Operators only.' })),
            environment: Type.Optional(EnvironmentSchema),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(AccessRequest), ...commonErrors },
      },
    },
    async (request) => {
      const principal = request.principal;
      const query = request.query;
      const limit = query.limit ?? pageSizeDefault;
      const scope =
        principal?.kind === 'merchant'
          ? { merchantId: principal.merchantId, environment: principal.environment }
          : {
              ...(query.merchant_id ? { merchantId: query.merchant_id } : {}),
              ...(query.environment ? { environment: query.environment } : {}),
            };
      const rows = await listAccess(db, {
        ...scope,
        limit,
        ...(query.status ? { status: query.status } : {}),
        ...(query.starting_after ? { startingAfter: query.starting_after } : {}),
      });
      return pageOf(rows, limit, accessView, (r) => r.id);
    },
  );

  app.get(
    '/v1/access-requests/:id',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['merchant', 'operator'],
        summary: 'Get an access request.',
        security: both,
        params: IdParams,
        response: { 200: AccessRequest, ...commonErrors },
      },
    },
    async (request) => {
      const principal = request.principal;
      const scope = principal?.kind === 'merchant' ? principal : {};
      return accessView(await getAccess(db, scope, request.params.id));
    },
  );

  app.post(
    '/v1/access-requests',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['merchant'],
        summary:
          "Ask for a product in this key's environment: sandbox is approved at once, production waits.",
        security: [{ merchantKey: [] }],
        headers: IdempotencyHeaders,
        body: Type.Object({ product: ProductSchema, name: Name }, { additionalProperties: false }),
        response: { 201: AccessRequest, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        const row = await requestAccess(tx, {
          merchantId: principal.merchantId,
          environment: principal.environment,
          product: request.body.product,
          name: request.body.name,
        });
        return { status: 201, body: accessView(row), targetId: row.id };
      }),
  );

  app.patch(
    '/v1/access-requests/:id',
    {
      config: { auth: 'merchant', auditTarget: 'id' },
      schema: {
        tags: ['merchant'],
        summary: 'Rename a product subscription.',
        security: [{ merchantKey: [] }],
        headers: IdempotencyHeaders,
        params: IdParams,
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 200: AccessRequest, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: accessView(
          await renameAccess(tx, merchantOf(request.principal), request.params.id, request.body.name),
        ),
      })),
  );

  for (const [action, decision] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
    ['revoke', 'revoked'],
  ] as const) {
    app.post(
      `/v1/access-requests/:id/${action}`,
      {
        config: { auth: 'operator', auditTarget: 'id' },
        schema: {
          tags: ['operator'],
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} an access request (operators only).`,
          security: [{ operatorKey: [] }],
          headers: IdempotencyHeaders,
          params: IdParams,
          body: Reason,
          response: { 200: AccessRequest, ...commonErrors },
        },
      },
      async (request, reply) =>
        runMutation(request, reply, db, async (tx) => {
          const principal = request.principal;
          const actor = principal?.kind === 'operator' ? principal.operatorKeyId : 'unknown';
          return {
            status: 200,
            body: accessView(
              await decideAccess(tx, request.params.id, decision, actor, request.body?.reason),
            ),
          };
        }),
    );
  }
}

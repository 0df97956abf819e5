import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors/errors.js';
import type { App } from '../../http/app.js';
import { isMpError } from './errors.js';
import type { AgreementsDeps } from './routes.js';
import { agr } from './schema.js';
import * as svc from './service.js';
import { flushPaymentCallbacks } from './callback.js';
import { createOauthClient } from './tokens.js';
import { ensureCallbackEndpoint } from './endpoint.js';
import { transaction } from '../../core/db/db.js';

/**
 * The sandbox payer simulation (MobilePay's "Subscriptions User Simulation" API, vendor-apis.md §4.8)
 * under `/v1/sandbox/agreements/...`, with the merchant's native sandbox key. Every path is in README.md.
 */
export function sandboxRoutes(app: App, deps: AgreementsDeps): void {
  const db = deps.ctx.database.db;
  const tags = ['agreements (sandbox payer simulation)'];
  const scopeOf = (request: FastifyRequest) => {
    const p = request.principal;
    if (p?.kind !== 'merchant' || p.environment !== 'sandbox')
      throw new AppError('forbidden', 'Use a sandbox key.');
    return p;
  };
  const run = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (isMpError(error))
        throw new AppError(error.status === 404 ? 'not_found' : 'conflict', error.message);
      throw error;
    }
  };
  const agreementOf = async (request: FastifyRequest, id: string) => {
    const p = scopeOf(request);
    const row = await agr(db)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', id)
      .where('merchant_id', '=', p.merchantId)
      .where('environment', '=', 'sandbox')
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `No agreement ${id}.`);
    return row;
  };
  const Id = Type.Object({ id: Type.String({ format: 'uuid' }) });
  const Source = Type.Object({
    payment_source: Type.Optional(
      Type.String({
        pattern: '^[0-9]{8,15}$',
        description:
          'Simulated payer (wallet magic values): 4520000000 works, 4520000003 has no money, 4520000001 rejects.',
      }),
    ),
  });
  const config = { auth: 'merchant' as const };
  const ok = { 200: Type.Object({ status: Type.String() }) };

  app.post(
    '/v1/sandbox/agreements/:id/accept',
    {
      config,
      schema: {
        tags,
        summary: 'The payer accepts a pending agreement (and its one-off).',
        params: Id,
        body: Type.Optional(Source),
        response: ok,
      },
    },
    async (request) => {
      const a = await agreementOf(request, request.params.id);
      await run(() =>
        svc.acceptAgreement(
          db,
          deps.wallet,
          a.id,
          request.body?.payment_source ?? a.mobile_phone_number ?? '4520000000',
        ),
      );
      return { status: 'Accepted' };
    },
  );
  app.post(
    '/v1/sandbox/agreements/:id/reject',
    { config, schema: { tags, summary: 'The payer rejects a pending agreement.', params: Id, response: ok } },
    async (request) => {
      const a = await agreementOf(request, request.params.id);
      await run(() => svc.rejectAgreement(db, a.id));
      return { status: 'Rejected' };
    },
  );
  app.post(
    '/v1/sandbox/agreements/:id/cancel',
    {
      config,
      schema: { tags, summary: 'The payer cancels an active agreement (40002).', params: Id, response: ok },
    },
    async (request) => {
      const a = await agreementOf(request, request.params.id);
      await run(() => svc.cancelAgreementByPayer(db, a));
      return { status: 'Canceled' };
    },
  );
  const oneOfMerchant = async (request: FastifyRequest, id: string) => {
    const p = scopeOf(request);
    const row = await agr(db)
      .selectFrom('agr_one_offs')
      .selectAll()
      .where('id', '=', id)
      .where('merchant_id', '=', p.merchantId)
      .where('environment', '=', 'sandbox')
      .executeTakeFirst();
    if (!row) throw new AppError('not_found', `No one-off payment ${id}.`);
    return row;
  };
  app.post(
    '/v1/sandbox/agreements/one-off-payments/:id/accept',
    {
      config,
      schema: {
        tags,
        summary: 'The payer accepts a requested one-off payment (it is reserved).',
        params: Id,
        body: Type.Optional(Source),
        response: ok,
      },
    },
    async (request) => {
      const o = await oneOfMerchant(request, request.params.id);
      const a = await agreementOf(request, o.agreement_id);
      if (o.with_agreement && a.status === 'Pending') {
        await run(() =>
          svc.acceptAgreement(db, deps.wallet, a.id, request.body?.payment_source ?? '4520000000'),
        );
        return { status: 'Reserved' };
      }
      let reserved = false;
      await run(async () => {
        reserved = await svc.reserveOneOff(
          db,
          deps.wallet,
          a,
          o,
          request.body?.payment_source ?? a.payer_ref ?? '4520000000',
          'payer',
        );
      });
      if (!reserved)
        throw new AppError('conflict', 'The reservation was declined by the simulated payment source.');
      return { status: 'Reserved' };
    },
  );
  app.post(
    '/v1/sandbox/agreements/one-off-payments/:id/reject',
    {
      config,
      schema: {
        tags,
        summary: 'The payer rejects a requested one-off payment (50001).',
        params: Id,
        response: ok,
      },
    },
    async (request) => {
      const o = await oneOfMerchant(request, request.params.id);
      await run(() => svc.rejectOneOff(db, o.id));
      return { status: 'Rejected' };
    },
  );
  app.post(
    '/v1/sandbox/agreements/payment-requests/:id/reject',
    {
      config,
      schema: {
        tags,
        summary: 'The payer rejects a pending subscription payment (50001).',
        params: Id,
        response: ok,
      },
    },
    async (request) => {
      const p = scopeOf(request);
      const row = await agr(db)
        .selectFrom('agr_payment_requests')
        .select('id')
        .where('id', '=', request.params.id)
        .where('merchant_id', '=', p.merchantId)
        .where('environment', '=', 'sandbox')
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', `No payment request ${request.params.id}.`);
      await run(() => svc.rejectPaymentRequest(db, row.id));
      return { status: 'Rejected' };
    },
  );
  app.post(
    '/v1/sandbox/agreements/callbacks/flush',
    {
      config,
      schema: {
        tags,
        summary: 'Sends the queued batched payment callbacks now instead of at the next 2-minute batch.',
        response: { 200: Type.Object({ batches: Type.Integer() }) },
      },
    },
    async (request) => {
      const p = scopeOf(request);
      return { batches: await flushPaymentCallbacks(db, { merchantId: p.merchantId, force: true }) };
    },
  );
  // Native (merchant) set-up: providers (brands) and integrator OAuth clients.
  const merchantScope = (request: FastifyRequest) => {
    const p = request.principal;
    if (p?.kind !== 'merchant') throw new AppError('forbidden', 'Use a merchant key.');
    return p;
  };
  const Provider = Type.Object({
    id: Type.String(),
    name: Type.String(),
    environment: Type.String(),
    homepage: Type.Union([Type.String(), Type.Null()]),
    auto_reserve_enabled: Type.Boolean(),
  });
  app.post(
    '/v1/agreements/providers',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['agreements'],
        summary: 'Create a subscription provider (a brand) for MobilePay Subscriptions calls.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            homepage: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Provider },
      },
    },
    async (request, reply) => {
      const p = merchantScope(request);
      const row = await transaction(db, async (tx) => {
        const created = await svc.createProvider(tx, p, {
          name: request.body.name,
          ...(request.body.homepage ? { homepage: request.body.homepage } : {}),
        });
        await ensureCallbackEndpoint(tx, p.merchantId, p.environment);
        return created;
      });
      return reply.code(201).send({
        id: row.id,
        name: row.name,
        environment: row.environment,
        homepage: row.homepage,
        auto_reserve_enabled: row.auto_reserve_enabled,
      });
    },
  );
  app.get(
    '/v1/agreements/providers',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['agreements'],
        summary: 'List subscription providers.',
        response: { 200: Type.Object({ data: Type.Array(Provider) }) },
      },
    },
    async (request) => {
      const p = merchantScope(request);
      const rows = await svc.listProviders(db, p);
      return {
        data: rows.map((row) => ({
          id: row.id,
          name: row.name,
          environment: row.environment,
          homepage: row.homepage,
          auto_reserve_enabled: row.auto_reserve_enabled,
        })),
      };
    },
  );
  app.patch(
    '/v1/agreements/providers/:id',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['agreements'],
        summary: 'Provider settings: how often batched payment callbacks go out (default 120 s).',
        params: Id,
        body: Type.Object(
          { callback_batch_seconds: Type.Integer({ minimum: 10, maximum: 3600 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ id: Type.String(), callback_batch_seconds: Type.Integer() }) },
      },
    },
    async (request) => {
      const p = merchantScope(request);
      const row = await agr(db)
        .updateTable('agr_providers')
        .set({ callback_batch_seconds: request.body.callback_batch_seconds })
        .where('id', '=', request.params.id)
        .where('merchant_id', '=', p.merchantId)
        .where('environment', '=', p.environment)
        .returning(['id', 'callback_batch_seconds'])
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', `No provider ${request.params.id}.`);
      return row;
    },
  );
  app.post(
    '/v1/agreements/oauth-clients',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['agreements'],
        summary: 'Register an integrator OAuth client (client_id and client_secret, shown once).',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            redirect_uris: Type.Array(Type.String({ format: 'uri', maxLength: 2000 }), {
              minItems: 1,
              maxItems: 10,
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            client_id: Type.String(),
            client_secret: Type.String(),
            name: Type.String(),
            redirect_uris: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (request, reply) => {
      const p = merchantScope(request);
      const client = await createOauthClient(db, {
        merchantId: p.merchantId,
        environment: p.environment,
        name: request.body.name,
        redirectUris: request.body.redirect_uris,
      });
      return reply.code(201).send({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        name: request.body.name,
        redirect_uris: request.body.redirect_uris,
      });
    },
  );
  app.put(
    '/v1/operator/agreements/providers/:id/auto-reserve',
    {
      config: { auth: 'operator' },
      schema: {
        tags: ['agreements (operator)'],
        summary: 'Allow or refuse auto_reserve for a provider.',
        params: Id,
        body: Type.Object({ enabled: Type.Boolean() }),
        response: { 200: Type.Object({ enabled: Type.Boolean() }) },
      },
    },
    async (request) => {
      const row = await agr(db)
        .updateTable('agr_providers')
        .set({ auto_reserve_enabled: request.body.enabled })
        .where('id', '=', request.params.id)
        .returning('auto_reserve_enabled')
        .executeTakeFirst();
      if (!row) throw new AppError('not_found', `No provider ${request.params.id}.`);
      return { enabled: row.auto_reserve_enabled };
    },
  );
}

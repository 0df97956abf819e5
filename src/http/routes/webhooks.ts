import { Type, type Static } from 'typebox';
import { AppError } from '../../core/errors/errors.js';
import { recordEvent } from '../../core/events/events.js';
import { retryDelivery } from '../../core/webhooks/dispatch.js';
import {
  createEndpoint,
  deleteEndpoint,
  endpointView,
  getEndpoint,
  listEndpoints,
  rotateEndpointSecret,
  updateEndpoint,
  validateEndpointUrl,
} from '../../core/webhooks/endpoints.js';
import type { App, RouteContext } from '../app.js';
import { runMutation } from '../mutation.js';
import { PageQuery, pageEnvelope, pageOf, pageSizeDefault } from '../pagination.js';
import { merchantOf } from '../principal.js';
import { commonErrors, IdempotencyHeaders, IdParams } from '../schemas.js';

const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: 50,
  description: 'Event types to receive (e.g. `payment.captured`); empty or absent for all.',
});

const Endpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  event_types: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabled_reason: NullableString,
  created_at: Timestamp,
  updated_at: Timestamp,
});
const EndpointWithSecret = Type.Object({
  ...Endpoint.properties,
  secret: Type.String({ description: 'The `whsec_` signing secret; shown here only.' }),
});
const Attempt = Type.Object({
  attempt_no: Type.Integer(),
  at: Timestamp,
  outcome: Type.String(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  latency_ms: Type.Integer(),
  response_snippet: Type.String({ description: 'At most 256 bytes of the answer.' }),
  error: NullableString,
});
const Delivery = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  event_id: Type.String(),
  status: Type.Enum(['pending', 'delivered', 'failed', 'cancelled']),
  attempts: Type.Integer(),
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: NullableString,
  created_at: Timestamp,
  delivered_at: Type.Union([Timestamp, Type.Null()]),
  attempt_log: Type.Array(Attempt),
});

/** Webhook endpoints and deliveries (Standard Webhooks), in the merchant key's environment. */
export function webhookRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const config = { auth: 'merchant' as const, auditTarget: 'id' };
  const security = [{ merchantKey: [] }];
  const allowPrivate = ctx.config.allowPrivateCallbacks;

  app.post(
    '/v1/webhook-endpoints',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Register an endpoint; the signing secret is shown once.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            url: Type.String({ minLength: 1, maxLength: 2048 }),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            event_types: Type.Optional(EventTypes),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: EndpointWithSecret, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        validateEndpointUrl(request.body.url, principal.environment, allowPrivate);
        const { row, secret } = await createEndpoint(tx, {
          merchantId: principal.merchantId,
          environment: principal.environment,
          url: request.body.url,
          ...(request.body.description !== undefined ? { description: request.body.description } : {}),
          ...(request.body.event_types !== undefined ? { eventTypes: request.body.event_types } : {}),
          ...(request.body.enabled !== undefined ? { enabled: request.body.enabled } : {}),
        });
        return { status: 201, body: { ...endpointView(row), secret: secret.reveal() }, targetId: row.id };
      }),
  );

  app.post(
    '/v1/webhook-endpoints/test-event',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['webhooks'],
        summary:
          'Emit a `webhook.test` event to every endpoint that takes it, to check a receiver end to end.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          { data: Type.Optional(Type.Object({}, { additionalProperties: true, maxProperties: 20 })) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ event_id: Type.String(), type: Type.Literal('webhook.test') }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        const id = await recordEvent(tx, {
          merchantId: principal.merchantId,
          environment: principal.environment,
          type: 'webhook.test',
          objectId: principal.merchantId,
          data: { ...(request.body.data ?? {}) },
        });
        return { status: 201, body: { event_id: id, type: 'webhook.test' as const }, targetId: id };
      }),
  );

  app.get(
    '/v1/webhook-endpoints',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'List endpoints.',
        security,
        response: { 200: Type.Object({ data: Type.Array(Endpoint) }), ...commonErrors },
      },
    },
    async (request) => ({ data: (await listEndpoints(db, merchantOf(request.principal))).map(endpointView) }),
  );

  app.get(
    '/v1/webhook-endpoints/:id',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Get an endpoint.',
        security,
        params: IdParams,
        response: { 200: Endpoint, ...commonErrors },
      },
    },
    async (request) => endpointView(await getEndpoint(db, merchantOf(request.principal), request.params.id)),
  );

  app.patch(
    '/v1/webhook-endpoints/:id',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Change an endpoint: URL, description, event types, enabled.',
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        body: Type.Object(
          {
            url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            event_types: Type.Optional(EventTypes),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Endpoint, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        if (request.body.url !== undefined)
          validateEndpointUrl(request.body.url, principal.environment, allowPrivate);
        const row = await updateEndpoint(tx, principal, request.params.id, {
          ...(request.body.url !== undefined ? { url: request.body.url } : {}),
          ...(request.body.description !== undefined ? { description: request.body.description } : {}),
          ...(request.body.event_types !== undefined ? { eventTypes: request.body.event_types } : {}),
          ...(request.body.enabled !== undefined ? { enabled: request.body.enabled } : {}),
        });
        return { status: 200, body: endpointView(row) };
      }),
  );

  app.delete(
    '/v1/webhook-endpoints/:id',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Delete an endpoint and its deliveries.',
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }), ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        await deleteEndpoint(tx, merchantOf(request.principal), request.params.id);
        return { status: 200, body: { id: request.params.id, deleted: true as const } };
      }),
  );

  app.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'New signing secret; for 24 hours deliveries carry signatures with both.',
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        response: { 200: EndpointWithSecret, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const { row, secret } = await rotateEndpointSecret(
          tx,
          merchantOf(request.principal),
          request.params.id,
        );
        return { status: 200, body: { ...endpointView(row), secret: secret.reveal() } };
      }),
  );

  const deliveriesWithAttempts = async (merchantId: string, ids: string[]) => {
    if (ids.length === 0) return new Map<string, Array<Static<typeof Attempt>>>();
    const attempts = await db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('merchant_id', '=', merchantId)
      .where('delivery_id', 'in', ids)
      .orderBy('attempt_no')
      .execute();
    const map = new Map<string, Array<Static<typeof Attempt>>>();
    for (const a of attempts) {
      const list = map.get(a.delivery_id) ?? [];
      list.push({
        attempt_no: a.attempt_no,
        at: a.at.toISOString(),
        outcome: a.outcome,
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        response_snippet: a.response_snippet,
        error: a.error,
      });
      map.set(a.delivery_id, list);
    }
    return map;
  };
  type DeliveryRow = Awaited<ReturnType<typeof listDeliveries>>[number];
  const listDeliveries = (
    merchantId: string,
    environment: string,
    q: {
      limit: number;
      startingAfter?: string | undefined;
      endpointId?: string | undefined;
      eventId?: string | undefined;
      status?: string | undefined;
      id?: string | undefined;
    },
  ) => {
    let query = db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('merchant_id', '=', merchantId)
      .where('environment', '=', environment as 'sandbox')
      .orderBy('id', 'desc')
      .limit(q.limit + 1);
    if (q.startingAfter) query = query.where('id', '<', q.startingAfter);
    if (q.endpointId) query = query.where('endpoint_id', '=', q.endpointId);
    if (q.eventId) query = query.where('event_id', '=', q.eventId);
    if (q.status) query = query.where('status', '=', q.status as 'pending');
    if (q.id) query = query.where('id', '=', q.id);
    return query.execute();
  };
  const view = (row: DeliveryRow, attempts: Map<string, Array<Static<typeof Attempt>>>) => ({
    id: row.id,
    endpoint_id: row.endpoint_id,
    event_id: row.event_id,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.next_attempt_at?.toISOString() ?? null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    delivered_at: row.delivered_at?.toISOString() ?? null,
    attempt_log: attempts.get(row.id) ?? [],
  });

  app.get(
    '/v1/webhook-deliveries',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Deliveries with their attempts (status code, latency, first 256 bytes of the answer).',
        security,
        querystring: Type.Object(
          {
            ...PageQuery.properties,
            endpoint_id: Type.Optional(Type.String({ maxLength: 64 })),
            event_id: Type.Optional(Type.String({ maxLength: 64 })),
            status: Type.Optional(Type.Enum(['pending', 'delivered', 'failed', 'cancelled'])),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(Delivery), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listDeliveries(principal.merchantId, principal.environment, {
        limit,
        startingAfter: request.query.starting_after,
        endpointId: request.query.endpoint_id,
        eventId: request.query.event_id,
        status: request.query.status,
      });
      const attempts = await deliveriesWithAttempts(
        principal.merchantId,
        rows.slice(0, limit).map((r) => r.id),
      );
      return pageOf(
        rows,
        limit,
        (r) => view(r, attempts),
        (r) => r.id,
      );
    },
  );

  app.get(
    '/v1/webhook-deliveries/:id',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'One delivery with its attempts.',
        security,
        params: IdParams,
        response: { 200: Delivery, ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const [row] = await listDeliveries(principal.merchantId, principal.environment, {
        limit: 1,
        id: request.params.id,
      });
      if (!row) throw new AppError('not_found', `No delivery ${request.params.id}.`);
      return view(row, await deliveriesWithAttempts(principal.merchantId, [row.id]));
    },
  );

  app.post(
    '/v1/webhook-deliveries/:id/retry',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Replay a delivery now, whatever its status.',
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        response: {
          202: Type.Object({ id: Type.String(), status: Type.Literal('pending') }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const principal = merchantOf(request.principal);
      const row = await retryDelivery(db, principal, request.params.id);
      if (!row) throw new AppError('not_found', `No delivery ${request.params.id}.`);
      return reply.code(202).send({ id: row.id, status: 'pending' as const });
    },
  );
}

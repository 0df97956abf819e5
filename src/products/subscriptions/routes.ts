import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { authenticateSecret, type AuthenticatedCredential } from '../../core/credentials/credentials.js';
import { transaction, type Tx } from '../../core/db/db.js';
import { auditValues } from '../../core/audit/audit.js';
import { getTestClock } from '../../core/clocks/test-clocks.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  parseIdempotencyKey,
  releaseIdempotencyKey,
  requestFingerprint,
} from '../../core/idempotency/idempotency.js';
import { hashSecret, sameSecretHash } from '../../core/secrets/secrets.js';
import type { App, RouteContext } from '../../http/app.js';
import { principalActor, principalScope } from '../../http/principal.js';
import {
  cycleView,
  onCancel,
  onPause,
  onResume,
  type BillingDeps,
  type CycleRow,
  type TxRow,
} from './billing.js';
import {
  createManualRetry,
  createSeriesTransaction,
  getSeriesTransaction,
  listRetries,
  retryView,
  transactionView,
} from './charges.js';
import {
  boolFilter,
  dateFilter,
  errorBody,
  invalid,
  objectBody,
  pageQuery,
  parseSpId,
  SpError,
  textFilter,
  toSpError,
  type Json,
  type SpIdKind,
} from './dialect.js';
import { spEvent } from './events.js';
import {
  agreementInfo,
  checkStatusChange,
  createPlan,
  createSeries,
  createSubscription,
  deletePlan,
  getPlan,
  getSeries,
  getSubscription,
  listPage,
  nowFor,
  one,
  page,
  parseSubscriptionPatch,
  planView,
  seriesView,
  setSubscriptionStatus,
  subscriptionView,
  updatePlan,
  updateSeries,
  type PlanRow,
  type Scope,
  type SeriesRow,
  type SubscriptionRow,
} from './objects.js';

/**
 * The SmartPay Subscription Module dialect under `/smartpay` (README.md): `x-api-key: merchantKey` and
 * `Authorization: Basic base64(merchantKey:authenticationKey)` on every call (403 otherwise), the
 * vendor's paths, ids, timestamps, amounts and page envelope, CORS, and one error body.
 */
export const basePath = '/smartpay';
export const testClockHeader = 'x-payloom-test-clock';

const corsHeaders =
  'Authorization, x-api-key, Content-Type, Accept-Language, Idempotency-Key, X-Payloom-Test-Clock';

declare module 'fastify' {
  interface FastifyRequest {
    spCredential: AuthenticatedCredential | undefined;
  }
}

function scopeOf(request: FastifyRequest): Scope {
  const credential = request.spCredential;
  if (!credential) throw new Error('invariant violated: SmartPay route without credential');
  return { merchantId: credential.merchantId, environment: credential.environment };
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: SpError): FastifyReply {
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send(errorBody(error, request.url.split('?')[0] ?? '', request.id));
}

/** Checks both headers; a missing or wrong one is 403 (the vendor's rule). */
async function authenticate(request: FastifyRequest, ctx: RouteContext): Promise<void> {
  const apiKey = request.headers['x-api-key'];
  const header = request.headers.authorization;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new SpError('FORBIDDEN', 'The x-api-key header (your merchantKey) is required.', 'x-api-key');
  }
  if (typeof header !== 'string' || header.trim() === '') {
    throw new SpError(
      'FORBIDDEN',
      'The Authorization header (Basic merchantKey:authenticationKey) is required.',
      'Authorization',
    );
  }
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new SpError(
      'UNAUTHORIZED',
      'Authorization must use the Basic scheme: base64(merchantKey:authenticationKey).',
      'Authorization',
    );
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon >= 0 ? decoded.slice(0, colon) : '';
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  const key = apiKey.trim();
  const credential = await authenticateSecret(ctx.database.db, 'subscriptions', key);
  const expected = credential?.attributes.password_sha256;
  const passwordOk =
    typeof expected === 'string' && sameSecretHash(Buffer.from(expected, 'hex'), hashSecret(password));
  if (!credential || user !== key || !passwordOk) {
    throw new SpError('FORBIDDEN', 'The merchantKey or authenticationKey is not valid.', 'Authorization');
  }
  if (!credential.merchantActive)
    throw new SpError('FORBIDDEN', 'The merchant account is disabled.', 'x-api-key');
  if (!credential.accessApproved) {
    throw new SpError(
      'FORBIDDEN',
      `Subscriptions are not approved for this account in ${credential.environment}.`,
      'x-api-key',
    );
  }
  request.spCredential = credential;
  request.principal = {
    kind: 'merchant',
    merchantId: credential.merchantId,
    environment: credential.environment,
    credentialId: credential.credentialId,
  };
}

/** Claims an Idempotency-Key for a write (replays the stored answer when it was seen before). */
async function claim(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
): Promise<FastifyReply | undefined> {
  let key: string | undefined;
  try {
    key = parseIdempotencyKey(request.headers['idempotency-key']);
  } catch {
    throw new SpError(
      'INVALID_FIELD',
      'Idempotency-Key must be 1-255 printable ASCII characters.',
      'Idempotency-Key',
    );
  }
  if (key === undefined || !request.principal) return undefined;
  const scope = `${principalScope(request.principal)}:smartpay`;
  const result = await claimIdempotencyKey(ctx.database.db, {
    scope,
    key,
    fingerprint: requestFingerprint(
      request.method,
      request.routeOptions.url ?? request.url,
      request.params,
      request.body,
    ),
    ttlHours: ctx.config.idempotencyTtlHours,
  });
  switch (result.kind) {
    case 'claimed':
      request.idempotency = { scope, key };
      return undefined;
    case 'in_use':
      throw new SpError(
        'IDEMPOTENCY_CONFLICT',
        'A request with this Idempotency-Key is still being processed.',
        'Idempotency-Key',
      );
    case 'mismatch':
      throw new SpError(
        'IDEMPOTENCY_CONFLICT',
        'This Idempotency-Key was used with a different request.',
        'Idempotency-Key',
      );
    case 'replay':
      request.audited = true;
      return reply
        .code(result.status)
        .header('idempotent-replayed', 'true')
        .type(result.contentType)
        .send(result.body);
  }
}

function audit(request: FastifyRequest, status: number, target: string | null) {
  return auditValues({
    ...principalActor(request.principal),
    action: `${request.method} ${request.routeOptions.url ?? request.url}`,
    targetId: target,
    requestId: request.id,
    statusCode: status,
  });
}

/** A write whose effect is one transaction: effect, audit and stored idempotent answer commit together. */
async function write(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
  work: (tx: Tx) => Promise<{ status: number; body: unknown; target?: string }>,
): Promise<FastifyReply> {
  const db = ctx.database.db;
  try {
    const result = await transaction(db, async (tx) => {
      const outcome = await work(tx);
      const body = outcome.body === undefined ? '' : JSON.stringify(outcome.body);
      await tx
        .insertInto('audit_log')
        .values(audit(request, outcome.status, outcome.target ?? null))
        .execute();
      if (request.idempotency) {
        await completeIdempotencyKey(tx, {
          ...request.idempotency,
          status: outcome.status,
          contentType: 'application/json; charset=utf-8',
          body,
        });
      }
      return { status: outcome.status, body };
    });
    request.audited = true;
    if (result.status === 204) return reply.code(204).send();
    return reply.code(result.status).type('application/json; charset=utf-8').send(result.body);
  } catch (thrown) {
    return fail(request, reply, ctx, thrown);
  }
}

/** A write whose effect spans the acquirer call: the answer is stored for replays once it is known. */
async function respond(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
  status: number,
  body: unknown,
  target: string,
) {
  const text = JSON.stringify(body);
  await ctx.database.db
    .insertInto('audit_log')
    .values(audit(request, status, target))
    .execute();
  if (request.idempotency) {
    await completeIdempotencyKey(ctx.database.db, {
      ...request.idempotency,
      status,
      contentType: 'application/json; charset=utf-8',
      body: text,
    });
  }
  request.audited = true;
  return reply.code(status).type('application/json; charset=utf-8').send(text);
}

async function fail(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
  thrown: unknown,
): Promise<FastifyReply> {
  const error = toSpError(thrown);
  const db = ctx.database.db;
  if (error.status >= 500) {
    request.log.error({ err: thrown }, 'smartpay request failed');
    if (request.idempotency) await releaseIdempotencyKey(db, request.idempotency);
    request.idempotency = undefined;
    return sendError(request, reply, error);
  }
  if (request.principal) {
    await db
      .insertInto('audit_log')
      .values(audit(request, error.status, null))
      .execute();
    request.audited = true;
  }
  if (request.idempotency) {
    await completeIdempotencyKey(db, {
      ...request.idempotency,
      status: error.status,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(errorBody(error, request.url.split('?')[0] ?? '', request.id)),
    });
    request.idempotency = undefined;
  }
  return sendError(request, reply, error);
}

function idParam(kind: SpIdKind, raw: unknown, field: string): string {
  const id = typeof raw === 'string' ? parseSpId(kind, raw) : undefined;
  if (!id) throw new SpError('NOT_FOUND', `${field} ${String(raw)} is not a ${kind} id.`, field);
  return id;
}

async function testClockFor(
  request: FastifyRequest,
  ctx: RouteContext,
  scope: Scope,
): Promise<string | null> {
  const header = request.headers[testClockHeader];
  if (typeof header !== 'string' || header === '') return null;
  if (scope.environment !== 'sandbox') throw invalid(testClockHeader, 'is accepted in the sandbox only.');
  try {
    return (await getTestClock(ctx.database.db, scope.merchantId, header)).id;
  } catch {
    throw new SpError('NOT_FOUND', `No test clock ${header}.`, testClockHeader);
  }
}

type Query = Record<string, unknown>;
type Params = Record<string, string>;

export function dialectRoutes(app: App, ctx: RouteContext, deps: BillingDeps): void {
  const db = ctx.database.db;
  const now = () => ctx.clock.now();
  void app.register(
    async (scope) => {
      scope.decorateRequest('spCredential', undefined);
      scope.addHook('onRequest', async (request, reply) => {
        const origin = request.headers.origin;
        if (typeof origin === 'string') {
          void reply
            .header('access-control-allow-origin', origin)
            .header('vary', 'Origin')
            .header('access-control-allow-headers', corsHeaders)
            .header('access-control-allow-methods', 'GET, POST, PATCH, DELETE, OPTIONS')
            .header('access-control-expose-headers', 'x-request-id, idempotent-replayed')
            .header('access-control-max-age', '600');
        }
        if (request.method === 'OPTIONS') return;
        try {
          await authenticate(request, ctx);
        } catch (error) {
          return fail(request, reply, ctx, error);
        }
      });
      scope.addHook('preHandler', async (request, reply) => {
        if (!['POST', 'PATCH', 'DELETE'].includes(request.method) || !request.principal) return;
        try {
          return await claim(request, reply, ctx);
        } catch (error) {
          return fail(request, reply, ctx, error);
        }
      });
      scope.setErrorHandler(async (error, request, reply) => fail(request, reply, ctx, error));
      scope.setNotFoundHandler(async (request, reply) =>
        sendError(
          request,
          reply,
          new SpError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`),
        ),
      );
      scope.options('/*', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());

      const tags = ['subscriptions (SmartPay)'];
      const route = (summary: string) => ({ config: { auth: 'public' as const }, schema: { tags, summary } });

      // Plans ------------------------------------------------------------------------------------------
      scope.post('/plans', route('Create Subscription Plan'), async (request, reply) =>
        write(request, reply, ctx, async (tx) => {
          const row = await createPlan(tx, scopeOf(request), objectBody(request.body));
          return { status: 201, body: planView(row), target: row.id };
        }),
      );
      scope.get(
        '/plans',
        route('Get All Subscription Plans (zero-based pages; filters)'),
        async (request) => {
          const q = request.query as Query;
          const p = pageQuery(q);
          const result = await listPage<PlanRow>(
            db,
            'sp_plans',
            scopeOf(request),
            listFilter(q, { name: textFilter(q.name) }),
            { name: 'name' },
            p,
          );
          return page(p, result, planView);
        },
      );
      scope.get('/plans/:planId', route('Get Subscription Plan'), async (request) => {
        const id = idParam('plan', (request.params as Params).planId, 'subscriptionPlanId');
        return planView(await getPlan(db, scopeOf(request), id));
      });
      scope.patch(
        '/plans/:planId',
        route('Update Subscription Plan (null trial fields remove the trial)'),
        async (request, reply) =>
          write(request, reply, ctx, async (tx) => {
            const id = idParam('plan', (request.params as Params).planId, 'subscriptionPlanId');
            const row = await updatePlan(tx, scopeOf(request), id, objectBody(request.body));
            return { status: 200, body: planView(row), target: id };
          }),
      );
      scope.delete(
        '/plans/:planId',
        route('Delete Subscription Plan (soft: deletedAt)'),
        async (request, reply) =>
          write(request, reply, ctx, async (tx) => {
            const id = idParam('plan', (request.params as Params).planId, 'subscriptionPlanId');
            await deletePlan(tx, scopeOf(request), id);
            return { status: 204, body: undefined, target: id };
          }),
      );

      // Subscriptions ----------------------------------------------------------------------------------
      scope.post(
        '/subscriptions',
        route('Create Subscription (status created, billing agreement pending)'),
        async (request, reply) => {
          let clockId: string | null;
          try {
            clockId = await testClockFor(request, ctx, scopeOf(request));
          } catch (error) {
            return fail(request, reply, ctx, error);
          }
          return write(request, reply, ctx, async (tx) => {
            const row = await createSubscription(tx, scopeOf(request), objectBody(request.body), {
              testClockId: clockId,
              now,
            });
            const agreement = await agreementInfo(tx, scopeOf(request), row.billing_agreement_id);
            return { status: 201, body: subscriptionView(row, agreement), target: row.id };
          });
        },
      );
      scope.get(
        '/subscriptions',
        route('Get All Subscriptions (zero-based pages; filters)'),
        async (request) => {
          const q = request.query as Query;
          const p = pageQuery(q);
          const status =
            typeof q.status === 'string' &&
            ['created', 'active', 'paused', 'canceled', 'finished'].includes(q.status)
              ? q.status
              : undefined;
          const result = await listPage<SubscriptionRow>(
            db,
            'sp_subscriptions',
            scopeOf(request),
            listFilter(q, {
              status,
              planId: textFilter(q.planId, 53),
              customerAccountId: textFilter(q.customerAccountId, 125),
              externalMerchantId: textFilter(q.externalMerchantId),
            }),
            {
              status: 'status',
              planId: 'plan_id',
              customerAccountId: 'customer_account_id',
              externalMerchantId: 'external_merchant_id',
            },
            p,
          );
          return page(p, result, (row) => subscriptionView(row));
        },
      );
      scope.get('/subscriptions/:subscriptionId', route('Get Subscription'), async (request) => {
        const s = scopeOf(request);
        const row = await getSubscription(
          db,
          s,
          idParam('subscription', (request.params as Params).subscriptionId, 'subscriptionId'),
        );
        return subscriptionView(row, await agreementInfo(db, s, row.billing_agreement_id));
      });
      scope.patch(
        '/subscriptions/:subscriptionId',
        route('Update Subscription (addresses, consumer, billingCyclesRemaining, status pause/resume)'),
        async (request, reply) =>
          write(request, reply, ctx, async (tx) => {
            const s = scopeOf(request);
            const id = idParam('subscription', (request.params as Params).subscriptionId, 'subscriptionId');
            const current = await getSubscription(tx, s, id, true);
            const body = objectBody(request.body);
            const patch = parseSubscriptionPatch(body, current);
            if (current.status === 'canceled' || current.status === 'finished') {
              throw new SpError('INVALID_STATE', `The subscription is ${current.status}.`, 'subscriptionId');
            }
            const change = checkStatusChange(current, patch.status);
            const at = await nowFor(tx, current.test_clock_id, now);
            const json = (v: Json | null | undefined, old: Json | null) =>
              v === undefined ? (old ? JSON.stringify(old) : null) : v ? JSON.stringify(v) : null;
            const { rows } = await sql<SubscriptionRow>`
            UPDATE sp_subscriptions SET
              billing_address = ${json(patch.billingAddress, current.billing_address)}::jsonb,
              shipping_address = ${json(patch.shippingAddress, current.shipping_address)}::jsonb,
              consumer = ${json(patch.consumer, current.consumer)}::jsonb,
              business_consumer = ${json(patch.businessConsumer, current.business_consumer)}::jsonb,
              billing_cycles_remaining = ${patch.billingCyclesRemaining ?? current.billing_cycles_remaining},
              merchant_metadata = ${patch.merchantMetadata === undefined ? current.merchant_metadata : patch.merchantMetadata},
              updated_at = now()
             WHERE merchant_id = ${s.merchantId} AND environment = ${s.environment} AND id = ${id}
            RETURNING *`.execute(tx);
            let row = one(rows);
            await spEvent(tx, {
              ...s,
              eventType: 'updated',
              origin: 'api',
              objectType: 'subscription',
              objectId: id,
              status: row.status,
              data: subscriptionView(row),
              testClockId: row.test_clock_id,
            });
            if (change === 'pause') {
              const credit = await onPause(tx, row, at);
              const paused = await setSubscriptionStatus(
                tx,
                row,
                'paused',
                ['active'],
                sql`paused_at = ${at.toISOString()}::timestamptz, pause_credit_minor = ${String(credit)}, next_billing_date = NULL`,
                'api',
              );
              if (!paused)
                throw new SpError('INVALID_STATE', 'Only active subscriptions can be paused.', 'status');
              row = paused;
            } else if (change === 'resume') {
              const resumed = await setSubscriptionStatus(
                tx,
                row,
                'active',
                ['paused'],
                sql`paused_at = NULL`,
                'api',
              );
              if (!resumed)
                throw new SpError('INVALID_STATE', 'Only paused subscriptions can be resumed.', 'status');
              await onResume(tx, resumed, at);
              row = await getSubscription(tx, s, id);
            }
            return {
              status: 200,
              body: subscriptionView(row, await agreementInfo(tx, s, row.billing_agreement_id)),
              target: id,
            };
          }),
      );
      scope.delete(
        '/subscriptions/:subscriptionId',
        route('Delete Subscription (cancels it)'),
        async (request, reply) =>
          write(request, reply, ctx, async (tx) => {
            const s = scopeOf(request);
            const id = idParam('subscription', (request.params as Params).subscriptionId, 'subscriptionId');
            const current = await getSubscription(tx, s, id, true);
            if (current.status === 'canceled') return { status: 204, body: undefined, target: id };
            if (current.status === 'finished')
              throw new SpError('INVALID_STATE', 'The subscription has finished.', 'subscriptionId');
            await onCancel(tx, current);
            const canceled = await setSubscriptionStatus(
              tx,
              current,
              'canceled',
              ['created', 'active', 'paused'],
              sql`deleted_at = now(), next_billing_date = NULL`,
              'api',
            );
            if (canceled) {
              await spEvent(tx, {
                ...s,
                eventType: 'deleted',
                origin: 'api',
                objectType: 'subscription',
                objectId: id,
                status: 'canceled',
                data: subscriptionView(canceled),
                testClockId: canceled.test_clock_id,
              });
            }
            return { status: 204, body: undefined, target: id };
          }),
      );

      // Billing cycles and manual retries -------------------------------------------------------------
      const cycleOf = async (request: FastifyRequest) => {
        const s = scopeOf(request);
        const params = request.params as Params;
        const sub = await getSubscription(
          db,
          s,
          idParam('subscription', params.subscriptionId, 'subscriptionId'),
        );
        const cycleId = idParam('billingCycle', params.billingCycleId, 'billingCycleId');
        const { rows } = await sql<CycleRow>`
          SELECT * FROM sp_billing_cycles WHERE merchant_id = ${s.merchantId} AND environment = ${s.environment}
             AND id = ${cycleId} AND subscription_id = ${sub.id}`.execute(db);
        const cycle = rows[0];
        if (!cycle)
          throw new SpError('NOT_FOUND', `No billing cycle ${cycleId} on ${sub.id}.`, 'billingCycleId');
        return { s, sub, cycle };
      };
      const transactionsOf = async (cycleIds: string[]) => {
        if (cycleIds.length === 0) return new Map<string, TxRow[]>();
        const { rows } = await sql<TxRow>`
          SELECT * FROM sp_transactions WHERE billing_cycle_id IN (${sql.join(cycleIds)}) ORDER BY attempt_no`.execute(
          db,
        );
        const map = new Map<string, TxRow[]>();
        for (const row of rows)
          map.set(row.billing_cycle_id ?? '', [...(map.get(row.billing_cycle_id ?? '') ?? []), row]);
        return map;
      };
      scope.get(
        '/subscriptions/:subscriptionId/billing-cycles',
        route('Get All Billing Cycles (with their transactions)'),
        async (request) => {
          const s = scopeOf(request);
          const sub = await getSubscription(
            db,
            s,
            idParam('subscription', (request.params as Params).subscriptionId, 'subscriptionId'),
          );
          const p = pageQuery(request.query as Query);
          const { rows } = await sql<CycleRow & { total: string }>`
          SELECT *, count(*) OVER () AS total FROM sp_billing_cycles
           WHERE merchant_id = ${s.merchantId} AND environment = ${s.environment} AND subscription_id = ${sub.id}
           ORDER BY cycle_no LIMIT ${p.pageSize} OFFSET ${p.page * p.pageSize}`.execute(db);
          const txs = await transactionsOf(rows.map((r) => r.id));
          const count = rows[0] ? Number(rows[0].total) : 0;
          return page(p, { count, rows }, (row) => cycleView(row, txs.get(row.id)));
        },
      );
      scope.get(
        '/subscriptions/:subscriptionId/billing-cycles/:billingCycleId',
        route('Get Billing Cycle'),
        async (request) => {
          const { cycle } = await cycleOf(request);
          return cycleView(cycle, (await transactionsOf([cycle.id])).get(cycle.id));
        },
      );
      scope.post(
        '/subscriptions/:subscriptionId/billing-cycles/:billingCycleId/manual-retries',
        route('Create Manual Retry (Failed or Error cycles only)'),
        async (request, reply) => {
          try {
            const s = scopeOf(request);
            const params = request.params as Params;
            const subId = idParam('subscription', params.subscriptionId, 'subscriptionId');
            const cycleId = idParam('billingCycle', params.billingCycleId, 'billingCycleId');
            const result = await createManualRetry(deps, s, subId, cycleId, objectBody(request.body));
            return await respond(
              request,
              reply,
              ctx,
              201,
              retryView(result.retry, result.status),
              result.retry.id,
            );
          } catch (error) {
            return fail(request, reply, ctx, error);
          }
        },
      );
      scope.get(
        '/subscriptions/:subscriptionId/billing-cycles/:billingCycleId/manual-retries',
        route('Get All Manual Retries'),
        async (request) => {
          const { s, cycle } = await cycleOf(request);
          const rows = await listRetries(db, s, cycle.id);
          const p = pageQuery(request.query as Query);
          return page(
            p,
            { count: rows.length, rows: rows.slice(p.page * p.pageSize, (p.page + 1) * p.pageSize) },
            (r) => retryView(r),
          );
        },
      );
      scope.get(
        '/subscriptions/:subscriptionId/billing-cycles/:billingCycleId/manual-retries/:retryId',
        route('Get Manual Retry'),
        async (request) => {
          const { s, cycle } = await cycleOf(request);
          const retryId = idParam('retry', (request.params as Params).retryId, 'retryId');
          const found = (await listRetries(db, s, cycle.id)).find((r) => r.id === retryId);
          if (!found) throw new SpError('NOT_FOUND', `No manual retry ${retryId}.`, 'retryId');
          return retryView(found);
        },
      );

      // Payment series ---------------------------------------------------------------------------------
      scope.post('/payment-series', route('Create Payment Serie'), async (request, reply) => {
        let clockId: string | null;
        try {
          clockId = await testClockFor(request, ctx, scopeOf(request));
        } catch (error) {
          return fail(request, reply, ctx, error);
        }
        return write(request, reply, ctx, async (tx) => {
          const row = await createSeries(tx, scopeOf(request), objectBody(request.body), clockId);
          return { status: 201, body: seriesView(row), target: row.id };
        });
      });
      scope.get('/payment-series', route('Get All Payment Series'), async (request) => {
        const q = request.query as Query;
        const p = pageQuery(q);
        const result = await listPage<SeriesRow>(
          db,
          'sp_payment_series',
          scopeOf(request),
          listFilter(q, {
            externalMerchantId: textFilter(q.externalMerchantId),
            externalReference: textFilter(q.externalReference),
            customerAccountId: textFilter(q.customerAccountId, 125),
          }),
          {
            externalMerchantId: 'external_merchant_id',
            externalReference: 'external_reference',
            customerAccountId: 'customer_account_id',
          },
          p,
        );
        return page(p, result, (row) => seriesView(row));
      });
      scope.get('/payment-series/:seriesId', route('Get Payment Serie'), async (request) => {
        const s = scopeOf(request);
        const row = await getSeries(
          db,
          s,
          idParam('paymentSeries', (request.params as Params).seriesId, 'paymentSeriesId'),
        );
        return seriesView(row, await agreementInfo(db, s, row.billing_agreement_id));
      });
      scope.patch('/payment-series/:seriesId', route('Update Payment Serie'), async (request, reply) =>
        write(request, reply, ctx, async (tx) => {
          const s = scopeOf(request);
          const id = idParam('paymentSeries', (request.params as Params).seriesId, 'paymentSeriesId');
          const row = await updateSeries(tx, s, id, objectBody(request.body));
          return {
            status: 200,
            body: seriesView(row, await agreementInfo(tx, s, row.billing_agreement_id)),
            target: id,
          };
        }),
      );
      scope.post(
        '/payment-series/:seriesId/transactions',
        route('Create PS Transaction (charges the stored card at once)'),
        async (request, reply) => {
          try {
            const s = scopeOf(request);
            const id = idParam('paymentSeries', (request.params as Params).seriesId, 'paymentSeriesId');
            const { t, series } = await createSeriesTransaction(deps, s, id, objectBody(request.body));
            return await respond(request, reply, ctx, 201, await transactionView(db, t, series), t.id);
          } catch (error) {
            return fail(request, reply, ctx, error);
          }
        },
      );
      scope.get(
        '/payment-series/:seriesId/transactions',
        route('Get All PS Transactions'),
        async (request) => {
          const s = scopeOf(request);
          const series = await getSeries(
            db,
            s,
            idParam('paymentSeries', (request.params as Params).seriesId, 'paymentSeriesId'),
          );
          const p = pageQuery(request.query as Query);
          const { rows } = await sql<TxRow & { total: string }>`
          SELECT *, count(*) OVER () AS total FROM sp_transactions
           WHERE merchant_id = ${s.merchantId} AND environment = ${s.environment} AND series_id = ${series.id}
           ORDER BY created_at, id LIMIT ${p.pageSize} OFFSET ${p.page * p.pageSize}`.execute(db);
          const data = await Promise.all(rows.map((row) => transactionView(db, row, series)));
          return {
            page: p.page,
            pageSize: p.pageSize,
            count: rows[0] ? Number(rows[0].total) : 0,
            totalPages: Math.ceil((rows[0] ? Number(rows[0].total) : 0) / p.pageSize),
            data,
          };
        },
      );
      scope.get(
        '/payment-series/:seriesId/transactions/:transactionId',
        route('Get PS Transaction'),
        async (request) => {
          const s = scopeOf(request);
          const params = request.params as Params;
          const series = await getSeries(db, s, idParam('paymentSeries', params.seriesId, 'paymentSeriesId'));
          const t = await getSeriesTransaction(
            db,
            s,
            series.id,
            idParam('transaction', params.transactionId, 'transactionId'),
          );
          return transactionView(db, t, series);
        },
      );
    },
    { prefix: basePath },
  );
}

function listFilter(q: Query, text: Record<string, string | undefined>) {
  return {
    createdAtLte: dateFilter(q.createdAtLte),
    createdAtGte: dateFilter(q.createdAtGte),
    updatedAtLte: dateFilter(q.updatedAtLte),
    updatedAtGte: dateFilter(q.updatedAtGte),
    deleted: boolFilter(q.deleted),
    text,
  };
}

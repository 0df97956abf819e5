import { Type } from 'typebox';
import { verifyLedger } from '../core/ledger/verify.js';
import type { App, RouteContext } from '../http/app.js';
import { runMutation } from '../http/mutation.js';
import { pageOf, pageSizeDefault, pageSizeMax } from '../http/pagination.js';
import { commonErrors, IdempotencyHeaders } from '../http/schemas.js';
import { jobView, listAllPayments, listJobs, retryJob, systemHealth } from './queries.js';

const Loose = Type.Object({}, { additionalProperties: true });
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: pageSizeDefault }));

/** Operator endpoints behind the console pages that the platform API did not have yet. */
export function consoleApiRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const config = { auth: 'operator' as const };
  const security = [{ operatorKey: [] }];

  app.get(
    '/v1/system/health',
    {
      config,
      schema: {
        tags: ['operator'],
        summary: 'System health: database, migrations applied, job queue depth, failed jobs, busy workers.',
        security,
        response: { 200: Loose, ...commonErrors },
      },
    },
    async () => systemHealth(db),
  );

  app.get(
    '/v1/ledger/verify',
    {
      config,
      schema: {
        tags: ['operator'],
        summary: 'Run `ledger verify`: every transaction balances and balances match their entries.',
        security,
        response: { 200: Loose, ...commonErrors },
      },
    },
    async () => verifyLedger(db),
  );

  app.get(
    '/v1/jobs',
    {
      config,
      schema: {
        tags: ['operator'],
        summary: 'Durable jobs, newest first, by state.',
        security,
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Enum(['queued', 'running', 'failed'])),
            limit: Limit,
            starting_after: Type.Optional(Type.String({ pattern: '^\\d{1,19}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Loose, ...commonErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listJobs(db, {
        limit,
        ...(request.query.state ? { state: request.query.state } : {}),
        ...(request.query.starting_after ? { before: BigInt(request.query.starting_after) } : {}),
      });
      return pageOf(rows, limit, jobView, (r) => r.id.toString());
    },
  );

  app.post(
    '/v1/jobs/:id/retry',
    {
      config: { ...config, auditTarget: 'id' },
      schema: {
        tags: ['operator'],
        summary: 'Run a failed job again (due now, fresh attempts).',
        security,
        headers: IdempotencyHeaders,
        params: Type.Object({ id: Type.String({ pattern: '^\\d{1,19}$' }) }, { additionalProperties: false }),
        response: { 200: Loose, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: jobView(await retryJob(tx, BigInt(request.params.id))),
      })),
  );

  app.get(
    '/v1/operator/payments',
    {
      config,
      schema: {
        tags: ['operator'],
        summary: 'Payments across merchants, newest first (filter by merchant, environment, status).',
        security,
        querystring: Type.Object(
          {
            merchant_id: Type.Optional(Type.String({ maxLength: 64 })),
            environment: Type.Optional(Type.Enum(['sandbox', 'production'])),
            status: Type.Optional(
              Type.Enum([
                'pending',
                'authorized',
                'captured',
                'voided',
                'expired',
                'succeeded',
                'failed',
                'unknown',
              ]),
            ),
            limit: Limit,
            starting_after: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Loose, ...commonErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? pageSizeDefault;
      const rows = await listAllPayments(db, {
        limit,
        ...(q.merchant_id ? { merchantId: q.merchant_id } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.starting_after ? { startingAfter: q.starting_after } : {}),
      });
      return pageOf(
        rows,
        limit,
        (p) => ({
          id: p.id,
          merchant_id: p.merchant_id,
          environment: p.environment,
          product: p.product,
          status: p.status,
          amount_minor: p.amount_minor.toString(),
          currency: p.currency,
          created_at: p.created_at.toISOString(),
        }),
        (p) => p.id,
      );
    },
  );
}

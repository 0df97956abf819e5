import { Type } from 'typebox';
import { auditView, listAudit } from '../../core/audit/audit.js';
import { AppError } from '../../core/errors/errors.js';
import type { App, RouteContext } from '../app.js';
import { pageEnvelope, pageOf, pageSizeDefault, pageSizeMax } from '../pagination.js';
import { AuditEntry, commonErrors } from '../schemas.js';

export function auditRoutes(app: App, ctx: RouteContext): void {
  app.get(
    '/v1/audit-log',
    {
      config: { auth: 'operator' },
      schema: {
        tags: ['operator'],
        summary: 'Every mutating call: actor, merchant, environment, action, request id and outcome.',
        security: [{ operatorKey: [] }],
        querystring: Type.Object(
          {
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: pageSizeMax, default: pageSizeDefault }),
            ),
            starting_after: Type.Optional(Type.String({ maxLength: 20 })),
            merchant_id: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(AuditEntry), ...commonErrors },
      },
    },
    async (request) => {
      const { limit = pageSizeDefault, starting_after: after, merchant_id: merchantId } = request.query;
      if (after !== undefined && !/^\d{1,19}$/.test(after)) {
        throw new AppError('invalid_cursor', undefined, { field: 'starting_after' });
      }
      const rows = await listAudit(ctx.database.db, {
        limit,
        ...(merchantId ? { merchantId } : {}),
        ...(after !== undefined ? { before: BigInt(after) } : {}),
      });
      return pageOf(rows, limit, auditView, (r) => r.id.toString());
    },
  );
}

import { sql } from 'kysely';
import { Type } from 'typebox';
import { migrationsCurrent } from '../../core/db/migrate.js';
import type { App, RouteContext } from '../app.js';

export function systemRoutes(app: App, ctx: RouteContext): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness: the process answers.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['system'],
        summary: 'Readiness: the database answers and every migration is applied.',
        response: {
          200: Type.Object({ status: Type.Literal('ready') }),
          503: Type.Object({ status: Type.Literal('not_ready'), reason: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await sql`SELECT 1`.execute(ctx.database.db);
        if (!(await migrationsCurrent(ctx.database.db, [...ctx.migrations]))) {
          return reply.code(503).send({ status: 'not_ready' as const, reason: 'migrations pending' });
        }
        return { status: 'ready' as const };
      } catch {
        return reply.code(503).send({ status: 'not_ready' as const, reason: 'database unreachable' });
      }
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

import { timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { runDatabaseCommand, isDatabaseCommand } from '../../commands.js';
import { AppError } from '../../core/errors/errors.js';
import type { App, RouteContext } from '../app.js';

/**
 * Lets the local CLI run its database commands inside this process when the process owns an embedded
 * data directory (a second process must not open it). Only exists in embedded mode; the token is in the
 * 0600 lock file inside the data directory, so only a local user who can read that directory can call it.
 */
export function controlRoutes(app: App, ctx: RouteContext): void {
  const token = ctx.controlToken;
  if (!token) return;
  const expected = Buffer.from(token);
  app.post(
    '/internal/cli',
    {
      schema: {
        hide: true,
        body: Type.Object(
          { args: Type.Array(Type.String({ maxLength: 200 }), { minItems: 1, maxItems: 20 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const presented = Buffer.from(String(request.headers['x-payloom-control'] ?? ''));
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw new AppError('unauthenticated', 'Control token missing or wrong.');
      }
      if (!isDatabaseCommand(request.body.args[0])) throw new AppError('not_found', 'No such command.');
      return runDatabaseCommand(request.body.args, { database: ctx.database, config: ctx.config });
    },
  );
}

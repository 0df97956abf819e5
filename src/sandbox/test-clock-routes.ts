import { Type } from 'typebox';
import {
  createTestClock,
  getTestClock,
  listTestClocks,
  moveTestClock,
  testClockView,
} from '../core/clocks/test-clocks.js';
import { transaction } from '../core/db/db.js';
import { AppError } from '../core/errors/errors.js';
import { runClockJobs } from '../core/jobs/runner.js';
import type { App, RouteContext } from '../http/app.js';
import { runMutation } from '../http/mutation.js';
import { merchantOf } from '../http/principal.js';
import { commonErrors, IdempotencyHeaders, IdParams } from '../http/schemas.js';

const TestClock = Type.Object({
  id: Type.String(),
  name: Type.String(),
  frozen_time: Type.String({ format: 'date-time' }),
  created_at: Type.String({ format: 'date-time' }),
});

/**
 * Sandbox time travel. Production keys get 404 here: production objects always use real time.
 * Advancing runs the clock's due work before answering, so the caller sees its effects at once.
 */
export function testClockRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const config = { auth: 'merchant' as const, auditTarget: 'id' };
  const security = [{ merchantKey: [] }];
  const sandboxOnly = (environment: string) => {
    if (environment !== 'sandbox') throw new AppError('not_found', 'Test clocks exist only in the sandbox.');
  };

  app.post(
    '/v1/sandbox/test-clocks',
    {
      config,
      schema: {
        tags: ['sandbox'],
        summary: 'Create a test clock frozen at a time.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            frozen_time: Type.String({ format: 'date-time' }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: TestClock, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        sandboxOnly(principal.environment);
        const row = await createTestClock(tx, {
          merchantId: principal.merchantId,
          frozenTime: new Date(request.body.frozen_time),
          ...(request.body.name !== undefined ? { name: request.body.name } : {}),
        });
        return { status: 201, body: testClockView(row), targetId: row.id };
      }),
  );

  app.get(
    '/v1/sandbox/test-clocks',
    {
      config,
      schema: {
        tags: ['sandbox'],
        summary: 'List test clocks.',
        security,
        response: { 200: Type.Object({ data: Type.Array(TestClock) }), ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      sandboxOnly(principal.environment);
      return { data: (await listTestClocks(db, principal.merchantId)).map(testClockView) };
    },
  );

  app.get(
    '/v1/sandbox/test-clocks/:id',
    {
      config,
      schema: {
        tags: ['sandbox'],
        summary: 'Get a test clock.',
        security,
        params: IdParams,
        response: { 200: TestClock, ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      sandboxOnly(principal.environment);
      return testClockView(await getTestClock(db, principal.merchantId, request.params.id));
    },
  );

  app.post(
    '/v1/sandbox/test-clocks/:id/advance',
    {
      config,
      schema: {
        tags: ['sandbox'],
        summary: 'Move the clock forward; due work of objects on this clock runs before the answer.',
        security,
        headers: IdempotencyHeaders,
        params: IdParams,
        body: Type.Object(
          { frozen_time: Type.String({ format: 'date-time' }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ ...TestClock.properties, jobs_run: Type.Integer() }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const principal = merchantOf(request.principal);
      sandboxOnly(principal.environment);
      const id = request.params.id;
      // The move commits first, then the due work runs job by job in its own transactions, exactly as a
      // worker would run it; the answer (stored for Idempotency-Key replays) comes last. A retry after a
      // crash in between moves the clock to the same time (a no-op) and runs what is still due.
      await transaction(db, (tx) =>
        moveTestClock(tx, principal.merchantId, id, new Date(request.body.frozen_time)),
      );
      const ran = await runClockJobs(db, ctx.jobHandlers, id, request.log);
      return runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: { ...testClockView(await getTestClock(tx, principal.merchantId, id)), jobs_run: ran },
      }));
    },
  );
}

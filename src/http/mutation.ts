import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditValues } from '../core/audit/audit.js';
import { transaction, type Db, type Tx } from '../core/db/db.js';
import { AppError } from '../core/errors/errors.js';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  parseIdempotencyKey,
  releaseIdempotencyKey,
  requestFingerprint,
} from '../core/idempotency/idempotency.js';
import { principalActor, principalScope } from './principal.js';
import { problemFor, toAppError } from './problem.js';

export interface MutationResult<T> {
  status: number;
  body: T;
  /** The object the audit row names (a created id); defaults to the route's target parameter. */
  targetId?: string;
}

const jsonType = 'application/json; charset=utf-8';

/**
 * preHandler for writes: validates the Idempotency-Key and claims it (or replays / rejects). Runs after
 * authentication, rate limiting and schema validation, so requests rejected before execution are
 * never stored.
 */
export async function claimIdempotency(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Db,
  ttlHours: number,
) {
  const key = parseIdempotencyKey(request.headers['idempotency-key']);
  if (key === undefined || !request.principal) return;
  const scope = principalScope(request.principal);
  const claim = await claimIdempotencyKey(db, {
    scope,
    key,
    fingerprint: requestFingerprint(
      request.method,
      request.routeOptions.url ?? request.url,
      request.params,
      request.body,
    ),
    ttlHours,
  });
  switch (claim.kind) {
    case 'claimed':
      request.idempotency = { scope, key };
      return;
    case 'in_use':
      throw new AppError('idempotency_key_in_use');
    case 'mismatch':
      throw new AppError('idempotency_key_reused');
    case 'replay':
      request.audited = true;
      return reply
        .code(claim.status)
        .header('idempotent-replayed', 'true')
        .type(claim.contentType)
        .send(claim.body);
  }
}

/**
 * Runs a write: the effect, the stored idempotent response and the audit row commit in one transaction.
 * An expected failure (AppError) rolls the effect back and its response is stored for replay; an
 * unexpected one gives the key back, since nothing was written.
 */
export async function runMutation<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Db,
  work: (tx: Tx) => Promise<MutationResult<T>>,
): Promise<FastifyReply> {
  const idempotency = request.idempotency;
  const audit = (status: number, targetId: string | undefined) =>
    auditValues({
      ...principalActor(request.principal),
      action: `${request.method} ${request.routeOptions.url ?? request.url}`,
      targetId: targetId ?? auditTarget(request) ?? null,
      requestId: request.id,
      statusCode: status,
    });
  try {
    const result = await transaction(db, async (tx) => {
      const outcome = await work(tx);
      const body = JSON.stringify(outcome.body, bigintReplacer);
      await tx.insertInto('audit_log').values(audit(outcome.status, outcome.targetId)).execute();
      if (idempotency) {
        await completeIdempotencyKey(tx, {
          ...idempotency,
          status: outcome.status,
          contentType: jsonType,
          body,
        });
      }
      return { status: outcome.status, body };
    });
    request.audited = true;
    return reply.code(result.status).type(jsonType).send(result.body);
  } catch (thrown) {
    const error = toAppError(thrown);
    if (error.status >= 500) {
      if (idempotency) await releaseIdempotencyKey(db, idempotency);
      throw thrown;
    }
    const body = JSON.stringify(problemFor(error, request.id));
    await db.insertInto('audit_log').values(audit(error.status, undefined)).execute();
    request.audited = true;
    if (idempotency) {
      await completeIdempotencyKey(db, {
        ...idempotency,
        status: error.status,
        contentType: 'application/problem+json',
        body,
      });
    }
    for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
    return reply.code(error.status).type('application/problem+json').send(body);
  }
}

export function auditTarget(request: FastifyRequest): string | undefined {
  const name = request.routeOptions.config.auditTarget;
  if (!name) return undefined;
  const params = request.params as Record<string, unknown> | undefined;
  const value = params?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

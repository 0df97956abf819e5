import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import cluster from 'node:cluster';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { stdSerializers, type DestinationStream } from 'pino';
import type { Config } from '../config.js';
import { auditValues } from '../core/audit/audit.js';
import { authenticateOperator, authenticateSecret } from '../core/credentials/credentials.js';
import type { DatabaseHandle } from '../core/db/db.js';
import type { Migration } from '../core/db/migrate.js';
import { AppError } from '../core/errors/errors.js';
import { newId } from '../core/ids/ids.js';
import type { JobHandlers } from '../core/jobs/runner.js';
import type { KeyRing } from '../core/secrets/keys.js';
import type { CarrierConnector } from '../connectors/contracts/carrier.js';
import type { Clock } from '../core/time/clock.js';
import { HttpMetrics } from './metrics.js';
import { auditTarget, claimIdempotency } from './mutation.js';
import { principalActor, principalScope, type AuthRequirement } from './principal.js';
import { sendProblem, toAppError } from './problem.js';
import { validatorCompiler } from './validation.js';
import { registerRoutes } from './routes/index.js';
import { authenticateSession } from '../portal/session-auth.js';
import { registerPortal } from '../portal/register.js';

export interface AppContext {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly migrations: readonly Migration[];
  readonly clock: Clock;
  /** Where logs go (tests capture them); defaults to stdout. */
  readonly logStream?: DestinationStream;
  /** Token that lets the local CLI run commands in this process (embedded mode); see cli.ts. */
  readonly controlToken?: string;
  /** Job handlers by queue: test-clock advances run due work in the API process. */
  readonly jobHandlers: JobHandlers;
  /** Keys derived from the master key (PIN pepper, MSISDN encryption…). */
  readonly keys: KeyRing;
  /** Connectors of this process by kind and id (sandbox: the simulators). */
  readonly connectors: { readonly carriers: ReadonlyMap<string, CarrierConnector> };
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Headers and fields whose values are secrets: never logged. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-infomedia-api-key"]',
  'req.headers["x-ibm-client-secret"]',
  'req.headers["x-payloom-control"]',
  'req.headers.cookie',
  '*.secret',
  '*.password',
  '*.pin',
  '*.PIN',
  '*.p',
  '*.cardNumber',
  '*.card_number',
  '*.pan',
];

/**
 * Database errors carry the failing query's parameters (PGlite includes them), which can hold secrets
 * or their hashes: logs keep the message, code and stack only.
 */
export function serializeError(error: Error): ReturnType<typeof stdSerializers.err> {
  const serialized = { ...stdSerializers.err(error) };
  for (const field of ['params', 'parameters', 'query', 'detail', 'where']) delete serialized[field];
  return serialized;
}

export async function buildApp(ctx: AppContext): Promise<App> {
  const { config, database } = ctx;
  const processes = cluster.isWorker ? config.apiProcesses : 1;
  const perProcess = (limit: number) => Math.max(1, Math.ceil(limit / processes));
  const db = database.db;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: { err: serializeError },
      ...(ctx.logStream ? { stream: ctx.logStream } : {}),
    },
    genReqId: () => newId('request'),
    requestIdHeader: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: true,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // JSON only: any other content type with a body is 415 (Fastify would otherwise accept text/plain).
  app.removeContentTypeParser(['text/plain']);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('idempotency', undefined);
  app.decorateRequest('audited', false);

  const metrics = new HttpMetrics(() => database.poolStats());
  const routes: string[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = route.schema?.hide === true;
    for (const method of methods) routes.push(`${hidden ? 'hidden:' : ''}${method} ${route.url}`);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Payloom native API',
        version: '1.0.0',
        description:
          'Merchants, credentials, product access, payments and sandbox tools. Errors are RFC 9457 ' +
          'problem+json with a stable `code` and a `request_id`. Every write accepts `Idempotency-Key`.',
      },
      servers: [{ url: config.baseUrl }],
      components: {
        securitySchemes: {
          operatorKey: { type: 'http', scheme: 'bearer', description: 'Operator API key (pl_op_…)' },
          merchantKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'Merchant native key: pl_test_… (sandbox) or pl_live_… (production)',
          },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(fastifyCookie);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    await authenticate(request, requirementOf(request), ctx);
  });

  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preValidation',
    timeWindow: 1000,
    // Counters live in each api process; the cluster spreads connections round-robin over them, so each
    // process allows its share of the configured rate.
    max: (request) =>
      perProcess(
        request.principal?.kind === 'merchant' && request.principal.environment === 'sandbox'
          ? config.rateLimitSandboxPerSecond
          : config.rateLimitProductionPerSecond,
      ),
    keyGenerator: (request) => (request.principal ? principalScope(request.principal) : request.ip),
    allowList: (request) => request.principal === undefined,
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `Rate limit of ${context.max} requests per second exceeded.`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      }),
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!mutatingMethods.has(request.method) || requirementOf(request) === 'public') return;
    return claimIdempotency(request, reply, db, config.idempotencyTtlHours);
  });

  // Writes that failed before or outside their transaction are audited after the fact, but before the
  // response leaves: a client that has its answer can already find the audit row.
  app.addHook('onSend', async (request, reply, payload) => {
    if (mutatingMethods.has(request.method) && request.principal && !request.audited) {
      request.audited = true;
      await db
        .insertInto('audit_log')
        .values(
          auditValues({
            ...principalActor(request.principal),
            action: `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
            targetId: auditTarget(request) ?? null,
            requestId: request.id,
            statusCode: reply.statusCode,
          }),
        )
        .execute()
        .catch((error: unknown) => request.log.error({ err: error }, 'audit write failed'));
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, request, appError);
  });
  app.setNotFoundHandler(async (request, reply) =>
    sendProblem(
      reply,
      request,
      new AppError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  await registerRoutes(app, { ...ctx, metrics });
  await registerPortal(app, { ...ctx, metrics });
  return app;
}

const routeLists = new WeakMap<object, string[]>();

/** Every route registered on `app`, as `METHOD /path` (`hidden:` first when left out of OpenAPI). */
export function registeredRoutes(app: App): readonly string[] {
  return routeLists.get(app) ?? [];
}

function requirementOf(request: FastifyRequest): AuthRequirement {
  return request.routeOptions.config?.auth ?? 'public';
}

async function authenticate(
  request: FastifyRequest,
  requirement: AuthRequirement,
  ctx: AppContext,
): Promise<void> {
  if (requirement === 'public') return;
  const header = request.headers.authorization;
  if (header === undefined) {
    // No credential: a signed-in person's session cookie (with CSRF on writes), same authorization.
    const principal = await authenticateSession(request, requirement, ctx);
    if (principal) {
      request.principal = principal;
      return;
    }
  }
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const token = match?.[1];
  if (!token) throw new AppError('unauthenticated', 'Send the API key as `Authorization: Bearer <key>`.');
  if (token.startsWith('pl_op_')) {
    const operator = await authenticateOperator(ctx.database.db, token);
    if (!operator) throw new AppError('unauthenticated', 'The API key is not valid.');
    if (requirement === 'merchant') {
      throw new AppError(
        'forbidden',
        'This endpoint is for merchant keys; operators use /v1/merchants/{id}/….',
      );
    }
    request.principal = { kind: 'operator', operatorKeyId: operator.operatorKeyId };
    return;
  }
  const credential = await authenticateSecret(ctx.database.db, 'native', token);
  if (!credential) throw new AppError('unauthenticated', 'The API key is not valid, expired or revoked.');
  if (!credential.merchantActive) throw new AppError('merchant_disabled');
  if (requirement === 'operator') throw new AppError('forbidden', 'This endpoint needs an operator key.');
  request.principal = {
    kind: 'merchant',
    merchantId: credential.merchantId,
    environment: credential.environment,
    credentialId: credential.credentialId,
  };
}

export type RouteContext = AppContext & { readonly metrics: HttpMetrics };
export type Reply = FastifyReply;

import { randomUUID } from 'node:crypto';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isAppError } from '../../core/errors/errors.js';
import { hashSecret, sameSecretHash } from '../../core/secrets/secrets.js';
import type { App, RouteContext } from '../../http/app.js';
import {
  issueToken,
  realmOf,
  realms,
  refreshTokenSeconds,
  signatureMatches,
  signingSecretOf,
  verifyToken,
  accessTokenSeconds,
} from './auth.js';
import { paydCodes, paydMessages } from './codes.js';
import { asObject, PaydFieldError, type Body } from './fields.js';
import {
  financialTerms,
  inFlightCheck,
  mnoLookup,
  productLookup,
  tokenLookup,
  transactionLookup,
} from './lookups.js';
import { authenticateClient, clientForToken, type ClientRow } from './repo.js';
import { PaydRejection, submit, validateAccount, type BillPaymentDeps, type PaydAnswer } from './service.js';

/** The gateway prefix of every Payd API (`apiBaseUrl` in the demo credentials). */
export const gatewayPrefix = '/apiman-gateway/PaydServices';

/** The public paths; those the vendor does not publish follow its pattern (see README.md). */
export const paydPaths = {
  validate: `${gatewayPrefix}/customerAccountValidation/1.0/validate`,
  productLookup: `${gatewayPrefix}/productLookup/2.0`,
  financialTerms: `${gatewayPrefix}/financial-terms/1.0`,
  transact: `${gatewayPrefix}/transact/4.0`,
  reserveAndTransact: `${gatewayPrefix}/reserveAndTransact/4.0`,
  transactionLookup: `${gatewayPrefix}/lookup-api/2.0`,
  inFlight: `${gatewayPrefix}/in-flight-transaction-check/1.0`,
  tokenLookup: `${gatewayPrefix}/tokenLookup/1.0`,
  mnoLookup: `${gatewayPrefix}/mnoLookup/1.0`,
} as const;

const clients = new WeakMap<FastifyRequest, ClientRow>();
const rawBodies = new WeakMap<FastifyRequest, Buffer>();
/** The body of a request whose JSON did not parse: answered `4000 Transaction request not valid`. */
const unparsable = Object.freeze({ unparsable: true });

const tags = ['bill-payment (Clickatell Payd)'];

export function dialectRoutes(app: App, ctx: RouteContext, deps: BillPaymentDeps): Promise<void> {
  return Promise.all([
    app.register(async (scope) => tokenRoute(scope as unknown as App, ctx, deps)),
    app.register(async (scope) => apiRoutes(scope as unknown as App, ctx, deps)),
  ]).then(() => undefined);
}

// ---------------------------------------------------------------------------------------------------
// Security Service: the Keycloak-shaped token endpoint (form-encoded, in its own encapsulated scope)

async function tokenRoute(scope: App, ctx: RouteContext, deps: BillPaymentDeps): Promise<void> {
  await scope.register(fastifyFormbody, { bodyLimit: 4096 });
  scope.post(
    '/auth/realms/:realm/protocol/openid-connect/token',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary:
          'Security Service: client_credentials token (form-encoded client_id, client_secret, grant_type). ' +
          'Realms: SANDBOX-API (alias UAT-API) and PROD-API.',
        params: Type.Object({ realm: Type.String({ maxLength: 64 }) }),
      },
      // Fastify awaits an async error handler (the promise is not lost).
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      errorHandler: async (_error, _request, reply) =>
        reply.code(400).send({ error: 'invalid_request', error_description: 'Malformed token request' }),
    },
    async (request, reply) => {
      const environment = realms[request.params.realm];
      if (!environment) return reply.code(404).send({ error: 'Realm does not exist' });
      const form = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
        string,
        unknown
      >;
      let clientIdText = typeof form.client_id === 'string' ? form.client_id : undefined;
      let secret = typeof form.client_secret === 'string' ? form.client_secret : undefined;
      const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (basic) {
        const [user, pass] = Buffer.from(basic, 'base64').toString('utf8').split(':');
        clientIdText ??= user;
        secret ??= pass;
      }
      const grantType = form.grant_type;
      if (grantType !== 'client_credentials' || String(grantType).length > 100) {
        return reply
          .code(400)
          .send({ error: 'unsupported_grant_type', error_description: 'invalid GRANT_TYPE' });
      }
      const unknownClient = {
        error: 'invalid_client',
        error_description: 'UNKNOWN_CLIENT: Client was not identified by any client authenticator',
      };
      if (clientIdText === undefined || !/^\d{1,9}$/.test(clientIdText))
        return reply.code(400).send(unknownClient);
      const client = await clientForToken(deps.db, Number(clientIdText));
      if (!client || client.environment !== environment || !client.active)
        return reply.code(400).send(unknownClient);
      if (
        secret === undefined ||
        secret.length > 255 ||
        !sameSecretHash(client.secret_hash, hashSecret(secret))
      ) {
        return reply
          .code(400)
          .send({ error: 'unauthorized_client', error_description: 'Invalid client secret' });
      }
      const nowSeconds = Math.floor(deps.clock.now().getTime() / 1000);
      const claims = { clientId: client.client_id, environment, nowSeconds };
      const accessToken = issueToken(deps.keys.token, { ...claims, typ: 'Bearer' });
      return reply.header('cache-control', 'no-store').send({
        access_token: accessToken,
        expires_in: accessTokenSeconds,
        refresh_expires_in: String(refreshTokenSeconds),
        refresh_token: issueToken(deps.keys.token, { ...claims, typ: 'Refresh' }),
        token_type: 'bearer',
        id_token: accessToken,
        'not-before-policy': 0,
        session_state: randomUUID(),
        scope: 'profile email',
      });
    },
  );
  void ctx;
  void realmOf;
}

// ---------------------------------------------------------------------------------------------------
// The gateway APIs: bearer token + X-API-Key, JSON kept as raw bytes for the Signature check

async function apiRoutes(scope: App, ctx: RouteContext, deps: BillPaymentDeps): Promise<void> {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    rawBodies.set(request, raw);
    if (raw.length === 0) return done(null, unparsable);
    try {
      done(null, JSON.parse(raw.toString('utf8')) as unknown);
    } catch {
      done(null, unparsable);
    }
  });

  const onRequest = async (request: FastifyRequest, reply: FastifyReply) =>
    authenticate(request, reply, deps);
  const errorHandler = async (error: Error, request: FastifyRequest, reply: FastifyReply) => {
    if (isAppError(error) && error.code === 'rate_limited') {
      return reply
        .code(429)
        .headers(error.headers)
        .send({ responseCode: paydCodes.rateLimited, responseMessage: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(400)
        .send({ responseCode: paydCodes.badRequest, responseMessage: paydMessages.unparsable });
    }
    request.log.error({ err: error }, 'bill-payment request failed');
    return reply
      .code(200)
      .send({ responseCode: paydCodes.unexpected, responseMessage: paydMessages.unexpected });
  };
  const route = { config: { auth: 'public' as const }, onRequest, errorHandler };

  const post = (
    path: string,
    summary: string,
    handler: (client: ClientRow, body: Body) => Promise<PaydAnswer>,
    options: { signed?: boolean; transact?: boolean } = {},
  ) =>
    scope.post(path, { ...route, schema: { tags, summary } }, async (request, reply) => {
      const client = clientOf(request);
      const extra = options.transact ? { raasTxnRef: null } : {};
      if (options.signed && client.signature_required) {
        const raw = rawBodies.get(request) ?? Buffer.alloc(0);
        const secret = signingSecretOf(deps.keys.signing, client.client_id);
        if (!signatureMatches(secret, raw, request.headers.signature)) {
          return reply.code(400).send({
            responseCode: paydCodes.badRequest,
            responseMessage: paydMessages.signatureInvalid,
            ...extra,
          });
        }
      }
      return send(
        reply,
        () => {
          if (request.body === unparsable || request.body === undefined) {
            throw new PaydFieldError('body', 'unparsable', paydMessages.unparsable);
          }
          return handler(client, asObject(request.body));
        },
        extra,
      );
    });

  const get = (
    path: string,
    summary: string,
    handler: (client: ClientRow, query: Body) => Promise<PaydAnswer>,
  ) =>
    scope.get(path, { ...route, schema: { tags, summary } }, async (request, reply) =>
      send(reply, () => handler(clientOf(request), (request.query ?? {}) as Body), {}),
    );

  post(paydPaths.validate, 'Customer Account Validation (seed 002).', (client, body) =>
    validateAccount(deps, client, body),
  );
  post(
    paydPaths.transact,
    'Transact: the client reserved the funds (reserveFundsTxnRef); answered at once, result by Transact Result.',
    (client, body) => submit(deps, client, 'transact', body),
    { signed: true, transact: true },
  );
  post(
    paydPaths.reserveAndTransact,
    'Reserve and Transact: Payloom reserves at the funding source, vends, sends Transact Result.',
    (client, body) => submit(deps, client, 'reserve_and_transact', body),
    { signed: true, transact: true },
  );
  post(paydPaths.inFlight, 'In-Flight Transaction Check.', (client, body) =>
    inFlightCheck(deps, client, body),
  );
  get(paydPaths.productLookup, 'Product Lookup: the products enabled for the client.', (client, query) =>
    productLookup(deps, client, query),
  );
  get(
    paydPaths.financialTerms,
    'Financial Terms Lookup with a lookupReference valid 15 minutes.',
    (client, query) => financialTerms(deps, client, query),
  );
  get(paydPaths.transactionLookup, 'Transaction Lookup (last 30 days).', (client, query) =>
    transactionLookup(deps, client, query),
  );
  get(
    paydPaths.tokenLookup,
    'Token Lookup: re-show vouchers and electricity tokens to their buyer.',
    (client, query) => tokenLookup(deps, client, query),
  );
  get(paydPaths.mnoLookup, 'MNO Lookup: MSISDN to operator (codes 9010-9090).', (client, query) =>
    mnoLookup(deps, client, query),
  );
  void ctx;
}

function clientOf(request: FastifyRequest): ClientRow {
  const client = clients.get(request);
  if (!client) throw new Error('invariant violated: Payd request without client');
  return client;
}

async function send(reply: FastifyReply, run: () => Promise<PaydAnswer>, extra: Record<string, unknown>) {
  let answer: PaydAnswer;
  try {
    answer = await run();
  } catch (error) {
    if (error instanceof PaydFieldError) {
      answer = {
        status: 400,
        body: { responseCode: paydCodes.badRequest, responseMessage: error.message, ...extra },
      };
    } else if (error instanceof PaydRejection) {
      answer = error.answer;
    } else {
      throw error;
    }
  }
  if (answer.status === 204) return reply.code(204).send();
  return reply.code(answer.status).send(answer.body);
}

async function authenticate(request: FastifyRequest, reply: FastifyReply, deps: BillPaymentDeps) {
  const unauthorized = (message: string) =>
    reply.code(401).send({ responseCode: paydCodes.unauthorized, responseMessage: message });
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const claims = bearer
    ? verifyToken(deps.keys.token, bearer, Math.floor(deps.clock.now().getTime() / 1000))
    : undefined;
  if (!claims) return unauthorized(paydMessages.tokenInvalid);
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey !== 'string' || apiKey.length === 0 || apiKey.length > 200) {
    return unauthorized(paydMessages.apiKeyInvalid);
  }
  const client = await authenticateClient(deps.db, {
    clientId: claims.clientId,
    environment: claims.environment,
    apiKeyHash: hashSecret(apiKey.trim()),
  });
  if (!client) return unauthorized(paydMessages.apiKeyInvalid);
  if (!client.usable) {
    return reply.code(403).send({
      responseCode: paydCodes.forbidden,
      responseMessage: 'The client is disabled or bill payment is not approved for it',
    });
  }
  clients.set(request, client);
  request.principal = {
    kind: 'merchant',
    merchantId: client.merchant_id,
    environment: client.environment,
    credentialId: client.credential_id,
  };
}

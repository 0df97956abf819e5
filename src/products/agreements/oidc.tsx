import { createHash } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import {
  Provider,
  errors,
  type Adapter,
  type AdapterPayload,
  type ClientLike,
  type OidcContext,
  type TokenLike,
} from 'oidc-provider';
import { authenticateSecret } from '../../core/credentials/credentials.js';
import type { Executor } from '../../core/db/db.js';
import type { KeyRing } from '../../core/secrets/keys.js';
import { hashSecret, sameSecretHash } from '../../core/secrets/secrets.js';
import { ConsentPage, pageCsp } from './pages.js';
import { agr } from './schema.js';
import type { SigningKeys } from './tokens.js';

/**
 * OpenID Connect for integrators (vendor-apis.md §4.1 era B) is oidc-provider, mounted at the issuer
 * `${baseUrl}/subscriptions/oidc`: discovery, JWKS, authorize (code and the vendor's hybrid
 * `code id_token`, PKCE S256 required), token (authorization_code, refresh_token). Access tokens are
 * JWTs for the resource `subscriptionsResource` (audience `subscriptions`) signed with the Ed25519 key
 * derived from the master key; routes.ts verifies them with jose. Storage is the database (adapter
 * below), so every api process shares codes, sessions, grants and refresh tokens.
 * See docs/adr/0011-agreements.md.
 */
export const accessTokenTtlSeconds = 300;
export const authCodeTtlSeconds = 300;
export const refreshTokenTtlSeconds = 365 * 24 * 3600;
export const scopesSupported = ['openid', 'offline_access', 'subscriptions'] as const;
/** The one resource server: the dialect's API. Its access tokens carry `aud: subscriptions`. */
export const subscriptionsResource = 'urn:payloom:agreements:subscriptions';
export const accessTokenAudience = 'subscriptions';
export const oidcPath = '/subscriptions/oidc';
/** Set by the mount (never taken from the client): the origin the request reached. */
const receivedOriginHeader = 'x-payloom-received-origin';
const cookiePurpose = 'agreements:oidc-cookies';

type Db = Executor;

const idHash = (id: string) => createHash('sha256').update(id, 'utf8').digest('base64url');

/** Writes one adapter payload (also used by the demo seed, which runs before any provider exists). */
export async function storePayload(
  db: Db,
  model: string,
  id: string,
  payload: AdapterPayload,
  expiresIn: number | undefined,
): Promise<void> {
  // Token values are ids: only their hash is stored. A Session is found by uid too, so it keeps its jti.
  const { jti: _jti, consumed: _consumed, ...rest } = payload;
  const stored = model === 'Session' ? { ...rest, jti: id } : rest;
  const values = {
    model,
    id_hash: idHash(id),
    payload: JSON.stringify(stored),
    grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
    uid: typeof payload.uid === 'string' ? payload.uid : null,
    expires_at: expiresIn ? sql<Date>`now() + make_interval(secs => ${expiresIn})` : null,
  };
  await agr(db)
    .insertInto('agr_oidc_payloads')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['model', 'id_hash']).doUpdateSet({
        payload: values.payload,
        grant_id: values.grant_id,
        uid: values.uid,
        expires_at: values.expires_at,
      }),
    )
    .execute();
}

async function findClient(db: Db, clientId: string): Promise<AdapterPayload | undefined> {
  const row = await agr(db)
    .selectFrom('agr_oauth_clients')
    .select(['client_id', 'secret_hash', 'redirect_uris', 'name', 'environment'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!row) return undefined;
  // The vendor's hybrid `code id_token` (an implicit-flow response) needs https redirect URIs only
  // (oidc-provider enforces it); a client with an http (localhost) redirect URI gets `code` alone.
  const hybrid = row.redirect_uris.every((uri) => uri.startsWith('https://'));
  return {
    client_id: row.client_id,
    // The stored SHA-256 of the secret; compareClientSecret (below) hashes what the client sends.
    client_secret: Buffer.from(row.secret_hash).toString('hex'),
    client_name: row.name,
    redirect_uris: row.redirect_uris,
    grant_types: hybrid
      ? ['authorization_code', 'refresh_token', 'implicit']
      : ['authorization_code', 'refresh_token'],
    response_types: hybrid ? ['code', 'code id_token'] : ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'EdDSA',
    environment: row.environment,
  };
}

/** oidc-provider's Adapter over `agr_oidc_payloads` (and `agr_oauth_clients` for the Client model). */
export function databaseAdapter(db: Db) {
  return class DatabaseAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
      await storePayload(db, this.model, id, payload, expiresIn);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(db, id);
      const row = await agr(db)
        .selectFrom('agr_oidc_payloads')
        .select(['payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('id_hash', '=', idHash(id))
        .executeTakeFirst();
      if (!row) return undefined;
      return {
        ...row.payload,
        jti: id,
        ...(row.consumed_at ? { consumed: Math.floor(row.consumed_at.getTime() / 1000) } : {}),
      };
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await agr(db)
        .selectFrom('agr_oidc_payloads')
        .select(['payload', 'consumed_at'])
        .where('model', '=', this.model)
        .where('uid', '=', uid)
        .executeTakeFirst();
      return row ? { ...row.payload } : undefined;
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      return undefined;
    }

    /** A guarded UPDATE: of two concurrent redemptions of one code, only one consumes it. */
    async consume(id: string): Promise<void> {
      const row = await agr(db)
        .updateTable('agr_oidc_payloads')
        .set({ consumed_at: sql<Date>`now()` })
        .where('model', '=', this.model)
        .where('id_hash', '=', idHash(id))
        .where('consumed_at', 'is', null)
        .returning('model')
        .executeTakeFirst();
      if (!row) throw new errors.InvalidGrant('already used');
    }

    async destroy(id: string): Promise<void> {
      await agr(db)
        .deleteFrom('agr_oidc_payloads')
        .where('model', '=', this.model)
        .where('id_hash', '=', idHash(id))
        .execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await agr(db).deleteFrom('agr_oidc_payloads').where('grant_id', '=', grantId).execute();
    }
  };
}

interface ResultContext {
  readonly oidc: {
    readonly result?: { readonly consent?: { readonly grantId?: string } };
    readonly provider: { readonly Grant: { find(id: string): Promise<unknown> } };
  };
}

interface ErrorContext {
  type: string;
  body: unknown;
  set(name: string, value: string): void;
}

/** The provider: issuer `${baseUrl}/subscriptions/oidc`, Payloom's keys, the database adapter. */
export function createOidcProvider(input: {
  issuer: string;
  db: Db;
  keys: SigningKeys;
  keyRing: KeyRing;
}): Provider {
  const provider = new Provider(input.issuer, {
    adapter: databaseAdapter(input.db),
    jwks: { keys: [input.keys.privateJwk] },
    cookies: { keys: [input.keyRing.derive(cookiePurpose).toString('base64url')] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub }),
    }),
    scopes: [...scopesSupported],
    claims: { openid: ['sub'] },
    responseTypes: ['code', 'code id_token'],
    // Integrators call the token endpoint from their servers; a browser may only from Payloom's own
    // pages (the portal's Try It), i.e. same-origin. No cross-origin browser access.
    clientBasedCORS: (ctx: { get(name: string): string }, requestOrigin: string) =>
      requestOrigin !== 'null' &&
      (requestOrigin === new URL(input.issuer).origin || requestOrigin === ctx.get(receivedOriginHeader)),
    pkce: { required: () => true },
    routes: {
      authorization: '/connect/authorize',
      token: '/connect/token',
      jwks: '/.well-known/jwks',
      revocation: '/connect/revocation',
      end_session: '/connect/endsession',
    },
    enabledJWA: { idTokenSigningAlgValues: ['EdDSA'] },
    clientDefaults: {
      id_token_signed_response_alg: 'EdDSA',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    extraClientMetadata: { properties: ['environment'] },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => subscriptionsResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          if (resource !== subscriptionsResource) throw new errors.InvalidTarget('unknown resource');
          return {
            scope: 'subscriptions',
            audience: accessTokenAudience,
            accessTokenTTL: accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'EdDSA' } },
          };
        },
      },
    },
    // The access token says which environment the integrator's client (and so the merchant's data) is in.
    extraTokenClaims: async (ctx: OidcContext, _token: TokenLike) => {
      const environment = ctx.oidc.client?.environment;
      return typeof environment === 'string' ? { env: environment } : undefined;
    },
    // Every authorization asks the merchant again: no grant is reused from an earlier session.
    loadExistingGrant: async (ctx: ResultContext) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    interactions: {
      url: async (_ctx: unknown, interaction: { uid: string }) =>
        `${oidcPath}/interaction/${interaction.uid}`,
    },
    rotateRefreshToken: false,
    issueRefreshToken: async (
      _ctx: unknown,
      client: { grantTypeAllowed(t: string): boolean },
      code: { scopes: Set<string> },
    ) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: accessTokenTtlSeconds,
      AuthorizationCode: authCodeTtlSeconds,
      IdToken: accessTokenTtlSeconds,
      Interaction: 3600,
      Session: 3600,
      Grant: refreshTokenTtlSeconds,
      RefreshToken: refreshTokenTtlSeconds,
    },
    renderError: async (ctx: ErrorContext, out: { error?: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.set('content-security-policy', pageCsp);
      ctx.body = `<!doctype html>${markup(
        <p>
          {out.error ?? 'error'}: {out.error_description ?? ''}
        </p>,
      )}`;
    },
  });
  // Client secrets are stored as SHA-256 hashes (agr_oauth_clients.secret_hash): compare hashes.
  provider.Client.prototype.compareClientSecret = function compareClientSecret(
    this: ClientLike,
    actual: string,
  ) {
    const stored = Buffer.from(typeof this.clientSecret === 'string' ? this.clientSecret : '', 'hex');
    return sameSecretHash(stored, hashSecret(actual));
  };
  // Payloom's public origin is config.baseUrl (the issuer); the mount below presents it to Koa.
  provider.proxy = true;
  return provider;
}

/**
 * Mounts the provider at `/subscriptions/oidc` inside its own encapsulated plugin: no body parser (the
 * stream is left for oidc-provider), the raw request and response are handed over (`reply.hijack()`).
 * The request URL is made relative to the mount (Express-style `originalUrl`), and the origin is the
 * configured base URL, so the issuer and every endpoint URL match config.baseUrl behind any proxy.
 */
export async function oidcMount(app: FastifyInstance, provider: Provider, baseUrl: string): Promise<void> {
  const origin = new URL(baseUrl);
  const handle = provider.callback();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  const route = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    // Fastify writes nothing for a hijacked reply: keep the request id every response carries.
    reply.raw.setHeader('x-request-id', request.id);
    const raw = request.raw as FastifyRequest['raw'] & { originalUrl?: string };
    const url = raw.url ?? '/';
    let relative = url.slice(oidcPath.length) || '/';
    if (!relative.startsWith('/')) relative = `/${relative}`;
    raw.url = consentPrompted(relative);
    raw.originalUrl = `${oidcPath}${raw.url}`;
    // The origin the request really reached (before the issuer's host replaces it), for CORS below.
    raw.headers[receivedOriginHeader] = `${request.protocol}://${request.host}`;
    raw.headers.host = origin.host;
    raw.headers['x-forwarded-proto'] = origin.protocol.replace(':', '');
    delete raw.headers['x-forwarded-host'];
    handle(raw, reply.raw);
  };
  app.all(oidcPath, { schema: { hide: true } }, route);
  app.all(`${oidcPath}/*`, { schema: { hide: true } }, route);
}

/**
 * Payloom asks the merchant on every authorization (loadExistingGrant reuses no earlier grant), which
 * is what `prompt=consent` means. OpenID Connect Core §11 drops `offline_access` unless the request says
 * `prompt=consent`; the vendor's integrators never send it, so a front-channel authorization request
 * (GET, query string) without `prompt` is given `prompt=consent` before oidc-provider reads it.
 */
function consentPrompted(url: string): string {
  const at = url.indexOf('?');
  if (at === -1 || url.slice(0, at) !== '/connect/authorize') return url;
  const query = new URLSearchParams(url.slice(at + 1));
  if (query.has('prompt') || query.has('request') || query.has('request_uri')) return url;
  query.set('prompt', 'consent');
  return `${url.slice(0, at)}?${query.toString()}`;
}

/** hono/jsx elements render (escaped) through their own toString. */
function markup(node: unknown): string {
  return (node as { toString(): string }).toString();
}

function html(reply: FastifyReply, body: string, status = 200) {
  return reply
    .code(status)
    .header('content-security-policy', pageCsp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${body}`);
}

/**
 * The interaction oidc-provider sends the merchant's browser to: Payloom's consent page. The merchant
 * approves with their native API key; the result (login = the merchant, consent = a grant of
 * `openid offline_access` and the `subscriptions` resource scope) goes back to oidc-provider, which
 * redirects to the integrator with the code.
 */
export async function consentRoutes(app: FastifyInstance, provider: Provider, db: Db): Promise<void> {
  await app.register(formbody);
  const interactionPath = `${oidcPath}/interaction/:uid`;

  const load = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      const clientId = typeof details.params.client_id === 'string' ? details.params.client_id : '';
      const client = await agr(db)
        .selectFrom('agr_oauth_clients')
        .select(['client_id', 'name', 'environment'])
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return client ? { details, client } : undefined;
    } catch {
      return undefined;
    }
  };
  const page = (reply: FastifyReply, uid: string, clientName: string, error: string | null, status: number) =>
    html(
      reply,
      markup(
        <ConsentPage
          clientName={clientName}
          action={`${oidcPath}/interaction/${uid}`}
          hidden={{}}
          error={error}
        />,
      ),
      status,
    );

  app.get(interactionPath, { schema: { hide: true } }, async (request, reply) => {
    const found = await load(request, reply);
    if (!found) return html(reply, markup(<p>This authorization request has expired. Start again.</p>), 400);
    return page(reply, found.details.uid, found.client.name, null, 200);
  });

  app.post(interactionPath, { schema: { hide: true } }, async (request, reply) => {
    const found = await load(request, reply);
    if (!found) return html(reply, markup(<p>This authorization request has expired. Start again.</p>), 400);
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    let result: Record<string, unknown>;
    if (form.decision !== 'allow') {
      result = { error: 'access_denied', error_description: 'the merchant denied the request' };
    } else {
      const merchant = form.api_key ? await authenticateSecret(db, 'native', form.api_key) : undefined;
      if (!merchant || !merchant.merchantActive || merchant.environment !== found.client.environment)
        return page(
          reply,
          found.details.uid,
          found.client.name,
          'That API key is not valid for this environment.',
          401,
        );
      const grant = new provider.Grant({ accountId: merchant.merchantId, clientId: found.client.client_id });
      const requested = new Set(
        (typeof found.details.params.scope === 'string' ? found.details.params.scope : '').split(' '),
      );
      const oidcScopes = scopesSupported.filter((s) => requested.has(s));
      if (oidcScopes.length > 0) grant.addOIDCScope(oidcScopes.join(' '));
      if (requested.has('subscriptions')) grant.addResourceScope(subscriptionsResource, 'subscriptions');
      const grantId = await grant.save();
      result = { login: { accountId: merchant.merchantId }, consent: { grantId } };
    }
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
    return reply.code(303).header('location', returnTo).header('cache-control', 'no-store').send();
  });
}

/**
 * The demo's refresh token (bootstrap runs before any provider exists): a grant and a refresh token in
 * oidc-provider's payload shape, written through the adapter's storage.
 */
export async function seedRefreshToken(
  db: Db,
  input: { clientId: string; merchantId: string; scope: string; id: () => string; lifetimeSeconds: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + input.lifetimeSeconds;
  const grantId = input.id();
  const token = input.id();
  const scopes = input.scope.split(' ');
  const oidcScope = scopesSupported.filter((s) => scopes.includes(s)).join(' ');
  await storePayload(
    db,
    'Grant',
    grantId,
    {
      iat: now,
      exp,
      jti: grantId,
      kind: 'Grant',
      accountId: input.merchantId,
      clientId: input.clientId,
      openid: { scope: oidcScope },
      ...(scopes.includes('subscriptions')
        ? { resources: { [subscriptionsResource]: 'subscriptions' } }
        : {}),
    },
    input.lifetimeSeconds,
  );
  await storePayload(
    db,
    'RefreshToken',
    token,
    {
      iat: now,
      exp,
      jti: token,
      kind: 'RefreshToken',
      accountId: input.merchantId,
      clientId: input.clientId,
      grantId,
      gty: 'authorization_code',
      scope: input.scope,
      resource: subscriptionsResource,
      authTime: now,
      iiat: now,
      expiresWithSession: false,
    },
    input.lifetimeSeconds,
  );
  return token;
}

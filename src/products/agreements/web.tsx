import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateSecret } from '../../core/credentials/credentials.js';
import { agr } from './schema.js';
import { MpError, isMpError } from './errors.js';
import { majorNumber, major } from './dialect.js';
import { ConsentPage, FormPostPage, LandingPage, pageCsp } from './pages.js';
import type { AgreementsDeps } from './routes.js';
import * as svc from './service.js';
import {
  accessTokenTtlSeconds,
  authenticateClient,
  findRefreshToken,
  issueAuthCode,
  issueRefreshToken,
  pkceMatches,
  redeemAuthCode,
  scopesSupported,
  signAccessToken,
  signIdToken,
} from './tokens.js';

const frequencyNames: Readonly<Record<number, string>> = {
  0: 'Flexible',
  1: 'Yearly',
  2: 'Every 6 months',
  4: 'Quarterly',
  12: 'Monthly',
  26: 'Every 2 weeks',
  52: 'Weekly',
  365: 'Daily',
};

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
 * The payer's landing page (`/subscriptions/landing/?flow=agreement&id=…[&oneOffPaymentId=…]`): what
 * they agree to, Accept / Reject as two plain POST forms, then 303 to the merchant's user-redirect.
 */
export async function landingRoutes(app: FastifyInstance, deps: AgreementsDeps): Promise<void> {
  const db = deps.ctx.database.db;
  await app.register(formbody);

  const load = async (query: Record<string, string | undefined>) => {
    const id = query.id;
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const agreement = await agr(db)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
    if (!agreement) return undefined;
    const provider = await agr(db)
      .selectFrom('agr_providers')
      .selectAll()
      .where('id', '=', agreement.provider_id)
      .executeTakeFirstOrThrow();
    const oneOffId = query.oneOffPaymentId;
    const oneOff =
      oneOffId && /^[0-9a-f-]{36}$/i.test(oneOffId)
        ? await agr(db)
            .selectFrom('agr_one_offs')
            .selectAll()
            .where('id', '=', oneOffId.toLowerCase())
            .where('agreement_id', '=', agreement.id)
            .executeTakeFirst()
        : await agr(db)
            .selectFrom('agr_one_offs')
            .selectAll()
            .where('agreement_id', '=', agreement.id)
            .where('with_agreement', '=', true)
            .executeTakeFirst();
    return { agreement, provider, oneOff };
  };

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    message: string | null,
    status = 200,
  ) => {
    const query = request.query as Record<string, string | undefined>;
    const found = await load(query);
    if (!found) return html(reply, markup(<p>No such agreement.</p>), 404);
    const { agreement, provider, oneOff } = found;
    const pendingOneOff = oneOff && oneOff.status === 'Requested' ? oneOff : undefined;
    const action = `/subscriptions/landing/?${new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string')).toString()}`;
    const page = (
      <LandingPage
        providerName={provider.name}
        plan={agreement.plan}
        description={agreement.description}
        amount={agreement.amount_minor === null ? null : major(agreement.amount_minor)}
        currency={agreement.currency}
        frequency={frequencyNames[agreement.frequency] ?? String(agreement.frequency)}
        oneOff={
          pendingOneOff
            ? { amount: major(pendingOneOff.amount_minor), description: pendingOneOff.description }
            : null
        }
        status={agreement.status === 'Accepted' && !pendingOneOff ? 'Accepted' : agreement.status}
        action={action}
        sandbox={agreement.environment === 'sandbox'}
        mobile={agreement.mobile_phone_number}
        message={message}
      />
    );
    return html(reply, markup(page), status);
  };

  app.get('/subscriptions/landing/', async (request, reply) => render(request, reply, null));
  app.post('/subscriptions/landing/', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const found = await load(query);
    if (!found) return render(request, reply, null);
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    const decision = form.decision;
    const source =
      found.agreement.environment === 'sandbox' && form.source && /^\d{8,15}$/.test(form.source)
        ? form.source
        : (found.agreement.payer_ref ?? found.agreement.mobile_phone_number ?? '4520000000');
    try {
      const { agreement, oneOff } = found;
      if (agreement.status === 'Pending') {
        if (decision === 'accept') await svc.acceptAgreement(db, deps.wallet, agreement.id, source);
        else if (decision === 'reject') await svc.rejectAgreement(db, agreement.id);
        else return render(request, reply, 'Choose Accept or Reject.', 400);
      } else if (agreement.status === 'Accepted' && oneOff?.status === 'Requested') {
        if (decision === 'accept') {
          const ok = await svc.reserveOneOff(
            db,
            deps.wallet,
            agreement,
            oneOff,
            agreement.payer_ref ?? source,
            'payer',
          );
          if (!ok) return render(request, reply, 'The payment could not be reserved. Try another card.', 402);
        } else if (decision === 'reject') await svc.rejectOneOff(db, oneOff.id);
        else return render(request, reply, 'Choose Accept or Reject.', 400);
      } else {
        return render(request, reply, null, 409);
      }
    } catch (error) {
      if (isMpError(error)) return render(request, reply, error.message, 409);
      throw error;
    }
    const redirect = query.redirectUrl ?? found.agreement.links.find((l) => l.rel === 'user-redirect')?.href;
    if (!redirect || !/^https?:\/\//.test(redirect))
      return render(request, reply, 'Done. You can close this page.');
    return reply.code(303).header('location', redirect).send();
  });
}

/**
 * OpenID Connect for integrators (vendor-apis.md §4.1 era B) under `/subscriptions/oidc`: discovery,
 * JWKS, authorize + consent page (authorization code with PKCE S256), token (authorization_code,
 * refresh_token). See docs/adr/0011-agreements.md for why this is not oidc-provider.
 */
export async function oidcRoutes(app: FastifyInstance, deps: AgreementsDeps): Promise<void> {
  const db = deps.ctx.database.db;
  const issuer = deps.issuer;
  await app.register(formbody);

  app.get('/subscriptions/oidc/.well-known/openid-configuration', async () => ({
    issuer,
    authorization_endpoint: `${issuer}/connect/authorize`,
    token_endpoint: `${issuer}/connect/token`,
    jwks_uri: `${issuer}/.well-known/jwks`,
    response_types_supported: ['code', 'code id_token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['EdDSA'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...scopesSupported],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce'],
  }));
  app.get('/subscriptions/oidc/.well-known/jwks', async () => ({ keys: [deps.keys.publicJwk] }));

  const authorizeParams = async (q: Record<string, string | undefined>) => {
    const client = q.client_id
      ? await agr(db)
          .selectFrom('agr_oauth_clients')
          .selectAll()
          .where('client_id', '=', q.client_id)
          .executeTakeFirst()
      : undefined;
    if (!client) throw new MpError('input', 'invalid_client', 'client_id is not known');
    if (!q.redirect_uri || !client.redirect_uris.includes(q.redirect_uri))
      throw new MpError('input', 'invalid_redirect_uri', 'redirect_uri is not registered for this client');
    return client;
  };
  const oauthError = (reply: FastifyReply, error: string, description: string, status = 400) =>
    reply.code(status).header('cache-control', 'no-store').send({ error, error_description: description });

  app.get('/subscriptions/oidc/connect/authorize', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    let client;
    try {
      client = await authorizeParams(q);
    } catch (error) {
      if (isMpError(error)) return html(reply, markup(<p>{error.message}</p>), 400);
      throw error;
    }
    const hidden = Object.fromEntries(
      Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    return html(
      reply,
      markup(
        <ConsentPage
          clientName={client.name}
          action="/subscriptions/oidc/connect/authorize"
          hidden={hidden}
          error={null}
        />,
      ),
    );
  });

  app.post('/subscriptions/oidc/connect/authorize', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    let client;
    try {
      client = await authorizeParams(form);
    } catch (error) {
      if (isMpError(error)) return html(reply, markup(<p>{error.message}</p>), 400);
      throw error;
    }
    const redirect = new URL(form.redirect_uri ?? '');
    const mode = form.response_mode ?? (form.response_type === 'code' ? 'query' : 'fragment');
    const finish = (fields: Record<string, string>) => {
      if (form.state) fields.state = form.state;
      if (mode === 'form_post')
        return html(reply, markup(<FormPostPage action={redirect.toString()} fields={fields} />));
      const params = new URLSearchParams(fields);
      if (mode === 'fragment') redirect.hash = params.toString();
      else for (const [k, v] of params) redirect.searchParams.set(k, v);
      return reply.code(303).header('location', redirect.toString()).send();
    };
    if (form.decision !== 'allow') return finish({ error: 'access_denied' });
    if (form.response_type !== 'code' && form.response_type !== 'code id_token')
      return finish({ error: 'unsupported_response_type' });
    if (form.code_challenge_method !== 'S256' || !form.code_challenge)
      return finish({ error: 'invalid_request', error_description: 'PKCE S256 is required' });
    const scope = (form.scope ?? 'openid subscriptions')
      .split(' ')
      .filter((s) => (scopesSupported as readonly string[]).includes(s))
      .join(' ');
    const hidden = Object.fromEntries(
      Object.entries(form).filter(
        (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'api_key' && e[0] !== 'decision',
      ),
    );
    const merchant = form.api_key ? await authenticateSecret(db, 'native', form.api_key) : undefined;
    if (!merchant || !merchant.merchantActive || merchant.environment !== client.environment) {
      return html(
        reply,
        markup(
          <ConsentPage
            clientName={client.name}
            action="/subscriptions/oidc/connect/authorize"
            hidden={hidden}
            error="That API key is not valid for this environment."
          />,
        ),
        401,
      );
    }
    const code = await issueAuthCode(db, {
      clientId: client.client_id,
      merchantId: merchant.merchantId,
      redirectUri: redirect.toString() === form.redirect_uri ? form.redirect_uri : (form.redirect_uri ?? ''),
      codeChallenge: form.code_challenge,
      scope,
      nonce: form.nonce ?? null,
    });
    const fields: Record<string, string> = { code };
    if (form.response_type === 'code id_token') {
      fields.id_token = await signIdToken(deps.keys, issuer, {
        merchantId: merchant.merchantId,
        clientId: client.client_id,
        nonce: form.nonce ?? null,
      });
    }
    return finish(fields);
  });

  app.post('/subscriptions/oidc/connect/token', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    let clientId = form.client_id;
    let clientSecret = form.client_secret;
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (basic?.[1]) {
      const [id, secret] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      clientSecret = decodeURIComponent(secret ?? '');
    }
    const client =
      clientId && clientSecret ? await authenticateClient(db, clientId, clientSecret) : undefined;
    if (!client) return oauthError(reply, 'invalid_client', 'client authentication failed', 401);
    let merchantId: string;
    let scope: string;
    let refreshToken: string | undefined;
    let nonce: string | null = null;
    if (form.grant_type === 'authorization_code') {
      const code = form.code ? await redeemAuthCode(db, client.client_id, form.code) : undefined;
      if (!code || code.redirect_uri !== form.redirect_uri)
        return oauthError(reply, 'invalid_grant', 'the code is not valid, used or expired');
      if (!form.code_verifier || !pkceMatches(form.code_verifier, code.code_challenge))
        return oauthError(reply, 'invalid_grant', 'code_verifier does not match');
      merchantId = code.merchant_id;
      scope = code.scope;
      nonce = code.nonce;
      if (scope.split(' ').includes('offline_access')) {
        refreshToken = await issueRefreshToken(db, {
          clientId: client.client_id,
          merchantId,
          environment: client.environment,
          scope,
        });
      }
    } else if (form.grant_type === 'refresh_token') {
      const row = form.refresh_token
        ? await findRefreshToken(db, client.client_id, form.refresh_token)
        : undefined;
      if (!row) return oauthError(reply, 'invalid_grant', 'the refresh token is not valid');
      merchantId = row.merchant_id;
      scope = row.scope;
    } else {
      return oauthError(reply, 'unsupported_grant_type', 'use authorization_code or refresh_token');
    }
    const accessToken = await signAccessToken(deps.keys, issuer, {
      merchantId,
      environment: client.environment,
      clientId: client.client_id,
      scope,
    });
    return reply.header('cache-control', 'no-store').send({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: accessTokenTtlSeconds,
      scope,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      ...(scope.split(' ').includes('openid')
        ? {
            id_token: await signIdToken(deps.keys, issuer, { merchantId, clientId: client.client_id, nonce }),
          }
        : {}),
    });
  });
  void majorNumber;
}

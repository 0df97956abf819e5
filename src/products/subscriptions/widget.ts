import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import type { App, RouteContext } from '../../http/app.js';
import { readAsset } from '../../http/routes/assets.js';
import {
  completeChallenge,
  storedCardsFor,
  storeNewCard,
  useStoredCard,
  WidgetError,
  widgetErrorCodes,
  widgetObject,
  type CardDeps,
  type ObjectType,
} from './cards.js';
import { basePath } from './routes.js';
import { parseSpId } from './dialect.js';
import { brandName } from './objects.js';

/**
 * The hosted widget (README.md "Widget"). `GET {widgetScriptUrl}` is sdk.js; it checks the page's origin
 * with `/config` (CORS), then frames `/frame` (served with `frame-ancestors <that origin>`), whose card
 * form posts the card to Payloom only. Every request after the frame carries a session signed for the
 * merchant, the object and the parent origin; writes must come from Payloom's own origin (the frame).
 */
export const widgetPath = `${basePath}/widget`;
export const sessionTtlSeconds = 30 * 60;
export const termsLengthMax = 500;

interface WidgetOwner {
  merchantId: string;
  environment: Environment;
}

/** The widget key is the public id of the merchant's SmartPay credential (never its secret). */
async function ownerOf(db: Executor, widgetKey: string): Promise<WidgetOwner | undefined> {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(widgetKey)) return undefined;
  const { rows } = await sql<{ merchant_id: string; environment: Environment }>`
    SELECT c.merchant_id, c.environment FROM credentials c JOIN merchants m ON m.id = c.merchant_id
     WHERE c.public_id = ${widgetKey} AND c.dialect = 'subscriptions' AND c.revoked_at IS NULL
       AND (c.expires_at IS NULL OR c.expires_at > now()) AND m.status = 'active'`.execute(db);
  const row = rows[0];
  return row ? { merchantId: row.merchant_id, environment: row.environment } : undefined;
}

export async function allowedOrigins(db: Executor, owner: WidgetOwner): Promise<string[]> {
  const { rows } = await sql<{ allowed_origins: string[] }>`
    SELECT allowed_origins FROM sp_settings WHERE merchant_id = ${owner.merchantId} AND environment = ${owner.environment}`.execute(
    db,
  );
  return rows[0]?.allowed_origins ?? [];
}

/** An allowed origin: `https://host[:port]`; in the sandbox also `http://localhost` and `http://127.0.0.1`. */
export function checkOrigin(raw: string, environment: Environment): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.origin !== raw.replace(/\/$/, '')) return 'must be an origin only (scheme://host[:port]), no path';
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol === 'https:')
    return environment === 'production' && local ? 'localhost is not allowed in production' : undefined;
  if (url.protocol === 'http:' && local)
    return environment === 'sandbox' ? undefined : 'http is not allowed in production';
  return 'must use https (http only for localhost in the sandbox)';
}

interface Session {
  m: string;
  e: Environment;
  t: ObjectType;
  o: string;
  p: string;
  x: number;
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export function issueSession(key: Buffer, session: Omit<Session, 'x'>, nowMs: number): string {
  const payload = Buffer.from(
    JSON.stringify({ ...session, x: Math.floor(nowMs / 1000) + sessionTtlSeconds }),
  ).toString('base64url');
  return `${payload}.${sign(key, payload)}`;
}

function readSession(key: Buffer, token: unknown, owner: WidgetOwner): Session {
  const refuse = () =>
    new WidgetError(
      widgetErrorCodes.config,
      'The widget session is not valid; reload the page.',
      'session',
      403,
    );
  if (typeof token !== 'string' || token.length > 2000) throw refuse();
  const [payload, mac] = token.split('.');
  if (!payload || !mac) throw refuse();
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw refuse();
  const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Session;
  if (session.m !== owner.merchantId || session.e !== owner.environment || session.x * 1000 < Date.now())
    throw refuse();
  return session;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function objectTypeOf(raw: unknown): ObjectType | undefined {
  return raw === 'subscription' || raw === 'payment-series' ? raw : undefined;
}

function objectIdOf(type: ObjectType, raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  return parseSpId(type === 'subscription' ? 'subscription' : 'paymentSeries', raw);
}

function frameCsp(parentOrigin: string | null): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    `frame-ancestors ${parentOrigin ?? "'none'"}`,
  ].join('; ');
}

function refusalPage(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-security-policy', frameCsp(null))
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Payment form unavailable</title></head><body><p>${escapeHtml(message)}</p></body></html>`,
    );
}

/** Writes come from the frame: the request's Origin must be the origin that served it (Payloom's). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  const host = request.headers.host;
  return typeof origin === 'string' && typeof host === 'string' && origin === `${request.protocol}://${host}`;
}

function widgetFail(reply: FastifyReply, error: unknown, request: FastifyRequest): FastifyReply {
  if (error instanceof WidgetError) {
    return reply.code(error.status).send({ code: error.code, message: error.message, field: error.field });
  }
  request.log.error({ err: error }, 'widget request failed');
  return reply.code(500).send({
    code: widgetErrorCodes.unavailable,
    message: 'Something went wrong; nothing was stored.',
    field: null,
  });
}

export function widgetRoutes(app: App, ctx: RouteContext, deps: CardDeps): void {
  const db = ctx.database.db;
  const sessionKey = ctx.keys.derive('subscriptions:widget-session');
  const config = { auth: 'public' as const };
  const hide = { hide: true };

  app.get('/smartpay/widget/:widgetKey/sdk.js', { config, schema: hide }, async (request, reply) => {
    const { widgetKey } = request.params as { widgetKey: string };
    const owner = await ownerOf(db, widgetKey);
    const body = await readAsset('products/subscriptions/sdk.js');
    if (!owner || !body)
      return reply.code(404).type('text/javascript; charset=utf-8').send('/* unknown widget key */');
    return reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-resource-policy', 'cross-origin')
      .send(body);
  });

  // The page's origin check, by CORS: the browser names the page's origin; a refusal is readable.
  app.get('/smartpay/widget/:widgetKey/config', { config, schema: hide }, async (request, reply) => {
    const { widgetKey } = request.params as { widgetKey: string };
    const origin = request.headers.origin;
    if (typeof origin === 'string')
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    const owner = await ownerOf(db, widgetKey);
    if (!owner)
      return reply.code(404).send({ code: widgetErrorCodes.config, message: 'Unknown widget key.' });
    if (typeof origin !== 'string' || !(await allowedOrigins(db, owner)).includes(origin)) {
      return reply.code(403).send({
        code: widgetErrorCodes.config,
        message: `This page's origin is not allowed for this merchant.`,
      });
    }
    return reply.send({ ok: true });
  });

  app.get('/smartpay/widget/:widgetKey/frame', { config, schema: hide }, async (request, reply) => {
    const { widgetKey } = request.params as { widgetKey: string };
    const q = request.query as Record<string, unknown>;
    const owner = await ownerOf(db, widgetKey);
    if (!owner) return refusalPage(reply, 404, 'Unknown widget key.');
    const parentOrigin = typeof q.parentOrigin === 'string' ? q.parentOrigin : '';
    if (!(await allowedOrigins(db, owner)).includes(parentOrigin)) {
      return refusalPage(reply, 403, 'This page is not allowed to show the payment form.');
    }
    const objectType = objectTypeOf(q.objectType);
    const objectId = objectType ? objectIdOf(objectType, q.objectId) : undefined;
    let customer: string;
    try {
      if (!objectType || !objectId)
        throw new WidgetError(widgetErrorCodes.config, 'objectType or objectId is not valid.', 'objectId');
      customer = (await widgetObject(db, owner, objectType, objectId)).customerAccountId;
    } catch (error) {
      return refusalPage(
        reply,
        400,
        error instanceof Error ? error.message : 'Invalid widget configuration.',
      );
    }
    const session = issueSession(
      sessionKey,
      { m: owner.merchantId, e: owner.environment, t: objectType, o: objectId, p: parentOrigin },
      Date.now(),
    );
    const cards = await storedCardsFor(deps, owner, customer);
    const terms = typeof q.terms === 'string' ? q.terms.slice(0, termsLengthMax) : '';
    const stored = cards
      .map(
        (c, i) =>
          `<label class="stored"><input type="radio" name="option" value="${escapeHtml(c.id)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(brandName(c.brand) ?? 'Card')} •••• ${escapeHtml(c.last4)} <span class="exp">${String(c.expMonth).padStart(2, '0')}/${String(c.expYear).slice(-2)}</span></label>`,
      )
      .join('');
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Card details</title><link rel="stylesheet" href="/assets/products/subscriptions/card.css"></head>
<body><main id="app" data-session="${escapeHtml(session)}" data-parent-origin="${escapeHtml(parentOrigin)}" data-base="${escapeHtml(`${widgetPath}/${widgetKey}`)}">
<form id="card-form" novalidate>
${cards.length > 0 ? `<fieldset id="stored-cards"><legend>Your saved cards</legend>${stored}<label class="stored"><input type="radio" name="option" value="new"> Use a new card</label></fieldset>` : ''}
<div id="new-card"${cards.length > 0 ? ' hidden' : ''}>
<label for="number">Card number</label>
<input id="number" name="number" inputmode="numeric" autocomplete="cc-number" maxlength="23" aria-describedby="number-error" placeholder="1234 5678 9012 3456">
<span class="brand" id="brand" aria-live="polite"></span>
<p class="error" id="number-error" role="alert"></p>
<div class="row"><div><label for="expiry">Expiry (MM/YY)</label>
<input id="expiry" name="expiry" inputmode="numeric" autocomplete="cc-exp" maxlength="5" placeholder="MM/YY" aria-describedby="expiry-error">
<p class="error" id="expiry-error" role="alert"></p></div>
<div><label for="cvc">Security code</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" placeholder="CVC" aria-describedby="cvc-error">
<p class="error" id="cvc-error" role="alert"></p></div></div>
</div>
${terms ? `<p class="terms">${escapeHtml(terms)}</p>` : ''}
<p class="error" id="form-error" role="alert"></p>
<button type="submit" class="visually-hidden">Save card</button>
</form>
<section id="challenge" hidden aria-labelledby="challenge-title"><h2 id="challenge-title">Confirm it is you</h2>
<p>Your bank asks you to confirm this card (simulated 3-D Secure).</p>
<button type="button" id="challenge-complete">Complete authentication</button></section>
</main><script src="/assets/products/subscriptions/card.js"></script></body></html>`;
    return reply
      .header('content-security-policy', frameCsp(parentOrigin))
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(html);
  });

  const post = (
    path: string,
    handler: (
      owner: WidgetOwner,
      session: Session,
      body: Record<string, unknown>,
      params: Record<string, string>,
    ) => Promise<unknown>,
  ) =>
    app.post(`/smartpay/widget/:widgetKey${path}`, { config, schema: hide }, async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      try {
        if (!sameOrigin(request))
          throw new WidgetError(
            widgetErrorCodes.config,
            'Card data is accepted from the payment form only.',
            'origin',
            403,
          );
        const params = request.params as Record<string, string>;
        const owner = await ownerOf(db, params.widgetKey ?? '');
        if (!owner) throw new WidgetError(widgetErrorCodes.config, 'Unknown widget key.', 'widgetKey', 404);
        const body = (
          typeof request.body === 'object' && request.body !== null ? request.body : {}
        ) as Record<string, unknown>;
        const session = readSession(sessionKey, body.session, owner);
        return reply.send(await handler(owner, session, body, params));
      } catch (error) {
        return widgetFail(reply, error, request);
      }
    });

  post('/cards', async (owner, session, body) => {
    const outcome = await storeNewCard(deps, owner, session.t, session.o, {
      number: body.number,
      expiryMonth: body.expiryMonth,
      expiryYear: body.expiryYear,
      cvc: body.cvc,
    });
    return outcome.kind === 'stored'
      ? { status: 'stored', result: outcome.result }
      : { status: 'challenge', verificationId: outcome.verificationId };
  });
  post('/stored-cards', async (owner, session, body) => ({
    status: 'stored',
    result: await useStoredCard(deps, owner, session.t, session.o, body.storedPaymentOptionReference),
  }));
  post('/challenges/:verificationId', async (owner, session, _body, params) => {
    const id = parseSpId('verification', params.verificationId ?? '');
    if (!id) throw new WidgetError(widgetErrorCodes.config, 'No such authentication.', 'verificationId', 404);
    const result = await completeChallenge(deps, owner, id);
    if (result.objectId !== session.o)
      throw new WidgetError(widgetErrorCodes.config, 'No such authentication.', 'verificationId', 404);
    return { status: 'stored', result };
  });
}

export function widgetScriptUrl(baseUrl: string, widgetKey: string): string {
  return `${baseUrl}${widgetPath}/${widgetKey}/sdk.js`;
}

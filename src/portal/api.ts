import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { accessView, getAccess } from '../core/access/access.js';
import { recordAudit } from '../core/audit/audit.js';
import { credentialView, issueCredential } from '../core/credentials/credentials.js';
import { transaction } from '../core/db/db.js';
import { AppError } from '../core/errors/errors.js';
import { deliverMail, listMail, mailView, queueMail } from '../core/users/mail-outbox.js';
import { withPortalTables, type UserKind } from '../core/users/schema.js';
import {
  createSession,
  csrfPurpose,
  csrfToken,
  deleteSession,
  sessionAbsoluteSeconds,
  sessionCookie,
} from '../core/users/sessions.js';
import { totpPurpose } from '../core/users/totp.js';
import {
  confirmTotp,
  createOperatorUser,
  findUserByEmail,
  getUser,
  inviteUser,
  issueToken,
  listUsers,
  resetPassword,
  signIn,
  signUp,
  startTotp,
  updateUser,
  userView,
  verifyEmail,
  type UserRow,
} from '../core/users/users.js';
import type { MailGateway } from '../connectors/mail/mail-gateway.js';
import { randomBase62 } from '../core/secrets/secrets.js';
import { productPortalEntries } from '../products/index.js';
import type { App, RouteContext } from '../http/app.js';
import { runMutation } from '../http/mutation.js';
import { pageEnvelope, pageOf, PageQuery, pageSizeDefault } from '../http/pagination.js';
import { merchantOf, type Principal } from '../http/principal.js';
import {
  AccessRequest,
  commonErrors,
  IdempotencyHeaders,
  IdParams,
  IssuedCredential,
} from '../http/schemas.js';
import { readSession } from './session-auth.js';
import { paymentStats, statsRange, statsRangeDaysMax } from './stats.js';

const Email = Type.String({ maxLength: 254, description: 'Email address (case-insensitive).' });
const Password = Type.String({
  maxLength: 200,
  description: 'At least 10 characters, not a common password.',
});
const Kind = Type.Enum(['merchant', 'operator']);

export const UserSchema = Type.Object({
  id: Type.String(),
  kind: Kind,
  merchant_id: Type.Union([Type.String(), Type.Null()]),
  email: Type.String(),
  role: Type.Enum(['owner', 'developer', 'viewer', 'admin', 'support']),
  email_verified: Type.Boolean(),
  totp_enabled: Type.Boolean(),
  locked_until: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  disabled_at: Type.Union([Type.String(), Type.Null()]),
});
const SessionSchema = Type.Object({
  user: UserSchema,
  csrf_token: Type.String({ description: 'Send as X-CSRF-Token on writes made with the session cookie.' }),
});
const MailSchema = Type.Object({
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  purpose: Type.String(),
  gateway: Type.Enum(['sandbox', 'smtp']),
  status: Type.Enum(['kept', 'queued', 'sent', 'failed']),
  created_at: Type.String(),
  sent_at: Type.Union([Type.String(), Type.Null()]),
});
const StatsSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  days: Type.Array(
    Type.Object({
      day: Type.String({ description: 'UTC day, YYYY-MM-DD' }),
      product: Type.String(),
      outcome: Type.Enum(['succeeded', 'failed', 'pending']),
      currency: Type.String(),
      count: Type.Integer(),
      volume_minor: Type.String({ description: 'Sum of amounts in minor units of the currency.' }),
    }),
  ),
  totals: Type.Object({
    count: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    success_rate: Type.Union([Type.Number(), Type.Null()]),
  }),
});
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD (UTC)' });

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Plain-HTTP localhost is the only place cookies go without `Secure` (browsers refuse it there). */
export function cookieSecure(request: FastifyRequest): boolean {
  return !(request.protocol === 'http' && loopbackHosts.has(request.hostname.replace(/:\d+$/, '')));
}

/** Production mode: Payloom is served from anywhere but plain-HTTP localhost; operators then need TOTP. */
export function productionMode(baseUrl: string): boolean {
  const url = new URL(baseUrl);
  return !(url.protocol === 'http:' && loopbackHosts.has(url.hostname));
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  kind: UserKind,
  token: string,
): void {
  void reply.setCookie(sessionCookie[kind], token, {
    httpOnly: true,
    secure: cookieSecure(request),
    sameSite: 'lax',
    path: '/',
    maxAge: sessionAbsoluteSeconds,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, kind: UserKind): void {
  void reply.clearCookie(sessionCookie[kind], {
    httpOnly: true,
    secure: cookieSecure(request),
    sameSite: 'lax',
    path: '/',
  });
}

function sessionUserId(principal: Principal | undefined): string {
  const id = principal?.user?.userId;
  if (!id) throw new AppError('forbidden', 'This needs a signed-in user (session cookie), not an API key.');
  return id;
}

export interface PortalServices {
  readonly mail: MailGateway;
}

/**
 * The native API behind the portal and console pages: accounts, sessions, team, operator users, the
 * mail outbox, subscription credentials and the chart numbers. Every page action is one of these.
 */
export function portalApiRoutes(app: App, ctx: RouteContext, services: PortalServices): void {
  const db = ctx.database.db;
  const now = () => ctx.clock.now();
  const totpKey = ctx.keys.derive(totpPurpose);
  const csrfKey = ctx.keys.derive(csrfPurpose);
  const link = (path: string) => `${ctx.config.baseUrl}${path}`;

  async function startSession(request: FastifyRequest, reply: FastifyReply, user: UserRow) {
    // Rotation: whatever session this browser had ends; sign-in always gets a new id.
    const previous = request.cookies[sessionCookie[user.kind]];
    if (previous) await deleteSession(db, previous);
    const token = await createSession(db, user.id, now());
    setSessionCookie(request, reply, user.kind, token);
    return { user: userView(user), csrf_token: csrfToken(csrfKey, token) };
  }

  async function audit(request: FastifyRequest, user: UserRow | undefined, action: string, status: number) {
    await recordAudit(db, {
      actorType: user ? user.kind : 'system',
      actorId: user?.id ?? 'anonymous',
      merchantId: user?.merchant_id ?? null,
      environment: null,
      action,
      targetId: user?.id ?? null,
      requestId: request.id,
      statusCode: status,
    });
    request.audited = true;
  }

  app.post(
    '/v1/auth/signup',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['accounts'],
        summary: 'Sign up: creates a merchant and its owner, signs in, and mails an email-verification link.',
        body: Type.Object(
          { email: Email, password: Password, merchant_name: Type.String({ maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 201: SessionSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { user, mailId } = await transaction(db, async (tx) => {
        const created = await signUp(
          tx,
          {
            email: request.body.email,
            password: request.body.password,
            merchantName: request.body.merchant_name,
          },
          now(),
        );
        const id = await queueMail(tx, services.mail, {
          merchantId: created.merchant.id,
          to: created.user.email,
          subject: 'Verify your email for Payloom',
          text: `Welcome to Payloom.\n\nVerify your email address: ${link(`/portal/verify-email?token=${created.verifyToken}`)}\n\nThe link works for 3 days.`,
          purpose: 'verify_email',
        });
        return { user: created.user, mailId: id };
      });
      await deliverMail(db, services.mail, [mailId]);
      await audit(request, user, 'POST /v1/auth/signup', 201);
      return reply.code(201).send(await startSession(request, reply, user));
    },
  );

  app.post(
    '/v1/auth/signin',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['accounts'],
        summary:
          'Sign in with email, password and (when enrolled) a TOTP code; sets the session cookie. Ten failures lock the account for 30 minutes.',
        body: Type.Object(
          {
            email: Email,
            password: Password,
            totp: Type.Optional(Type.String({ maxLength: 10 })),
            kind: Type.Optional(Kind),
          },
          { additionalProperties: false },
        ),
        response: { 200: SessionSchema, ...commonErrors, 423: commonErrors[429] },
      },
    },
    async (request, reply) => {
      const kind = request.body.kind ?? 'merchant';
      try {
        const user = await signIn(
          db,
          {
            kind,
            email: request.body.email,
            password: request.body.password,
            ...(request.body.totp ? { totp: request.body.totp } : {}),
            totpKey,
            requireTotp: kind === 'operator' && productionMode(ctx.config.baseUrl),
          },
          now(),
        );
        const body = await startSession(request, reply, user);
        await audit(request, user, 'POST /v1/auth/signin', 200);
        return body;
      } catch (error) {
        if (error instanceof AppError && error.code !== 'second_factor_required') {
          const user = await findUserByEmail(db, kind, request.body.email);
          await audit(request, user, 'POST /v1/auth/signin', error.status);
        }
        throw error;
      }
    },
  );

  app.post(
    '/v1/auth/signout',
    {
      config: { auth: 'any', allowUnverified: true },
      schema: {
        tags: ['accounts'],
        summary: 'End this session.',
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const kind: UserKind = request.principal?.kind === 'operator' ? 'operator' : 'merchant';
      const token = request.cookies[sessionCookie[kind]];
      if (token) await deleteSession(db, token);
      clearSessionCookie(request, reply, kind);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/auth/session',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['accounts'],
        summary: 'The signed-in user and the CSRF token of this session.',
        response: { 200: SessionSchema, ...commonErrors },
      },
    },
    async (request) => {
      const kind: UserKind = request.principal?.kind === 'operator' ? 'operator' : 'merchant';
      const signedIn = await readSession(request, kind, ctx);
      if (!signedIn)
        throw new AppError('forbidden', 'This needs a signed-in user (session cookie), not an API key.');
      return { user: userView(signedIn.user), csrf_token: csrfToken(csrfKey, signedIn.token) };
    },
  );

  app.post(
    '/v1/auth/verify-email',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['accounts'],
        summary: 'Verify an email address with the token from the verification mail.',
        body: Type.Object({ token: Type.String({ maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: UserSchema, ...commonErrors },
      },
    },
    async (request) => {
      const user = await transaction(db, (tx) => verifyEmail(tx, request.body.token, now()));
      await audit(request, user, 'POST /v1/auth/verify-email', 200);
      return userView(user);
    },
  );

  app.post(
    '/v1/auth/verify-email/resend',
    {
      config: { auth: 'merchant', allowUnverified: true },
      schema: {
        tags: ['accounts'],
        summary: 'Mail a new verification link to the signed-in user.',
        response: { 202: Type.Object({ sent: Type.Boolean() }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const user = await getUser(db, sessionUserId(request.principal));
      if (user.email_verified_at) return reply.code(202).send({ sent: false });
      const mailId = await transaction(db, async (tx) => {
        const token = await issueToken(tx, user.id, 'verify_email', now());
        return queueMail(tx, services.mail, {
          merchantId: user.merchant_id,
          to: user.email,
          subject: 'Verify your email for Payloom',
          text: `Verify your email address: ${link(`/portal/verify-email?token=${token}`)}`,
          purpose: 'verify_email',
        });
      });
      await deliverMail(db, services.mail, [mailId]);
      return reply.code(202).send({ sent: true });
    },
  );

  app.post(
    '/v1/auth/password-reset',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['accounts'],
        summary: 'Mail a password-reset link (the answer is the same whether or not the email is known).',
        body: Type.Object({ email: Email, kind: Type.Optional(Kind) }, { additionalProperties: false }),
        response: { 202: Type.Object({ accepted: Type.Boolean() }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const kind = request.body.kind ?? 'merchant';
      const user = await findUserByEmail(db, kind, request.body.email);
      if (user) {
        const mailId = await transaction(db, async (tx) => {
          const token = await issueToken(tx, user.id, 'password_reset', now());
          const page = kind === 'operator' ? '/console/reset' : '/portal/reset';
          return queueMail(tx, services.mail, {
            merchantId: user.merchant_id,
            to: user.email,
            subject: 'Reset your Payloom password',
            text: `Choose a new password: ${link(`${page}?token=${token}`)}\n\nThe link works for one hour. If you did not ask for it, ignore this mail.`,
            purpose: 'password_reset',
          });
        });
        await deliverMail(db, services.mail, [mailId]);
      }
      await audit(request, user, 'POST /v1/auth/password-reset', 202);
      return reply.code(202).send({ accepted: true });
    },
  );

  app.post(
    '/v1/auth/password-reset/confirm',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['accounts'],
        summary: 'Set a new password with the token from the reset (or invitation) mail; ends every session.',
        body: Type.Object(
          { token: Type.String({ maxLength: 100 }), password: Password },
          { additionalProperties: false },
        ),
        response: { 200: UserSchema, ...commonErrors },
      },
    },
    async (request) => {
      const user = await transaction(db, (tx) =>
        resetPassword(tx, request.body.token, request.body.password, now()),
      );
      await audit(request, user, 'POST /v1/auth/password-reset/confirm', 200);
      return userView(user);
    },
  );

  app.post(
    '/v1/auth/totp',
    {
      config: { auth: 'any', allowUnverified: true },
      schema: {
        tags: ['accounts'],
        summary: 'Start TOTP enrolment: a new secret and its otpauth:// URI (not required until confirmed).',
        response: { 201: Type.Object({ secret: Type.String(), uri: Type.String() }), ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 201,
        body: await startTotp(tx, await getUser(tx, sessionUserId(request.principal)), totpKey),
      })),
  );

  app.post(
    '/v1/auth/totp/confirm',
    {
      config: { auth: 'any', allowUnverified: true },
      schema: {
        tags: ['accounts'],
        summary: 'Finish TOTP enrolment with a code from the authenticator app.',
        body: Type.Object({ code: Type.String({ maxLength: 10 }) }, { additionalProperties: false }),
        response: { 200: UserSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: userView(
          await confirmTotp(tx, sessionUserId(request.principal), request.body.code, totpKey, now()),
        ),
      })),
  );

  // Team (merchant users).
  app.get(
    '/v1/users',
    {
      config: { auth: 'merchant' },
      schema: {
        tags: ['accounts'],
        summary: "The merchant's users (team).",
        querystring: PageQuery,
        response: { 200: pageEnvelope(UserSchema), ...commonErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listUsers(db, {
        kind: 'merchant',
        merchantId: merchantOf(request.principal).merchantId,
        limit,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      return pageOf(rows, limit, userView, (r) => r.id);
    },
  );

  app.post(
    '/v1/users',
    {
      config: { auth: 'merchant', sessionRole: 'owner' },
      schema: {
        tags: ['accounts'],
        summary: 'Invite a teammate with a role; the invitation mail sets their password. Owners only.',
        headers: IdempotencyHeaders,
        body: Type.Object(
          { email: Email, role: Type.Enum(['owner', 'developer', 'viewer']) },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      let mailId: string | undefined;
      const sent = await runMutation(request, reply, db, async (tx) => {
        const merchantId = merchantOf(request.principal).merchantId;
        const { user, resetToken } = await inviteUser(
          tx,
          { merchantId, email: request.body.email, role: request.body.role },
          now(),
        );
        mailId = await queueMail(tx, services.mail, {
          merchantId,
          to: user.email,
          subject: 'You are invited to Payloom',
          text: `You were invited as ${user.role}. Choose your password: ${link(`/portal/reset?token=${resetToken}`)}`,
          purpose: 'invitation',
        });
        return { status: 201, body: userView(user), targetId: user.id };
      });
      if (mailId) await deliverMail(db, services.mail, [mailId]);
      return sent;
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { auth: 'merchant', sessionRole: 'owner', auditTarget: 'id' },
      schema: {
        tags: ['accounts'],
        summary: "Change a teammate's role or disable them. Owners only.",
        headers: IdempotencyHeaders,
        params: IdParams,
        body: Type.Object(
          {
            role: Type.Optional(Type.Enum(['owner', 'developer', 'viewer'])),
            disabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        if (principal.user?.userId === request.params.id) {
          throw new AppError('conflict', 'Ask another owner to change your own role.', { field: '/role' });
        }
        return {
          status: 200,
          body: userView(
            await updateUser(
              tx,
              { kind: 'merchant', merchantId: principal.merchantId },
              request.params.id,
              {
                ...(request.body.role ? { role: request.body.role } : {}),
                ...(request.body.disabled !== undefined ? { disabled: request.body.disabled } : {}),
              },
              now(),
            ),
          ),
        };
      }),
  );

  // Operator users.
  app.get(
    '/v1/operator-users',
    {
      config: { auth: 'operator' },
      schema: {
        tags: ['operator'],
        summary: 'Operator users of the console.',
        querystring: PageQuery,
        response: { 200: pageEnvelope(UserSchema), ...commonErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? pageSizeDefault;
      const rows = await listUsers(db, {
        kind: 'operator',
        limit,
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      return pageOf(rows, limit, userView, (r) => r.id);
    },
  );

  app.post(
    '/v1/operator-users',
    {
      config: { auth: 'operator', sessionRole: 'admin' },
      schema: {
        tags: ['operator'],
        summary: 'Create an operator user; the one-time password (and TOTP secret, if asked) is shown once.',
        headers: IdempotencyHeaders,
        body: Type.Object(
          { email: Email, role: Type.Enum(['admin', 'support']), totp: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            user: UserSchema,
            password: Type.String(),
            totp_secret: Type.Union([Type.String(), Type.Null()]),
          }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const password = randomBase62(20);
        const created = await createOperatorUser(
          tx,
          {
            email: request.body.email,
            role: request.body.role,
            password,
            totp: request.body.totp ?? productionMode(ctx.config.baseUrl),
            totpKey,
          },
          now(),
        );
        return {
          status: 201,
          body: { user: userView(created.user), password, totp_secret: created.totpSecret ?? null },
          targetId: created.user.id,
        };
      }),
  );

  // Mail outbox.
  app.get(
    '/v1/sandbox/mail',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['sandbox'],
        summary: 'Mail Payloom wrote (sign-up, resets, invitations), newest first: a merchant sees its own.',
        querystring: Type.Object(
          { ...PageQuery.properties, to: Type.Optional(Type.String({ maxLength: 254 })) },
          { additionalProperties: false },
        ),
        response: { 200: pageEnvelope(MailSchema), ...commonErrors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? pageSizeDefault;
      const principal = request.principal;
      const rows = await listMail(db, {
        limit,
        ...(principal?.kind === 'merchant' ? { merchantId: principal.merchantId } : {}),
        ...(request.query.to ? { to: request.query.to } : {}),
        ...(request.query.starting_after ? { startingAfter: request.query.starting_after } : {}),
      });
      return pageOf(rows, limit, mailView, (r) => r.id);
    },
  );

  // Subscriptions (product access) as the portal offers them.
  app.post(
    '/v1/subscriptions/:id/credentials',
    {
      config: { auth: 'merchant', auditTarget: 'id' },
      schema: {
        tags: ['merchant'],
        summary:
          "Issue credentials in the product's own shape for an approved subscription (shown once). Production credentials exist only after approval.",
        headers: IdempotencyHeaders,
        params: IdParams,
        response: {
          201: Type.Object({
            credential: IssuedCredential,
            example_values: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
            fields: Type.Optional(
              Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), {
                description: "The product's further credential fields (e.g. an OAuth client), shown once.",
              }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        const access = await getAccess(tx, principal, request.params.id);
        if (access.status !== 'approved') {
          throw new AppError(
            'access_not_approved',
            access.status === 'pending'
              ? 'Credentials are issued once an operator approves this subscription.'
              : `This subscription is ${access.status}.`,
          );
        }
        const entry = productPortalEntries().find((e) => e.product === access.product);
        if (!entry) throw new AppError('not_found', `The portal has no entry for ${access.product}.`);
        const scope = { merchantId: principal.merchantId, environment: principal.environment };
        await entry.prepare?.(tx, scope);
        const custom = entry.issueCredentials
          ? await entry.issueCredentials(tx, { ...scope, name: access.name, baseUrl: ctx.config.baseUrl })
          : undefined;
        const issued =
          custom?.issued ??
          (await issueCredential(tx, { ...scope, dialect: entry.dialect, name: access.name }));
        return {
          status: 201,
          body: {
            credential: {
              ...credentialView(issued.row, now()),
              secret: issued.secret.reveal(),
              ...(issued.username ? { username: issued.username } : {}),
              ...(issued.password ? { password: issued.password.reveal() } : {}),
            },
            example_values: (await entry.exampleValues?.(tx, scope)) ?? {},
            ...(custom ? { fields: custom.fields } : {}),
          },
        };
      }),
  );

  app.post(
    '/v1/subscriptions/:id/cancel',
    {
      config: { auth: 'merchant', auditTarget: 'id' },
      schema: {
        tags: ['merchant'],
        summary: "Cancel a subscription: access ends and the product's credentials here are revoked.",
        headers: IdempotencyHeaders,
        params: IdParams,
        response: { 200: AccessRequest, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        const current = await getAccess(tx, principal, request.params.id);
        const row = await withPortalTables(tx)
          .updateTable('product_access')
          .set({
            status: 'revoked',
            decided_at: sql<Date>`now()`,
            decided_by: principal.credentialId,
            decision_reason: 'Cancelled by the merchant',
          })
          .where('merchant_id', '=', principal.merchantId)
          .where('environment', '=', principal.environment)
          .where('id', '=', current.id)
          .where('status', 'in', ['pending', 'approved'])
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new AppError('conflict', `This subscription is already ${current.status}.`);
        const entry = productPortalEntries().find((e) => e.product === row.product);
        if (entry) {
          await withPortalTables(tx)
            .updateTable('credentials')
            .set({ revoked_at: sql<Date>`now()` })
            .where('merchant_id', '=', principal.merchantId)
            .where('environment', '=', principal.environment)
            .where('dialect', '=', entry.dialect)
            .where('revoked_at', 'is', null)
            .execute();
        }
        return { status: 200, body: accessView(row) };
      }),
  );

  app.get(
    '/v1/stats',
    {
      config: { auth: 'any' },
      schema: {
        tags: ['payments'],
        summary:
          'Daily payment count and volume by product, outcome and currency, with totals and success rate — the numbers behind the portal and console charts.',
        querystring: Type.Object(
          {
            from: Type.Optional(Day),
            to: Type.Optional(Day),
            merchant_id: Type.Optional(Type.String({ maxLength: 64, description: 'Operators only.' })),
            environment: Type.Optional(
              Type.Enum(['sandbox', 'production'], { description: 'Operators only.' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: StatsSchema, ...commonErrors },
      },
    },
    async (request) => {
      const range = statsRange(now(), request.query.from, request.query.to);
      const days = (range.to.getTime() - range.from.getTime()) / 86_400_000;
      if (!(days >= 1 && days <= statsRangeDaysMax)) {
        throw new AppError(
          'validation_failed',
          `from must be before to, at most ${statsRangeDaysMax} days apart.`,
          {
            field: 'querystring:/from',
          },
        );
      }
      const principal = request.principal;
      const scope =
        principal?.kind === 'merchant'
          ? { merchantId: principal.merchantId, environment: principal.environment }
          : {
              ...(request.query.merchant_id ? { merchantId: request.query.merchant_id } : {}),
              ...(request.query.environment ? { environment: request.query.environment } : {}),
            };
      return paymentStats(db, scope, range);
    },
  );
}

export { sessionUserId };

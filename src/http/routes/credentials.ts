import { Type } from 'typebox';
import {
  type IssuedCredential as IssuedCredentialValue,
  credentialView,
  getCredential,
  issueCredential,
  listCredentials,
  revokeCredential,
  rotateCredential,
} from '../../core/credentials/credentials.js';
import { getMerchant } from '../../core/merchants/merchants.js';
import type { App, RouteContext } from '../app.js';
import { runMutation } from '../mutation.js';
import { merchantOf } from '../principal.js';
import {
  commonErrors,
  Credential,
  DialectSchema,
  EnvironmentSchema,
  IdempotencyHeaders,
  IdParams,
  IssuedCredential,
} from '../schemas.js';

const RotateBody = Type.Object(
  {
    overlap_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 30 * 86_400,
        description: 'How long the old secret keeps working; defaults to PAYLOOM_CREDENTIAL_OVERLAP_SECONDS.',
      }),
    ),
  },
  { additionalProperties: false },
);
const CredentialParams = Type.Object(
  { id: Type.String({ maxLength: 64 }), credentialId: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
const List = Type.Object({ data: Type.Array(Credential) });

function issuedView(issued: IssuedCredentialValue, now: Date) {
  return {
    ...credentialView(issued.row, now),
    secret: issued.secret.reveal(),
    ...(issued.username ? { username: issued.username } : {}),
    ...(issued.password ? { password: issued.password.reveal() } : {}),
  };
}

/**
 * Credentials, per merchant, dialect and environment. Merchants manage their own with a native key (in
 * that key's environment only); operators manage any merchant's under /v1/merchants/{id}/credentials.
 */
export function credentialRoutes(app: App, ctx: RouteContext): void {
  const db = ctx.database.db;
  const merchantConfig = { auth: 'merchant' as const, auditTarget: 'id' };
  const merchantSecurity = [{ merchantKey: [] }];
  const operatorConfig = { auth: 'operator' as const, auditTarget: 'credentialId' };
  const operatorSecurity = [{ operatorKey: [] }];
  const overlap = (seconds: number | undefined) => seconds ?? ctx.config.credentialOverlapSeconds;

  // Merchant-facing.
  app.get(
    '/v1/credentials',
    {
      config: merchantConfig,
      schema: {
        tags: ['merchant'],
        summary: "This environment's credentials (secrets are never shown again).",
        security: merchantSecurity,
        response: { 200: List, ...commonErrors },
      },
    },
    async (request) => {
      const principal = merchantOf(request.principal);
      const rows = await listCredentials(db, principal);
      const now = ctx.clock.now();
      return { data: rows.map((row) => credentialView(row, now)) };
    },
  );

  app.post(
    '/v1/credentials',
    {
      config: merchantConfig,
      schema: {
        tags: ['merchant'],
        summary: "Create a credential for a dialect in this key's environment.",
        security: merchantSecurity,
        headers: IdempotencyHeaders,
        body: Type.Object(
          { dialect: DialectSchema, name: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 201: IssuedCredential, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        const issued = await issueCredential(tx, {
          merchantId: principal.merchantId,
          environment: principal.environment,
          dialect: request.body.dialect,
          ...(request.body.name !== undefined ? { name: request.body.name } : {}),
        });
        return {
          status: 201,
          body: issuedView(issued, ctx.clock.now()),
          targetId: issued.row.id,
        };
      }),
  );

  app.post(
    '/v1/credentials/:id/rotate',
    {
      config: merchantConfig,
      schema: {
        tags: ['merchant'],
        summary: 'Rotate: issue a new secret; the old one keeps working for the overlap.',
        security: merchantSecurity,
        headers: IdempotencyHeaders,
        params: IdParams,
        body: RotateBody,
        response: { 201: IssuedCredential, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const principal = merchantOf(request.principal);
        const { issued } = await rotateCredential(
          tx,
          principal,
          request.params.id,
          overlap(request.body?.overlap_seconds),
        );
        return {
          status: 201,
          body: issuedView(issued, ctx.clock.now()),
        };
      }),
  );

  app.post(
    '/v1/credentials/:id/revoke',
    {
      config: merchantConfig,
      schema: {
        tags: ['merchant'],
        summary: 'Revoke a credential at once.',
        security: merchantSecurity,
        headers: IdempotencyHeaders,
        params: IdParams,
        response: { 200: Credential, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: credentialView(
          await revokeCredential(tx, merchantOf(request.principal), request.params.id),
          ctx.clock.now(),
        ),
      })),
  );

  // Operator-facing.
  app.get(
    '/v1/merchants/:id/credentials',
    {
      config: { auth: 'operator' },
      schema: {
        tags: ['operator'],
        summary: "A merchant's credentials in both environments.",
        security: operatorSecurity,
        params: IdParams,
        response: { 200: List, ...commonErrors },
      },
    },
    async (request) => {
      await getMerchant(db, request.params.id);
      const rows = await listCredentials(db, { merchantId: request.params.id });
      const now = ctx.clock.now();
      return { data: rows.map((row) => credentialView(row, now)) };
    },
  );

  app.post(
    '/v1/merchants/:id/credentials',
    {
      config: { auth: 'operator', auditTarget: 'id' },
      schema: {
        tags: ['operator'],
        summary: 'Create a credential for a merchant.',
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        params: IdParams,
        body: Type.Object(
          {
            environment: EnvironmentSchema,
            dialect: DialectSchema,
            name: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: IssuedCredential, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        await getMerchant(tx, request.params.id);
        const issued = await issueCredential(tx, {
          merchantId: request.params.id,
          environment: request.body.environment,
          dialect: request.body.dialect,
          ...(request.body.name !== undefined ? { name: request.body.name } : {}),
        });
        return {
          status: 201,
          body: issuedView(issued, ctx.clock.now()),
          targetId: issued.row.id,
        };
      }),
  );

  app.post(
    '/v1/merchants/:id/credentials/:credentialId/rotate',
    {
      config: operatorConfig,
      schema: {
        tags: ['operator'],
        summary: "Rotate a merchant's credential.",
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        params: CredentialParams,
        body: RotateBody,
        response: { 201: IssuedCredential, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => {
        const { issued } = await rotateCredential(
          tx,
          { merchantId: request.params.id },
          request.params.credentialId,
          overlap(request.body?.overlap_seconds),
        );
        return {
          status: 201,
          body: issuedView(issued, ctx.clock.now()),
        };
      }),
  );

  app.post(
    '/v1/merchants/:id/credentials/:credentialId/revoke',
    {
      config: operatorConfig,
      schema: {
        tags: ['operator'],
        summary: "Revoke a merchant's credential at once.",
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        params: CredentialParams,
        response: { 200: Credential, ...commonErrors },
      },
    },
    async (request, reply) =>
      runMutation(request, reply, db, async (tx) => ({
        status: 200,
        body: credentialView(
          await revokeCredential(tx, { merchantId: request.params.id }, request.params.credentialId),
          ctx.clock.now(),
        ),
      })),
  );

  // Used by both kinds of caller through getCredential; kept for symmetry with lists.
  app.get(
    '/v1/credentials/:id',
    {
      config: merchantConfig,
      schema: {
        tags: ['merchant'],
        summary: 'One credential of this environment.',
        security: merchantSecurity,
        params: IdParams,
        response: { 200: Credential, ...commonErrors },
      },
    },
    async (request) =>
      credentialView(
        await getCredential(db, merchantOf(request.principal), request.params.id),
        ctx.clock.now(),
      ),
  );
}

import type { Environment } from '../core/db/schema.js';
import type { UserRole } from '../core/users/schema.js';

/** A signed-in person (portal or console session cookie) rather than an API key. */
export interface SessionUser {
  readonly userId: string;
  readonly role: UserRole;
}

/** Who is calling. Operators act across merchants; a merchant credential is bound to one environment. */
export type Principal =
  | { readonly kind: 'operator'; readonly operatorKeyId: string; readonly user?: SessionUser }
  | {
      readonly kind: 'merchant';
      readonly merchantId: string;
      readonly environment: Environment;
      /** The API key's id, or the signed-in user's id (the audit log's actor either way). */
      readonly credentialId: string;
      readonly user?: SessionUser;
    };

export type AuthRequirement = 'public' | 'operator' | 'merchant' | 'any';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
    idempotency: { scope: string; key: string } | undefined;
    /** Set once the audit row for this request is written (inside the mutation's transaction). */
    audited: boolean;
  }
  interface FastifyContextConfig {
    auth?: AuthRequirement;
    /** The object id an audit row names, taken from a path parameter. */
    auditTarget?: string;
    /** With a session cookie: only this role may call it (owners manage team and production access). */
    sessionRole?: 'owner' | 'admin';
    /** With a session cookie: allowed before the user's email is verified (sign-out, resend, TOTP). */
    allowUnverified?: boolean;
  }
}

/** The idempotency and rate-limit scope of a principal: merchant and environment, or the operator. */
export function principalScope(principal: Principal): string {
  return principal.kind === 'operator' ? 'operator' : `${principal.merchantId}:${principal.environment}`;
}

export function principalActor(principal: Principal | undefined): {
  actorType: 'operator' | 'merchant' | 'system';
  actorId: string;
  merchantId: string | null;
  environment: Environment | null;
} {
  if (!principal) return { actorType: 'system', actorId: 'anonymous', merchantId: null, environment: null };
  if (principal.kind === 'operator') {
    return { actorType: 'operator', actorId: principal.operatorKeyId, merchantId: null, environment: null };
  }
  return {
    actorType: 'merchant',
    actorId: principal.credentialId,
    merchantId: principal.merchantId,
    environment: principal.environment,
  };
}

/** The merchant principal of a route declared `auth: 'merchant'` (the auth hook guarantees it). */
export function merchantOf(principal: Principal | undefined): Extract<Principal, { kind: 'merchant' }> {
  if (principal?.kind !== 'merchant')
    throw new Error('invariant violated: merchant route without merchant principal');
  return principal;
}

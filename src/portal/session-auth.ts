import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors/errors.js';
import type { Environment } from '../core/db/schema.js';
import {
  csrfHeader,
  csrfMatches,
  csrfPurpose,
  lookupSession,
  sessionCookie,
} from '../core/users/sessions.js';
import { withPortalTables, type UserKind } from '../core/users/schema.js';
import type { UserRow } from '../core/users/users.js';
import type { AppContext } from '../http/app.js';
import type { AuthRequirement, Principal } from '../http/principal.js';

const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const environmentHeader = 'x-payloom-environment';

export interface SignedIn {
  readonly user: UserRow;
  readonly token: string;
  readonly merchantActive: boolean;
}

/** The signed-in user of a portal or console cookie, if the session is live. */
export async function readSession(
  request: FastifyRequest,
  kind: UserKind,
  ctx: AppContext,
): Promise<SignedIn | undefined> {
  const token = request.cookies[sessionCookie[kind]];
  if (!token) return undefined;
  const found = await lookupSession(ctx.database.db, token, ctx.clock.now());
  if (!found || found.user.kind !== kind) return undefined;
  let merchantActive = true;
  if (found.user.merchant_id) {
    const merchant = await withPortalTables(ctx.database.db)
      .selectFrom('merchants')
      .select('status')
      .where('id', '=', found.user.merchant_id)
      .executeTakeFirst();
    merchantActive = merchant?.status === 'active';
  }
  return { user: found.user, token, merchantActive };
}

function environmentOf(request: FastifyRequest): Environment {
  const raw = request.headers[environmentHeader];
  if (raw === undefined || raw === 'sandbox') return 'sandbox';
  if (raw === 'production') return 'production';
  throw new AppError('validation_failed', `${environmentHeader} must be sandbox or production.`, {
    field: `header:${environmentHeader}`,
  });
}

/**
 * The native API's second way in: a session cookie instead of an API key. Reads may use it freely;
 * writes need the session's CSRF token in `X-CSRF-Token` (the portal puts it in a meta tag). Viewers and
 * support operators change nothing; only owners manage the team and production access; a merchant
 * user's environment comes from `X-Payloom-Environment` (sandbox by default).
 */
export async function authenticateSession(
  request: FastifyRequest,
  requirement: AuthRequirement,
  ctx: AppContext,
): Promise<Principal | undefined> {
  const kinds: UserKind[] =
    requirement === 'operator'
      ? ['operator']
      : requirement === 'merchant'
        ? ['merchant']
        : ['merchant', 'operator'];
  const writes = mutatingMethods.has(request.method);
  const presented = request.headers[csrfHeader];
  const csrfKey = ctx.keys.derive(csrfPurpose);
  let signedIn: SignedIn | undefined;
  for (const kind of kinds) {
    const found = await readSession(request, kind, ctx);
    if (!found) continue;
    // A browser signed in to both the portal and the console: a write's CSRF token says which session.
    const matches = csrfMatches(csrfKey, found.token, typeof presented === 'string' ? presented : undefined);
    if (!signedIn || (writes && matches)) signedIn = found;
    if (!writes || matches) break;
  }
  if (!signedIn) {
    const hasCookie = kinds.some((kind) => request.cookies[sessionCookie[kind]] !== undefined);
    if (hasCookie) throw new AppError('unauthenticated', 'The session has ended; sign in again.');
    return undefined;
  }
  const { user, token } = signedIn;
  const config = request.routeOptions.config;
  if (writes) {
    if (!csrfMatches(csrfKey, token, typeof presented === 'string' ? presented : undefined)) {
      throw new AppError('csrf_failed', 'Send the session’s CSRF token in the X-CSRF-Token header.');
    }
    if (user.role === 'viewer' || user.role === 'support') {
      throw new AppError('forbidden', `A ${user.role} can look but not change anything.`);
    }
  }
  const sessionUser = { userId: user.id, role: user.role };
  if (user.kind === 'operator') {
    if (writes && config.sessionRole === 'owner')
      throw new AppError('forbidden', 'This is for merchant owners.');
    return { kind: 'operator', operatorKeyId: user.id, user: sessionUser };
  }
  if (!user.merchant_id) throw new Error('invariant violated: merchant user without merchant');
  if (!signedIn.merchantActive) throw new AppError('merchant_disabled');
  const environment = environmentOf(request);
  if (writes) {
    if (!user.email_verified_at && !config.allowUnverified) {
      throw new AppError('forbidden', 'Verify your email address first (see the mail we sent you).');
    }
    const path = request.routeOptions.url ?? '';
    const productionAccess =
      environment === 'production' &&
      (path.startsWith('/v1/access-requests') || path.startsWith('/v1/subscriptions'));
    if ((config.sessionRole === 'owner' || productionAccess) && user.role !== 'owner') {
      throw new AppError('forbidden', 'Only owners manage the team and production access.');
    }
    if (config.sessionRole === 'admin') throw new AppError('forbidden', 'This is for operators.');
  }
  return {
    kind: 'merchant',
    merchantId: user.merchant_id,
    environment,
    credentialId: user.id,
    user: sessionUser,
  };
}

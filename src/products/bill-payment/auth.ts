import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Environment } from '../../core/db/schema.js';

/**
 * Payd's Security Service, Keycloak-shaped (clickatell-payd.md §2): `client_credentials` with an integer
 * `client_id` gives a bearer token for 300 s. Tokens are compact JWTs (HS256) signed with a key derived
 * from the master key, so checking one costs no database round trip; the realm (one per environment) is
 * inside, and a token of one realm is refused by the other.
 */
export const accessTokenSeconds = 300;
export const refreshTokenSeconds = 1800;

/** Realm names → environment. `UAT-API` is the vendor's own sandbox realm name, accepted as an alias. */
export const realms: Readonly<Record<string, Environment>> = {
  'SANDBOX-API': 'sandbox',
  'UAT-API': 'sandbox',
  'PROD-API': 'production',
};
export const realmOf: Readonly<Record<Environment, string>> = {
  sandbox: 'SANDBOX-API',
  production: 'PROD-API',
};

export interface TokenClaims {
  readonly clientId: number;
  readonly environment: Environment;
  readonly expiresAt: number;
}

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');

function sign(key: Buffer, input: string): string {
  return createHmac('sha256', key).update(input).digest('base64url');
}

export function issueToken(
  key: Buffer,
  input: { clientId: number; environment: Environment; nowSeconds: number; typ: 'Bearer' | 'Refresh' },
): string {
  const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const lifetime = input.typ === 'Bearer' ? accessTokenSeconds : refreshTokenSeconds;
  const payload = b64(
    JSON.stringify({
      iss: `payloom/realms/${realmOf[input.environment]}`,
      sub: String(input.clientId),
      azp: String(input.clientId),
      typ: input.typ,
      iat: input.nowSeconds,
      exp: input.nowSeconds + lifetime,
      jti: randomBytes(12).toString('hex'),
    }),
  );
  return `${header}.${payload}.${sign(key, `${header}.${payload}`)}`;
}

/** The claims of a valid, unexpired access token; `undefined` for anything else. */
export function verifyToken(key: Buffer, token: string, nowSeconds: number): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  const expected = Buffer.from(sign(key, `${header}.${payload}`));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let claims: { iss?: unknown; sub?: unknown; typ?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return undefined;
  }
  if (claims.typ !== 'Bearer' || typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return undefined;
  const realm = typeof claims.iss === 'string' ? claims.iss.split('/').pop() : undefined;
  const environment = realm === undefined ? undefined : realms[realm];
  const clientId = typeof claims.sub === 'string' ? Number(claims.sub) : NaN;
  if (!environment || !Number.isSafeInteger(clientId)) return undefined;
  return { clientId, environment, expiresAt: claims.exp };
}

/**
 * A client's `Signature` secret, derived (never stored): the same text signs Transact Result callbacks
 * and verifies the client's signed requests. It is shown once, when the client is created.
 */
export function signingSecretOf(key: Buffer, clientId: number): string {
  return createHmac('sha256', key).update(`bill-payment client ${clientId}`).digest('base64url');
}

/** `base64(HMAC-SHA256(secret as UTF-8, raw body bytes))` (clickatell-payd.md §3). */
export function bodySignature(secret: string, rawBody: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody).digest('base64');
}

export function signatureMatches(secret: string, rawBody: string | Buffer, header: unknown): boolean {
  if (typeof header !== 'string' || header.length === 0 || header.length > 200) return false;
  const expected = Buffer.from(bodySignature(secret, rawBody));
  const given = Buffer.from(header.trim());
  return expected.length === given.length && timingSafeEqual(expected, given);
}

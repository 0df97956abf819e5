import { createHash, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type JWK } from 'jose';
import { sql } from 'kysely';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { hashSecret, randomBase62, sameSecretHash } from '../../core/secrets/secrets.js';
import { agr } from './schema.js';

/**
 * OAuth 2.0 / OpenID Connect tokens of the dialect (vendor-apis.md §4.1, era B): authorization codes
 * (single use, 5 minutes, PKCE S256), refresh tokens per merchant and integrator client (stored as
 * hashes, revocable, not rotated), and short-lived access tokens: JWTs signed with an Ed25519 key derived
 * from the master key (jose signs and verifies; no JWT code of our own). See docs/adr/0011-agreements.md.
 */
export const accessTokenTtlSeconds = 300;
export const authCodeTtlSeconds = 300;
export const scopesSupported = ['openid', 'offline_access', 'subscriptions'] as const;
export const signingKeyPurpose = 'agreements:oidc-signing';

export interface SigningKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  readonly kid: string;
}

/** The Ed25519 key pair from a 32-byte seed (PKCS#8 wrapping of the raw seed). */
export function signingKeys(seed: Buffer): SigningKeys {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = createHash('sha256')
    .update(exported.x ?? '')
    .digest('base64url')
    .slice(0, 16);
  return { privateKey, publicKey, publicJwk: { ...exported, kid, alg: 'EdDSA', use: 'sig' }, kid };
}

export interface AccessClaims {
  merchantId: string;
  environment: Environment;
  clientId: string;
  scope: string;
}

export async function signAccessToken(
  keys: SigningKeys,
  issuer: string,
  claims: AccessClaims,
): Promise<string> {
  return new SignJWT({ env: claims.environment, scope: claims.scope, client_id: claims.clientId })
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience('subscriptions')
    .setSubject(claims.merchantId)
    .setIssuedAt()
    .setJti(randomBase62(16))
    .setExpirationTime(`${accessTokenTtlSeconds}s`)
    .sign(keys.privateKey);
}

export async function signIdToken(
  keys: SigningKeys,
  issuer: string,
  input: { merchantId: string; clientId: string; nonce: string | null },
): Promise<string> {
  return new SignJWT(input.nonce ? { nonce: input.nonce } : {})
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid })
    .setIssuer(issuer)
    .setAudience(input.clientId)
    .setSubject(input.merchantId)
    .setIssuedAt()
    .setExpirationTime(`${accessTokenTtlSeconds}s`)
    .sign(keys.privateKey);
}

export async function verifyAccessToken(
  keys: SigningKeys,
  issuer: string,
  token: string,
): Promise<AccessClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      issuer,
      audience: 'subscriptions',
      algorithms: ['EdDSA'],
      typ: 'at+jwt',
    });
    const env = payload.env;
    if (typeof payload.sub !== 'string' || (env !== 'sandbox' && env !== 'production')) return undefined;
    return {
      merchantId: payload.sub,
      environment: env,
      clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
      scope: typeof payload.scope === 'string' ? payload.scope : '',
    };
  } catch {
    return undefined;
  }
}

export async function createOauthClient(
  db: Executor,
  input: { merchantId: string; environment: Environment; name: string; redirectUris: string[] },
): Promise<{ clientId: string; clientSecret: string }> {
  const clientId = `${input.environment === 'sandbox' ? 'sb' : 'pr'}-${randomBase62(20).toLowerCase()}`;
  const clientSecret = randomBase62(40);
  await agr(db)
    .insertInto('agr_oauth_clients')
    .values({
      client_id: clientId,
      merchant_id: input.merchantId,
      environment: input.environment,
      name: input.name,
      secret_hash: hashSecret(clientSecret),
      redirect_uris: input.redirectUris,
    })
    .execute();
  return { clientId, clientSecret };
}

export async function authenticateClient(db: Executor, clientId: string, clientSecret: string) {
  const row = await agr(db)
    .selectFrom('agr_oauth_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!row || !sameSecretHash(row.secret_hash, hashSecret(clientSecret))) return undefined;
  return row;
}

export async function issueRefreshToken(
  db: Executor,
  input: { clientId: string; merchantId: string; environment: Environment; scope: string },
): Promise<string> {
  const token = randomBase62(48);
  await agr(db)
    .insertInto('agr_refresh_tokens')
    .values({
      token_hash: hashSecret(token),
      client_id: input.clientId,
      merchant_id: input.merchantId,
      environment: input.environment,
      scope: input.scope,
      revoked_at: null,
    })
    .execute();
  return token;
}

export async function findRefreshToken(db: Executor, clientId: string, token: string) {
  return agr(db)
    .selectFrom('agr_refresh_tokens')
    .selectAll()
    .where('token_hash', '=', hashSecret(token))
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function issueAuthCode(
  db: Executor,
  input: {
    clientId: string;
    merchantId: string;
    redirectUri: string;
    codeChallenge: string;
    scope: string;
    nonce: string | null;
  },
): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await agr(db)
    .insertInto('agr_auth_codes')
    .values({
      code_hash: hashSecret(code),
      client_id: input.clientId,
      merchant_id: input.merchantId,
      redirect_uri: input.redirectUri,
      code_challenge: input.codeChallenge,
      scope: input.scope,
      nonce: input.nonce,
      expires_at: sql<Date>`now() + make_interval(secs => ${authCodeTtlSeconds})`,
      used_at: null,
    })
    .execute();
  return code;
}

/** Redeems a code once (a guarded UPDATE: two concurrent redemptions cannot both succeed). */
export async function redeemAuthCode(db: Executor, clientId: string, code: string) {
  return agr(db)
    .updateTable('agr_auth_codes')
    .set({ used_at: sql<Date>`now()` })
    .where('code_hash', '=', hashSecret(code))
    .where('client_id', '=', clientId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returningAll()
    .executeTakeFirst();
}

export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}

import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, type JWK } from 'jose';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { hashSecret, randomBase62 } from '../../core/secrets/secrets.js';
import { accessTokenAudience } from './oidc.js';
import { agr } from './schema.js';

/**
 * The keys and the verification side of the dialect's OAuth 2.0 / OpenID Connect (vendor-apis.md §4.1,
 * era B). oidc-provider (oidc.tsx) issues codes, refresh tokens and JWT access tokens signed with an
 * Ed25519 key derived from the master key, so every api process signs alike; the API routes verify
 * the access tokens here with jose against the same key. See docs/adr/0011-agreements.md.
 */
export const signingKeyPurpose = 'agreements:oidc-signing';

export interface SigningKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  /** The private JWK handed to oidc-provider as its JWKS. */
  readonly privateJwk: JWK;
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
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  return {
    privateKey,
    publicKey,
    publicJwk: { ...exported, kid, alg: 'EdDSA', use: 'sig' },
    privateJwk: { ...privateJwk, kid, alg: 'EdDSA', use: 'sig' },
    kid,
  };
}

export interface AccessClaims {
  merchantId: string;
  environment: Environment;
  clientId: string;
  scope: string;
}

export async function verifyAccessToken(
  keys: SigningKeys,
  issuer: string,
  token: string,
): Promise<AccessClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      issuer,
      audience: accessTokenAudience,
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

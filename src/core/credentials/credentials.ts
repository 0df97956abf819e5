import { sql, type Selectable } from 'kysely';
import { AppError } from '../errors/errors.js';
import { isUniqueViolation, type Executor } from '../db/db.js';
import type { CredentialsTable, Dialect, Environment, Product } from '../db/schema.js';
import { newId } from '../ids/ids.js';
import { hashSecret, randomBase62, sameSecretHash, Secret } from '../secrets/secrets.js';

export type CredentialRow = Selectable<CredentialsTable>;

/** Which product a dialect's credentials serve; `native` serves no product and needs no access. */
export const dialectProduct: Readonly<Record<Dialect, Product | null>> = {
  native: null,
  carrier_billing: 'carrier-billing',
  bill_payment: 'bill-payment',
  subscriptions: 'subscriptions',
  agreements: 'agreements',
};

export const dialects = Object.keys(dialectProduct) as Dialect[];

/** Characters of randomness in a generated secret: 40 base62 characters ≈ 238 bits. */
export const secretLength = 40;

export interface CredentialView {
  id: string;
  merchant_id: string;
  environment: Environment;
  dialect: Dialect;
  name: string;
  public_id: string;
  secret_last4: string;
  status: 'active' | 'expiring' | 'expired' | 'revoked';
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  replaced_by: string | null;
}

export function credentialStatus(row: CredentialRow, now: Date): CredentialView['status'] {
  if (row.revoked_at) return 'revoked';
  if (row.expires_at && row.expires_at <= now) return 'expired';
  if (row.expires_at) return 'expiring';
  return 'active';
}

export function credentialView(row: CredentialRow, now: Date): CredentialView {
  return {
    id: row.id,
    merchant_id: row.merchant_id,
    environment: row.environment,
    dialect: row.dialect,
    name: row.name,
    public_id: row.public_id,
    secret_last4: row.secret_last4,
    status: credentialStatus(row, now),
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    replaced_by: row.replaced_by,
  };
}

/**
 * The secret of a native key names its environment, as Stripe's do: `pl_test_…` for sandbox and
 * `pl_live_…` for production. Other dialects' secrets are plain random strings in their own formats.
 */
export function generateSecret(dialect: Dialect, environment: Environment): string {
  const random = randomBase62(secretLength);
  if (dialect === 'native') return `pl_${environment === 'sandbox' ? 'test' : 'live'}_${random}`;
  return random;
}

function publicIdFor(dialect: Dialect, environment: Environment, secret: string): string {
  if (dialect === 'native') return secret.slice(0, 16);
  return `${environment === 'sandbox' ? 'sb' : 'pr'}_${randomBase62(20)}`;
}

/**
 * Dialects whose vendor authenticates with a user name and password besides the key (Infomedia: the
 * `X-Infomedia-Api-Key` header plus `u`/`p` in the body). The user name is the credential's public id;
 * only a SHA-256 of the generated password is stored.
 */
const passwordDialects: Partial<Record<Dialect, { usernamePrefix: string }>> = {
  carrier_billing: { usernamePrefix: 'cb' },
  // SmartPay: Basic auth is merchantKey (the secret) : authenticationKey (this password); the public id
  // names the merchant in the widget script URL.
  subscriptions: { usernamePrefix: 'sp' },
};

export interface IssuedCredential {
  row: CredentialRow;
  secret: Secret;
  /** For password dialects: the user name and the password, shown once. */
  username?: string;
  password?: Secret;
}

/** Checks a password dialect's `u`/`p` against an authenticated credential, in constant time. */
export function passwordMatches(
  credential: AuthenticatedCredential,
  username: string,
  password: string,
): boolean {
  const expected = credential.attributes.password_sha256;
  if (typeof expected !== 'string' || username !== credential.publicId) return false;
  return sameSecretHash(Buffer.from(expected, 'hex'), hashSecret(password));
}

/** Creates a credential; the secret is returned once and only its hash is stored. */
export async function issueCredential(
  db: Executor,
  input: { merchantId: string; environment: Environment; dialect: Dialect; name?: string },
): Promise<IssuedCredential> {
  for (let attempt = 1; ; attempt++) {
    const secret = generateSecret(input.dialect, input.environment);
    const passwordShape = passwordDialects[input.dialect];
    const username = passwordShape
      ? `${passwordShape.usernamePrefix}_${randomBase62(12).toLowerCase()}`
      : undefined;
    const password = passwordShape ? randomBase62(24) : undefined;
    try {
      const row = await db
        .insertInto('credentials')
        .values({
          merchant_id: input.merchantId,
          id: newId('credential'),
          environment: input.environment,
          dialect: input.dialect,
          name: input.name ?? '',
          public_id: username ?? publicIdFor(input.dialect, input.environment, secret),
          secret_hash: hashSecret(secret),
          secret_last4: secret.slice(-4),
          ...(password
            ? { attributes: JSON.stringify({ password_sha256: hashSecret(password).toString('hex') }) }
            : {}),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return {
        row,
        secret: new Secret(secret),
        ...(username && password ? { username, password: new Secret(password) } : {}),
      };
    } catch (error) {
      // A public-id collision is astronomically rare; draw again rather than fail the request.
      if (attempt < 3 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}

export async function listCredentials(
  db: Executor,
  scope: { merchantId: string; environment?: Environment },
): Promise<CredentialRow[]> {
  let query = db.selectFrom('credentials').selectAll().where('merchant_id', '=', scope.merchantId);
  if (scope.environment) query = query.where('environment', '=', scope.environment);
  return query.orderBy('id', 'desc').limit(1000).execute();
}

export async function getCredential(
  db: Executor,
  scope: { merchantId: string; environment?: Environment },
  id: string,
): Promise<CredentialRow> {
  let query = db
    .selectFrom('credentials')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('id', '=', id);
  if (scope.environment) query = query.where('environment', '=', scope.environment);
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('not_found', `No credential ${id}.`);
  return row;
}

/**
 * Rotation with overlap: a new credential of the same kind is issued and the old one keeps working until
 * `overlapSeconds` from now (database time), so a merchant can deploy the new secret without downtime.
 */
export async function rotateCredential(
  tx: Executor,
  scope: { merchantId: string; environment?: Environment },
  id: string,
  overlapSeconds: number,
): Promise<{ old: CredentialRow; issued: IssuedCredential }> {
  const current = await tx
    .selectFrom('credentials')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('id', '=', id)
    .$if(scope.environment !== undefined, (q) =>
      q.where('environment', '=', scope.environment as Environment),
    )
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw new AppError('not_found', `No credential ${id}.`);
  if (current.revoked_at || current.replaced_by || (current.expires_at && current.expires_at <= new Date())) {
    throw new AppError('conflict', `Credential ${id} is already rotated, expired or revoked.`);
  }
  const issued = await issueCredential(tx, {
    merchantId: current.merchant_id,
    environment: current.environment,
    dialect: current.dialect,
    name: current.name,
  });
  const old = await tx
    .updateTable('credentials')
    .set({
      replaced_by: issued.row.id,
      expires_at: sql<Date>`now() + make_interval(secs => ${overlapSeconds})`,
    })
    .where('merchant_id', '=', current.merchant_id)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { old, issued };
}

export async function revokeCredential(
  db: Executor,
  scope: { merchantId: string; environment?: Environment },
  id: string,
): Promise<CredentialRow> {
  const row = await db
    .updateTable('credentials')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where('merchant_id', '=', scope.merchantId)
    .where('id', '=', id)
    .$if(scope.environment !== undefined, (q) =>
      q.where('environment', '=', scope.environment as Environment),
    )
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No credential ${id}.`);
  return row;
}

export interface AuthenticatedCredential {
  credentialId: string;
  publicId: string;
  merchantId: string;
  environment: Environment;
  dialect: Dialect;
  merchantActive: boolean;
  /** Whether the credential's product has approved access here (always true for `native`). */
  accessApproved: boolean;
  attributes: Record<string, unknown>;
}

/**
 * Finds the live credential for a presented secret in one round trip: credential, merchant status and
 * product access together. Unknown, revoked and expired secrets all come back as `undefined`.
 */
export async function authenticateSecret(
  db: Executor,
  dialect: Dialect,
  secret: string,
): Promise<AuthenticatedCredential | undefined> {
  const product = dialectProduct[dialect];
  const row = await db
    .selectFrom('credentials as c')
    .innerJoin('merchants as m', 'm.id', 'c.merchant_id')
    .select([
      'c.id',
      'c.public_id',
      'c.merchant_id',
      'c.environment',
      'c.attributes',
      'm.status',
      sql<boolean>`${product === null} OR EXISTS (
        SELECT 1 FROM product_access pa
        WHERE pa.merchant_id = c.merchant_id AND pa.environment = c.environment
          AND pa.product = ${product ?? ''} AND pa.status = 'approved')`.as('access_approved'),
    ])
    .where('c.secret_hash', '=', hashSecret(secret))
    .where('c.dialect', '=', dialect)
    .where('c.revoked_at', 'is', null)
    .where((eb) => eb.or([eb('c.expires_at', 'is', null), eb('c.expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    credentialId: row.id,
    publicId: row.public_id,
    merchantId: row.merchant_id,
    environment: row.environment,
    dialect,
    merchantActive: row.status === 'active',
    accessApproved: row.access_approved,
    attributes: row.attributes,
  };
}

export async function authenticateOperator(
  db: Executor,
  secret: string,
): Promise<{ operatorKeyId: string } | undefined> {
  const row = await db
    .selectFrom('operator_keys')
    .select('id')
    .where('secret_hash', '=', hashSecret(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { operatorKeyId: row.id } : undefined;
}

export async function issueOperatorKey(db: Executor, name: string): Promise<{ id: string; secret: Secret }> {
  const secret = `pl_op_${randomBase62(secretLength)}`;
  const id = newId('operatorKey');
  await db
    .insertInto('operator_keys')
    .values({ id, name, secret_hash: hashSecret(secret), secret_last4: secret.slice(-4) })
    .execute();
  return { id, secret: new Secret(secret) };
}

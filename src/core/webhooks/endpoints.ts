import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/db.js';
import type { Environment, Product, WebhookEndpointsTable } from '../db/schema.js';
import { AppError } from '../errors/errors.js';
import { newId } from '../ids/ids.js';
import type { Secret } from '../secrets/secrets.js';
import { generateWebhookSecret, secretRotationOverlapSeconds } from './signing.js';
import { checkCallbackUrl } from './ssrf.js';

/** Merchants' webhook endpoints (native API). Secrets are shown on creation and rotation only. */
export type EndpointRow = Selectable<WebhookEndpointsTable>;

/** Endpoints per merchant and environment. */
export const endpointsPerMerchantMax = 20;

export function endpointView(row: EndpointRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.event_types,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * Checks a URL when it is registered: http(s), no credentials, not a private or metadata address
 * written literally (names are checked again at connect time), https in production.
 */
export function validateEndpointUrl(url: string, environment: Environment, allowPrivate: boolean): void {
  const check = checkCallbackUrl(url, {
    allowPrivate,
    requireHttps: environment === 'production' && !allowPrivate,
  });
  if (!check.allowed) throw new AppError('validation_failed', `url: ${check.message}`, { field: '/url' });
}

export async function createEndpoint(
  tx: Executor,
  input: {
    merchantId: string;
    environment: Environment;
    url: string;
    description?: string;
    eventTypes?: string[];
    enabled?: boolean;
    /** A product's callback format (default Standard Webhooks) and the product whose events it takes. */
    format?: string;
    product?: Product;
  },
): Promise<{ row: EndpointRow; secret: Secret }> {
  const count = await tx
    .selectFrom('webhook_endpoints')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('merchant_id', '=', input.merchantId)
    .where('environment', '=', input.environment)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= endpointsPerMerchantMax) {
    throw new AppError('conflict', `At most ${endpointsPerMerchantMax} webhook endpoints per environment.`);
  }
  const secret = generateWebhookSecret();
  const row = await tx
    .insertInto('webhook_endpoints')
    .values({
      merchant_id: input.merchantId,
      id: newId('webhookEndpoint'),
      environment: input.environment,
      url: input.url,
      description: input.description ?? '',
      event_types: input.eventTypes ?? [],
      enabled: input.enabled ?? true,
      secret: secret.reveal(),
      ...(input.format ? { format: input.format } : {}),
      ...(input.product ? { product: input.product } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, secret };
}

export async function getEndpoint(
  db: Executor,
  scope: { merchantId: string; environment: Environment },
  id: string,
): Promise<EndpointRow> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No webhook endpoint ${id}.`);
  return row;
}

export async function listEndpoints(
  db: Executor,
  scope: { merchantId: string; environment: Environment },
): Promise<EndpointRow[]> {
  return db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .orderBy('id', 'desc')
    .execute();
}

export async function updateEndpoint(
  tx: Executor,
  scope: { merchantId: string; environment: Environment },
  id: string,
  patch: { url?: string; description?: string; eventTypes?: string[]; enabled?: boolean },
): Promise<EndpointRow> {
  const row = await tx
    .updateTable('webhook_endpoints')
    .set({
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.eventTypes !== undefined ? { event_types: patch.eventTypes } : {}),
      ...(patch.enabled !== undefined
        ? { enabled: patch.enabled, disabled_reason: patch.enabled ? null : 'disabled by merchant' }
        : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No webhook endpoint ${id}.`);
  return row;
}

export async function deleteEndpoint(
  tx: Executor,
  scope: { merchantId: string; environment: Environment },
  id: string,
): Promise<void> {
  const result = await tx
    .deleteFrom('webhook_endpoints')
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numDeletedRows === 0n) throw new AppError('not_found', `No webhook endpoint ${id}.`);
}

/** New secret; the old one keeps signing (beside the new) for 24 hours so receivers can switch. */
export async function rotateEndpointSecret(
  tx: Executor,
  scope: { merchantId: string; environment: Environment },
  id: string,
): Promise<{ row: EndpointRow; secret: Secret }> {
  const secret = generateWebhookSecret();
  const row = await tx
    .updateTable('webhook_endpoints')
    .set({
      previous_secret: sql<string>`secret`,
      previous_secret_expires_at: sql<Date>`now() + make_interval(secs => ${secretRotationOverlapSeconds})`,
      secret: secret.reveal(),
      updated_at: sql<Date>`now()`,
    })
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No webhook endpoint ${id}.`);
  return { row, secret };
}

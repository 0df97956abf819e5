import { sql } from 'kysely';
import { Type } from 'typebox';
import type { CardAcquirerConnector } from '../../connectors/contracts/card-acquirer.js';
import { transaction, type Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { AppError, isAppError } from '../../core/errors/errors.js';
import { money, type Currency } from '../../core/money/money.js';
import { findPayment } from '../../core/payments/repo.js';
import { createRefund, paymentView, recordOutcome } from '../../core/payments/service.js';
import { createEndpoint, updateEndpoint, validateEndpointUrl } from '../../core/webhooks/endpoints.js';
import type { App, RouteContext } from '../../http/app.js';
import { runMutation } from '../../http/mutation.js';
import { merchantOf } from '../../http/principal.js';
import { commonErrors, IdempotencyHeaders } from '../../http/schemas.js';
import { basicSecretPrefix, callbackFormatName } from './callback.js';
import { spEventPrefix, spEventTypes } from './events.js';
import { checkOrigin } from './widget.js';

/**
 * The product's native API: its settings (allowed widget origins, retry policy, notification URL and
 * auth) and refunds of its charges (`POST /v1/payments/{id}/refunds`).
 */
export const allowedOriginsMax = 20;
export const retryAttemptsMax = 10;
export const retryDelayDaysMax = 30;

interface SettingsRow {
  allowed_origins: string[];
  retry_delays_days: number[];
  webhook_endpoint_id: string | null;
  url: string | null;
  enabled: boolean | null;
  secret: string | null;
}

async function readSettings(db: Executor, scope: { merchantId: string; environment: Environment }) {
  const { rows } = await sql<SettingsRow>`
    SELECT s.allowed_origins, s.retry_delays_days, s.webhook_endpoint_id, e.url, e.enabled, e.secret
      FROM sp_settings s LEFT JOIN webhook_endpoints e ON e.merchant_id = s.merchant_id AND e.id = s.webhook_endpoint_id
     WHERE s.merchant_id = ${scope.merchantId} AND s.environment = ${scope.environment}`.execute(db);
  const row = rows[0];
  const secret = row?.secret ?? '';
  const basic = secret.startsWith(basicSecretPrefix)
    ? Buffer.from(secret.slice(basicSecretPrefix.length), 'base64').toString('utf8')
    : undefined;
  return {
    allowed_origins: row?.allowed_origins ?? [],
    retry_delays_days: row?.retry_delays_days ?? [1, 3, 7],
    notification_url: row?.enabled ? row.url : null,
    notification_auth: basic
      ? { type: 'basic' as const, username: basic.slice(0, basic.indexOf(':')) }
      : { type: 'none' as const },
    webhook_endpoint_id: row?.webhook_endpoint_id ?? null,
  };
}

const Settings = Type.Object({
  allowed_origins: Type.Array(Type.String()),
  retry_delays_days: Type.Array(Type.Integer()),
  notification_url: Type.Union([Type.String(), Type.Null()]),
  notification_auth: Type.Object({
    type: Type.Enum(['none', 'basic']),
    username: Type.Optional(Type.String()),
  }),
  webhook_endpoint_id: Type.Union([Type.String(), Type.Null()]),
});

export function nativeRoutes(app: App, ctx: RouteContext, acquirer: CardAcquirerConnector): void {
  const db = ctx.database.db;
  const config = { auth: 'merchant' as const };
  const security = [{ merchantKey: [] }];

  app.get(
    '/v1/subscriptions/settings',
    {
      config,
      schema: {
        tags: ['subscriptions'],
        summary: 'Widget origins, retry policy and notification settings of the SmartPay dialect.',
        security,
        response: { 200: Settings, ...commonErrors },
      },
    },
    async (request) => readSettings(db, merchantOf(request.principal)),
  );

  app.put(
    '/v1/subscriptions/settings',
    {
      config,
      schema: {
        tags: ['subscriptions'],
        summary:
          'Set the origins allowed to show the card widget, the retry policy (days after the due date) and the notification URL with no auth or Basic auth.',
        security,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            allowed_origins: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: allowedOriginsMax }),
            ),
            retry_delays_days: Type.Optional(
              Type.Array(Type.Integer({ minimum: 1, maximum: retryDelayDaysMax }), {
                maxItems: retryAttemptsMax,
              }),
            ),
            notification_url: Type.Optional(
              Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()]),
            ),
            notification_auth: Type.Optional(
              Type.Union([
                Type.Object({ type: Type.Literal('none') }, { additionalProperties: false }),
                Type.Object(
                  {
                    type: Type.Literal('basic'),
                    username: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^:]+$' }),
                    password: Type.String({ minLength: 8, maxLength: 200 }),
                  },
                  { additionalProperties: false },
                ),
              ]),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Settings, ...commonErrors },
      },
    },
    async (request, reply) => {
      const scope = merchantOf(request.principal);
      const body = request.body;
      return runMutation(request, reply, db, async (tx) => {
        const origins = body.allowed_origins?.map((o, i) => {
          const problem = checkOrigin(o, scope.environment);
          if (problem)
            throw new AppError('validation_failed', `allowed_origins[${i}] ${problem}.`, {
              field: `/allowed_origins/${i}`,
            });
          return o.replace(/\/$/, '');
        });
        const delays = body.retry_delays_days;
        if (delays?.some((d, i) => i > 0 && d <= (delays[i - 1] ?? 0))) {
          throw new AppError('validation_failed', 'retry_delays_days must be increasing.', {
            field: '/retry_delays_days',
          });
        }
        await sql`
          INSERT INTO sp_settings (merchant_id, environment) VALUES (${scope.merchantId}, ${scope.environment})
          ON CONFLICT DO NOTHING`.execute(tx);
        const { rows } = await sql<{ webhook_endpoint_id: string | null }>`
          SELECT webhook_endpoint_id FROM sp_settings
           WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} FOR UPDATE`.execute(
          tx,
        );
        let endpointId = rows[0]?.webhook_endpoint_id ?? null;
        const url = body.notification_url;
        if (url === null && endpointId) await updateEndpoint(tx, scope, endpointId, { enabled: false });
        if (typeof url === 'string') {
          validateEndpointUrl(url, scope.environment, ctx.config.allowPrivateCallbacks);
          if (endpointId) await updateEndpoint(tx, scope, endpointId, { url, enabled: true });
          else {
            const created = await createEndpoint(tx, {
              ...scope,
              url,
              description: 'SmartPay subscription notifications',
              eventTypes: spEventTypes.map((t) => `${spEventPrefix}${t}`),
              format: callbackFormatName,
              product: 'subscriptions',
            });
            endpointId = created.row.id;
          }
        }
        const auth = body.notification_auth;
        if (auth && !endpointId) {
          throw new AppError('validation_failed', 'Set notification_url before notification_auth.', {
            field: '/notification_auth',
          });
        }
        if (auth && endpointId) {
          // Basic credentials ride in the endpoint's secret; "none" gives it a fresh random one.
          const secret =
            auth.type === 'basic'
              ? `${basicSecretPrefix}${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
              : `none:${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')}`;
          await sql`UPDATE webhook_endpoints SET secret = ${secret}, previous_secret = NULL, updated_at = now()
                     WHERE merchant_id = ${scope.merchantId} AND id = ${endpointId}`.execute(tx);
        }
        await sql`
          UPDATE sp_settings SET
            allowed_origins = ${origins ? sql`${origins}::text[]` : sql`allowed_origins`},
            retry_delays_days = ${delays ? sql`${delays}::int[]` : sql`retry_delays_days`},
            webhook_endpoint_id = ${endpointId}, updated_at = now()
           WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}`.execute(tx);
        return { status: 200, body: await readSettings(tx, scope) };
      });
    },
  );

  app.post(
    '/v1/payments/:id/refunds',
    {
      config: { ...config, auditTarget: 'id' },
      schema: {
        tags: ['payments'],
        summary:
          'Refund a captured subscription or payment-series charge, fully or partly (total ≤ captured); the acquirer is asked at once.',
        security,
        headers: IdempotencyHeaders,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: Type.Object(
          {
            amount_minor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
            reason: Type.Optional(Type.String({ maxLength: 255 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({}, { additionalProperties: true }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const scope = merchantOf(request.principal);
      let refundId: string;
      try {
        const parent = await findPayment(db, scope, request.params.id);
        if (!parent || parent.kind === 'refund')
          throw new AppError('not_found', `No payment ${request.params.id}.`);
        if (parent.product !== 'subscriptions') {
          throw new AppError(
            'forbidden',
            `Refunds of ${parent.product} payments are made through that product's API.`,
          );
        }
        const amount =
          request.body.amount_minor === undefined ? undefined : BigInt(request.body.amount_minor);
        const refund = await transaction(db, (tx) =>
          createRefund(tx, {
            ...scope,
            paymentId: parent.id,
            ...(amount !== undefined ? { amountMinor: amount } : {}),
            ...(request.body.reason ? { description: request.body.reason } : {}),
          }),
        );
        refundId = refund.id;
        let outcome;
        try {
          outcome = await acquirer.refund(
            {
              reference: refund.id,
              paymentReference: parent.id,
              amount: money(refund.amount_minor, refund.currency as Currency),
            },
            { timeoutMs: 30_000 },
          );
        } catch {
          outcome = { status: 'unknown' as const, rawCode: 'EXCEPTION' };
        }
        await recordOutcome(db, {
          merchantId: scope.merchantId,
          paymentId: refund.id,
          answer: {
            status: outcome.status,
            rawCode: outcome.rawCode,
            rawMessage: outcome.rawMessage,
            connectorRef: outcome.connectorReference,
          },
        });
      } catch (error) {
        if (!isAppError(error)) throw error;
        return runMutation(request, reply, db, async () => {
          throw error;
        });
      }
      return runMutation(request, reply, db, async (tx) => {
        const row = await findPayment(tx, scope, refundId);
        if (!row) throw new Error('invariant violated: refund vanished');
        return { status: 201, body: paymentView(row), targetId: row.id };
      });
    },
  );
}

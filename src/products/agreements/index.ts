import { sandboxConnectors } from '../../connectors/sandbox-connectors.js';
import { issueCredential } from '../../core/credentials/credentials.js';
import { ensureCallbackEndpoint } from './endpoint.js';
import type { RouteContext } from '../../http/app.js';
import type { ProductModule } from '../index.js';
import { callbackAuthPurpose, flushPaymentCallbacks, mobilePayCallbackFormat } from './callback.js';
import { dialectRoutes, type AgreementsDeps } from './routes.js';
import { sandboxRoutes } from './sandbox.js';
import * as svc from './service.js';
import { randomBase62 } from '../../core/secrets/secrets.js';
import { consentRoutes, createOidcProvider, oidcMount, oidcPath, seedRefreshToken } from './oidc.js';
import { createOauthClient, signingKeyPurpose, signingKeys } from './tokens.js';
import { landingRoutes } from './web.js';
import { agreementsOpenApi } from './openapi.js';
import { agreementsPortal } from './portal.js';

/**
 * The batch job looks for due payment-callback batches this often; each provider's own
 * `callback_batch_seconds` (default 120, MobilePay's 2 minutes) decides when its batch is due.
 */
export const paymentCallbackPollSeconds = 10;

export function agreementsDeps(ctx: RouteContext): AgreementsDeps {
  return {
    ctx,
    keys: signingKeys(ctx.keys.derive(signingKeyPurpose)),
    issuer: `${ctx.config.baseUrl}${oidcPath}`,
    authKey: ctx.keys.derive(callbackAuthPurpose),
    wallet: sandboxConnectors().payerWallet,
  };
}

/** Agreements (MobilePay Subscriptions dialect); see README.md in this folder. */
export const agreements: ProductModule = {
  demoKey: 'agreements',
  async registerRoutes(app, ctx) {
    const deps = agreementsDeps(ctx);
    await app.register(async (scope) => dialectRoutes(scope, deps), { prefix: '/subscriptions' });
    await app.register(async (scope) => landingRoutes(scope, deps));
    const provider = createOidcProvider({
      issuer: deps.issuer,
      db: ctx.database.db,
      keys: deps.keys,
      keyRing: ctx.keys,
    });
    await app.register(async (scope) => oidcMount(scope, provider, ctx.config.baseUrl));
    await app.register(async (scope) => consentRoutes(scope, provider, ctx.database.db));
    app.get('/subscriptions/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () =>
      agreementsOpenApi(`${ctx.config.baseUrl}/subscriptions`),
    );
    sandboxRoutes(app, deps);
  },
  async seedDemo(tx, { merchantId, baseUrl }) {
    const environment = 'sandbox';
    const app = await issueCredential(tx, {
      merchantId,
      environment,
      dialect: 'agreements',
      name: 'demo agreements application',
    });
    const provider = await svc.createProvider(
      tx,
      { merchantId, environment },
      { name: 'Demo Streaming', homepage: 'https://example.com' },
    );
    await ensureCallbackEndpoint(tx, merchantId, environment);
    const client = await createOauthClient(tx, {
      merchantId,
      environment,
      name: 'Demo integrator',
      redirectUris: ['https://example.com/callback', 'http://localhost/callback'],
    });
    const refreshToken = await seedRefreshToken(tx, {
      clientId: client.clientId,
      merchantId,
      scope: 'openid offline_access subscriptions',
      id: () => randomBase62(43),
      lifetimeSeconds: 10 * 365 * 24 * 3600,
    });
    return {
      discoveryEndpoint: `${baseUrl}${oidcPath}/.well-known/openid-configuration`,
      apiEndpoint: `${baseUrl}/subscriptions`,
      providerId: provider.id,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      refreshToken,
      applicationClientId: app.row.public_id,
      applicationClientSecret: app.secret.reveal(),
    };
  },
  callbackFormats: (keys) => [mobilePayCallbackFormat(keys.derive(callbackAuthPurpose))],
  portal: agreementsPortal,
  jobHandlers: (services) => {
    const wallet = sandboxConnectors().payerWallet;
    void services;
    return [
      [
        svc.queues.expireAgreement,
        async (job, ctx) => svc.expireAgreement(ctx.db, String(job.payload.agreementId)),
      ],
      [
        svc.queues.expireOneOff,
        async (job, ctx) => svc.expireRequestedOneOff(ctx.db, String(job.payload.oneOffId)),
      ],
      [
        svc.queues.reservationExpired,
        async (job, ctx) => svc.expireReservation(ctx.db, String(job.payload.oneOffId)),
      ],
      [
        svc.queues.validatePayments,
        async (job, ctx) => svc.validatePaymentRequests(ctx.db, job.payload.ids as string[]),
      ],
      [
        svc.queues.executePayment,
        async (job, ctx) => svc.executePaymentRequest(ctx.db, wallet, String(job.payload.paymentRequestId)),
      ],
      [svc.queues.refund, async (job, ctx) => svc.processRefund(ctx.db, String(job.payload.refundId))],
      [
        svc.queues.flushCallbacks,
        async (_job, ctx) => {
          await flushPaymentCallbacks(ctx.db);
        },
      ],
    ] as const;
  },
  schedules: [
    {
      name: 'agreements-payment-callbacks',
      queue: svc.queues.flushCallbacks,
      intervalSeconds: paymentCallbackPollSeconds,
    },
  ],
};

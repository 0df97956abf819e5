import { issueCredential } from '../../core/credentials/credentials.js';
import type { ProductPortalEntry, TryItMethod } from '../index.js';
import { ensureCallbackEndpoint } from './endpoint.js';
import { createProvider } from './service.js';
import { randomBase62 } from '../../core/secrets/secrets.js';
import { refreshTokenTtlSeconds, seedRefreshToken } from './oidc.js';
import { createOauthClient } from './tokens.js';

const getHeaders = {
  authorization: 'Bearer {{accessToken}}',
  'x-ibm-client-id': '{{applicationClientId}}',
  'x-ibm-client-secret': '{{applicationClientSecret}}',
};
const headers = { 'content-type': 'application/json', ...getHeaders };
const provider = '/api/providers/{{providerId}}';

const tryIt: readonly TryItMethod[] = [
  {
    name: 'Token (refresh_token grant)',
    httpMethod: 'POST',
    path: '/token',
    basePath: { sandbox: '/subscriptions/oidc/connect', production: '/subscriptions/oidc/connect' },
    summary: 'Exchange the refresh token for a 300 s access token; send it first.',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    exampleBody: {
      grant_type: 'refresh_token',
      refresh_token: '{{refreshToken}}',
      client_id: '{{clientId}}',
      client_secret: '{{clientSecret}}',
    },
    learn: { accessToken: 'access_token' },
  },
  {
    name: 'GET merchants/me',
    httpMethod: 'GET',
    path: '/api/merchants/me',
    summary: 'You and your subscription providers.',
    headers: getHeaders,
  },
  {
    name: 'Create agreement',
    httpMethod: 'POST',
    path: `${provider}/agreements`,
    summary:
      'A monthly agreement with a first one-off of 49.00 DKK; open the mobile-pay link of the answer to accept it as the payer.',
    headers,
    exampleBody: {
      currency: 'DKK',
      country_code: 'DK',
      plan: 'Premium',
      description: 'Premium streaming',
      amount: 49,
      frequency: 12,
      expiration_timeout_minutes: 60,
      external_id: 'portal-try-it',
      links: [
        { rel: 'user-redirect', href: 'https://example.com/thanks' },
        { rel: 'success-callback', href: 'https://example.com/success' },
        { rel: 'cancel-callback', href: 'https://example.com/cancel' },
      ],
      one_off_payment: { amount: 49, external_id: 'portal-first-month', description: 'First month' },
    },
    learn: { agreementId: 'id', oneOffId: 'one_off_payment_id' },
  },
  {
    name: 'Get agreement',
    httpMethod: 'GET',
    path: `${provider}/agreements/{{agreementId}}`,
    summary: 'The agreement: Pending until the payer accepts, then Active.',
    headers: getHeaders,
  },
  {
    name: 'Get one-off payment',
    httpMethod: 'GET',
    path: `${provider}/agreements/{{agreementId}}/oneoffpayments/{{oneOffId}}`,
    summary: 'The one-off: Reserved once the payer accepts.',
    headers: getHeaders,
  },
  {
    name: 'Capture one-off payment',
    httpMethod: 'POST',
    path: `${provider}/agreements/{{agreementId}}/oneoffpayments/{{oneOffId}}/capture`,
    summary: 'Capture the reserved one-off (full amount, once): 204.',
    headers: getHeaders,
  },
  {
    name: 'Request one-off payment',
    httpMethod: 'POST',
    path: `${provider}/agreements/{{agreementId}}/oneoffpayments`,
    summary: 'Ask the payer for another one-off on an accepted agreement (mobile-pay link to accept).',
    headers,
    exampleBody: { amount: 15, description: 'Extra episode', external_id: 'portal-extra-1' },
    learn: { oneOffId: 'id' },
  },
];

/** How agreements (MobilePay Subscriptions) appears in the developer portal. */
export const agreementsPortal: ProductPortalEntry = {
  product: 'agreements',
  title: 'Agreements',
  summary:
    'Payer-approved recurring agreements, payment requests and one-off payments with reservations and refunds, OAuth/OIDC for integrators (MobilePay Subscriptions API).',
  readmePath: 'src/products/agreements/README.md',
  openApiTag: 'agreements',
  dialect: 'agreements',
  credentialFields: [
    { key: 'applicationClientId', label: 'Application client id (x-ibm-client-id)' },
    { key: 'applicationClientSecret', label: 'Application client secret (x-ibm-client-secret)' },
    { key: 'clientId', label: 'OAuth client id' },
    { key: 'clientSecret', label: 'OAuth client secret' },
    { key: 'refreshToken', label: 'Refresh token' },
    { key: 'providerId', label: 'Provider id' },
  ],
  basePath: { sandbox: '/subscriptions', production: '/subscriptions' },
  tryIt,
  async issueCredentials(tx, { merchantId, environment, name, baseUrl }) {
    const scope = { merchantId, environment };
    const issued = await issueCredential(tx, { ...scope, dialect: 'agreements', name });
    const created = await createProvider(tx, scope, { name: name.slice(0, 100) || 'My provider' });
    await ensureCallbackEndpoint(tx, merchantId, environment);
    const client = await createOauthClient(tx, {
      ...scope,
      name: name.slice(0, 100) || 'Portal integrator',
      redirectUris: [`${baseUrl}/portal/oauth/callback`],
    });
    // A refresh token for this client, in oidc-provider's storage (as the demo merchant's is seeded).
    const refreshToken = await seedRefreshToken(tx, {
      clientId: client.clientId,
      merchantId,
      scope: 'openid offline_access subscriptions',
      id: () => randomBase62(43),
      lifetimeSeconds: refreshTokenTtlSeconds,
    });
    return {
      issued,
      fields: {
        applicationClientId: issued.row.public_id,
        applicationClientSecret: issued.secret.reveal(),
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        refreshToken,
        providerId: created.id,
      },
    };
  },
  payerSimulation: [
    {
      label: 'Accept or reject an agreement',
      href: '/portal/products/agreements/try-it?env=sandbox',
      description:
        'Create agreement in Try It, then open the mobile-pay link of its answer: the payer landing page accepts (reserving its one-off) or rejects it. With your sandbox key, POST /v1/sandbox/agreements/{agreementId}/accept or /reject does the same.',
    },
    {
      label: 'Accept or reject a one-off payment',
      href: '/portal/products/agreements/try-it?env=sandbox',
      description:
        'Request one-off payment in Try It and open its mobile-pay link; or POST /v1/sandbox/agreements/one-off-payments/{oneOffId}/accept or /reject with your sandbox key.',
    },
    {
      label: 'Send payment callbacks now',
      href: '/portal/products/agreements',
      description:
        'Payment callbacks go out in batches; POST /v1/sandbox/agreements/callbacks/flush with your sandbox key sends them at once (see the README).',
    },
  ],
};

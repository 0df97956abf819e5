import { sql } from 'kysely';
import { issueCredential } from '../../core/credentials/credentials.js';
import type { ProductPortalEntry, TryItMethod } from '../index.js';
import { basePath } from './routes.js';
import { widgetScriptUrl } from './widget.js';

const headers = {
  'content-type': 'application/json',
  'x-api-key': '{{merchantKey}}',
  authorization: '{{authorization}}',
};

const tryIt: readonly TryItMethod[] = [
  {
    name: 'Create plan',
    httpMethod: 'POST',
    path: '/plans',
    summary: 'A monthly plan: 9.99 EUR at the start of each month, 14-day trial, until cancelled.',
    headers,
    exampleBody: {
      name: 'Premium monthly',
      description: 'Premium membership',
      recurrentAmount: '9.99',
      currencyIsoCode: 'EUR',
      trialDurationPeriod: 14,
      trialDurationUnit: 'day',
      billingOccurrence: 1,
      billingUnit: 'month',
      billingCycles: -1,
      prepaid: true,
    },
    learn: { planId: 'id' },
  },
  {
    name: 'List plans',
    httpMethod: 'GET',
    path: '/plans?page=0&pageSize=10',
    summary: 'The plans, newest last (paginated).',
    headers: { 'x-api-key': '{{merchantKey}}', authorization: '{{authorization}}' },
  },
  {
    name: 'Create subscription',
    httpMethod: 'POST',
    path: '/subscriptions',
    summary:
      'Subscribe a customer account to the plan created above; the card is stored later in the widget.',
    headers,
    exampleBody: {
      planId: '{{planId}}',
      customerAccountId: 'customer-42',
      startDate: '2030-01-01T09:00:00.000Z',
      timezone: 'Europe/Berlin',
      billingAddress: {
        addressLine1: 'Hauptstrasse',
        number: '1',
        city: 'Berlin',
        postCode: '10115',
        countryCode: 'DE',
      },
      consumer: {
        firstName: 'Erika',
        lastName: 'Mustermann',
        emailAddress: 'erika@example.com',
        title: 'Ms',
        dateOfBirth: '1990-01-01',
      },
    },
    learn: { subscriptionId: 'id' },
  },
  {
    name: 'Get subscription',
    httpMethod: 'GET',
    path: '/subscriptions/{{subscriptionId}}',
    summary: 'The subscription with its billing agreement and next billing date.',
    headers: { 'x-api-key': '{{merchantKey}}', authorization: '{{authorization}}' },
  },
  {
    name: 'Cancel subscription',
    httpMethod: 'DELETE',
    path: '/subscriptions/{{subscriptionId}}',
    summary: 'Cancel (status canceled); repeating it is a no-op.',
    headers: { 'x-api-key': '{{merchantKey}}', authorization: '{{authorization}}' },
  },
];

/** How subscriptions (SmartPay) appears in the developer portal. */
export const subscriptionsPortal: ProductPortalEntry = {
  product: 'subscriptions',
  title: 'Subscriptions',
  summary:
    'Plans, subscriptions and payment series charged to a stored card without the customer, with retries and a card widget (SmartPay Subscription Module API).',
  readmePath: 'src/products/subscriptions/README.md',
  openApiTag: 'subscriptions (SmartPay)',
  dialect: 'subscriptions',
  credentialFields: [
    { key: 'merchantKey', label: 'Merchant key (x-api-key)' },
    { key: 'authenticationKey', label: 'Authentication key (Basic password)' },
    { key: 'widgetScriptUrl', label: 'Widget script URL' },
  ],
  basePath: { sandbox: basePath, production: basePath },
  tryIt,
  async issueCredentials(tx, { merchantId, environment, name, baseUrl }) {
    const issued = await issueCredential(tx, { merchantId, environment, dialect: 'subscriptions', name });
    const merchantKey = issued.secret.reveal();
    const authenticationKey = issued.password?.reveal() ?? '';
    // The widget needs the page's origin allowed; the sandbox starts with the portal's own origin.
    if (environment === 'sandbox') {
      await sql`
        INSERT INTO sp_settings (merchant_id, environment, allowed_origins)
        VALUES (${merchantId}, 'sandbox', ${[new URL(baseUrl).origin]}::text[])
        ON CONFLICT (merchant_id, environment) DO NOTHING`.execute(tx);
    }
    return {
      issued,
      fields: {
        merchantKey,
        authenticationKey,
        widgetScriptUrl: widgetScriptUrl(baseUrl, issued.row.public_id),
        authorization: `Basic ${Buffer.from(`${merchantKey}:${authenticationKey}`).toString('base64')}`,
      },
    };
  },
};

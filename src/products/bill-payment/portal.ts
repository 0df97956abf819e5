import { getCredential } from '../../core/credentials/credentials.js';
import { Secret } from '../../core/secrets/secrets.js';
import type { ProductPortalEntry, TryItMethod } from '../index.js';
import { realmOf } from './auth.js';
import { sandboxBillPaymentConnectors } from './connectors.js';
import { demoProducts } from './index.js';
import { addFundingSource, createClient, saveProduct } from './native.js';
import { enableProduct, listProducts } from './repo.js';
import { gatewayPrefix } from './routes.js';

const apiHeaders = {
  'content-type': 'application/json',
  authorization: 'Bearer {{accessToken}}',
  'x-api-key': '{{apiKey}}',
};
const getHeaders = { authorization: 'Bearer {{accessToken}}', 'x-api-key': '{{apiKey}}' };

const tryIt: readonly TryItMethod[] = [
  {
    name: 'Security Service (token)',
    httpMethod: 'POST',
    path: '/token',
    basePath: {
      sandbox: `/auth/realms/${realmOf.sandbox}/protocol/openid-connect`,
      production: `/auth/realms/${realmOf.production}/protocol/openid-connect`,
    },
    summary: 'client_credentials token (300 s) for the other calls; send it first.',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    exampleBody: {
      client_id: '{{clientId}}',
      client_secret: '{{clientSecret}}',
      grant_type: 'client_credentials',
    },
    learn: { accessToken: 'access_token' },
  },
  {
    name: 'Product Lookup',
    httpMethod: 'GET',
    path: '/productLookup/2.0?clientId={{clientId}}',
    summary: 'The products enabled for your client.',
    headers: getHeaders,
  },
  {
    name: 'Customer Account Validation',
    httpMethod: 'POST',
    path: '/customerAccountValidation/1.0/validate',
    summary: "Ask the biller about the payer's account before paying (electricity meter, product 100).",
    headers: apiHeaders,
    exampleBody: {
      productId: 100,
      purchaseAmount: 9000,
      sourceIdentifier: '2341234567891',
      targetIdentifier: '2341234567891',
      clientId: '{{clientId}}',
      timestamp: '2030-01-01T10:00:00.000Z',
    },
  },
  {
    name: 'Financial Terms Lookup',
    httpMethod: 'GET',
    path: '/financial-terms/1.0?clientId={{clientId}}&productId=100&purchaseAmount=9000',
    summary: 'The fee and your share for a purchase amount.',
    headers: getHeaders,
  },
  {
    name: 'Reserve and Transact',
    httpMethod: 'POST',
    path: '/reserveAndTransact/4.0',
    summary:
      'Reserve the funds and vend (90.00 ZAR of electricity, fee 1.50); the result follows as Transact Result. Change clientTxnRef for a new one.',
    headers: apiHeaders,
    exampleBody: {
      clientId: '{{clientId}}',
      clientTxnRef: 'portal-try-it-1',
      productId: 100,
      purchaseAmount: 9000,
      feeAmount: 150,
      sourceIdentifier: '2341234567891',
      targetIdentifier: '2341234567891',
      channelId: 2,
      currencyCode: 'ZAR',
      fundingSourceId: '{{fundingSourceId}}',
      timestamp: '2030-01-01T10:00:00.000Z',
    },
    learn: { raasTxnRef: 'raasTxnRef' },
  },
  {
    name: 'Transaction Lookup',
    httpMethod: 'GET',
    path: '/lookup-api/2.0?clientId={{clientId}}&raasTxnRef={{raasTxnRef}}',
    summary: 'The state of a transaction by its raasTxnRef.',
    headers: getHeaders,
  },
];

/** How bill payment (Clickatell Payd) appears in the developer portal. */
export const billPaymentPortal: ProductPortalEntry = {
  product: 'bill-payment',
  title: 'Bill payment',
  summary:
    'Pay bills, airtime, electricity and vouchers for your customers: account validation, terms, reserve-and-transact with results by callback (Clickatell Payd API).',
  readmePath: 'src/products/bill-payment/README.md',
  openApiTag: 'bill-payment (Clickatell Payd)',
  dialect: 'bill_payment',
  credentialFields: [
    { key: 'clientId', label: 'Client id (client_id)' },
    { key: 'clientSecret', label: 'Client secret (client_secret)' },
    { key: 'apiKey', label: 'API key (X-API-Key)' },
    { key: 'fundingSourceId', label: 'Funding source id' },
  ],
  basePath: { sandbox: gatewayPrefix, production: gatewayPrefix },
  tryIt,
  async issueCredentials(tx, { merchantId, environment, name }) {
    const connectors = sandboxBillPaymentConnectors();
    const created = await createClient(tx, { merchantId, environment, name, signatureRequired: false });
    const fields: Record<string, string | number> = {
      clientId: created.client.client_id,
      clientSecret: created.clientSecret,
      apiKey: created.apiKey,
    };
    // Sandbox clients start with the demo catalogue and a simulated bank account; production ones are
    // set up by an operator (products, funding source) as before.
    if (environment === 'sandbox') {
      const existing = new Set((await listProducts(tx, 'sandbox')).map((p) => p.product_id));
      for (const product of demoProducts) {
        if (!existing.has(product.productId)) {
          await saveProduct(tx, connectors, { environment: 'sandbox', ...product });
        }
        await enableProduct(tx, created.client, product.productId, true);
      }
      const source = await addFundingSource(tx, { allowPrivate: false, connectors }, created.client, {
        name: 'Sandbox bank account',
      });
      fields.fundingSourceId = source.funding_source_id;
    }
    const row = await getCredential(tx, { merchantId, environment }, created.client.credential_id);
    return { issued: { row, secret: new Secret(created.apiKey) }, fields };
  },
};

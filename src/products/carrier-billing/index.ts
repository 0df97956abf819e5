import { issueCredential } from '../../core/credentials/credentials.js';
import { Secret } from '../../core/secrets/secrets.js';
import type { RouteContext } from '../../http/app.js';
import type { ProductModule } from '../index.js';
import { infomediaCallbackFormat } from './callback.js';
import { carrierRoutes } from './carrier-routes.js';
import { insertProduct, listProducts } from './repo.js';
import { dialectRoutes, nativeRoutes } from './routes.js';
import type { CarrierBillingDeps } from './service.js';

/** Keys derived from the master key for this product. */
export const pinPepperPurpose = 'carrier-billing:pin-pepper';
export const mxKeyPurpose = 'carrier-billing:mx';

export function carrierBillingDeps(ctx: RouteContext): CarrierBillingDeps {
  return {
    db: ctx.database.db,
    clock: ctx.clock,
    pepper: new Secret(ctx.keys.derive(pinPepperPurpose).toString('base64')),
    mxKey: ctx.keys.derive(mxKeyPurpose),
    smsLimits: ctx.config.smsLimits,
    smsSender: ctx.config.smsSender,
    pinLimits: ctx.config.pinLimits,
    connectors: ctx.connectors.carriers,
  };
}

/** Carrier billing (Infomedia DCB dialect); see README.md in this folder. */
export const carrierBilling: ProductModule = {
  demoKey: 'carrierBilling',
  registerRoutes(app, ctx) {
    dialectRoutes(app, ctx, carrierBillingDeps(ctx));
    nativeRoutes(app, ctx);
    carrierRoutes(app, ctx);
  },
  async seedDemo(tx, { merchantId }) {
    const credential = await issueCredential(tx, {
      merchantId,
      environment: 'sandbox',
      dialect: 'carrier_billing',
      name: 'demo carrier billing',
    });
    const product = await insertProduct(
      tx,
      { merchantId, environment: 'sandbox' },
      { name: 'Demo game credits', description: 'Game credits' },
    );
    return {
      apiKey: credential.secret.reveal(),
      username: credential.username,
      password: credential.password?.reveal(),
      productId: Number(product.product_id),
    };
  },
  callbackFormats: (keys) => [infomediaCallbackFormat(keys.derive(mxKeyPurpose))],
  portal: {
    product: 'carrier-billing',
    title: 'Carrier billing',
    summary:
      'Charge purchases to the payer’s phone bill: PIN by SMS, bill with the PIN, refunds and compliance SMS (Infomedia DCB API).',
    readmePath: 'src/products/carrier-billing/README.md',
    openApiTag: 'carrier-billing (Infomedia DCB)',
    dialect: 'carrier_billing',
    credentialFields: [
      { key: 'secret', label: 'API key (X-Infomedia-Api-Key)' },
      { key: 'username', label: 'User name (u)' },
      { key: 'password', label: 'Password (p)' },
    ],
    basePath: { sandbox: '/dcbsb', production: '/dcb' },
    tryIt: tryItMethods(),
    console: {
      connectors: {
        title: 'Carriers',
        path: '/v1/carriers',
        columns: ['name', 'environment', 'country', 'mcc', 'mnc', 'currency', 'connector_id', 'enabled'],
        exampleCreate: {
          environment: 'sandbox',
          name: 'Example Mobile',
          country: 'GB',
          mcc: '234',
          mnc: '99',
          currency: 'GBP',
          connector_id: 'carrier-simulator',
          per_transaction_max_minor: 3000,
          daily_max_minor: 6000,
          monthly_max_minor: 24000,
        },
      },
      capabilities: [
        {
          label: 'Billing without PIN (SendBill)',
          httpMethod: 'PUT',
          description:
            'Let the merchant charge without a PIN check; for merchants that verify the payer themselves.',
          path: '/v1/merchants/{merchantId}/carrier-billing/send-bill',
        },
      ],
    },
    async prepare(tx, scope) {
      const existing = await listProducts(tx, scope);
      if (existing.length === 0) {
        await insertProduct(tx, scope, { name: 'Default product', description: 'Created by the portal' });
      }
    },
    async exampleValues(db, scope): Promise<Record<string, string | number>> {
      const [first] = await listProducts(db, scope);
      return first ? { productId: Number(first.product_id) } : {};
    },
  },
};

function tryItMethods() {
  const headers = { 'content-type': 'application/json', 'x-infomedia-api-key': '{{secret}}' };
  const auth = { u: '{{username}}', p: '{{password}}' };
  const msisdn = '447700900123';
  return [
    {
      name: 'PinGenerateWithParams',
      httpMethod: 'POST' as const,
      path: '/PinGenerateWithParams',
      summary: 'Send a PIN SMS to the payer for a purchase (amount, description, language).',
      headers,
      exampleBody: {
        ...auth,
        mx: msisdn,
        productId: '{{productId}}',
        params: [
          { key: 'amount', value: '1.50' },
          { key: 'description', value: 'Game credits' },
          { key: 'language', value: 'en' },
        ],
      },
    },
    {
      name: 'SendBillWithPin',
      httpMethod: 'POST' as const,
      path: '/SendBillWithPin',
      summary: 'Check the PIN the payer typed and bill the purchase.',
      headers,
      exampleBody: {
        ...auth,
        mx: msisdn,
        productId: '{{productId}}',
        pinId: '{{pinId}}',
        params: [{ key: 'PIN', value: '000000' }],
      },
    },
    {
      name: 'GetTransaction',
      httpMethod: 'POST' as const,
      path: '/GetTransaction',
      summary: 'Look up a transaction by its txid.',
      headers,
      exampleBody: { ...auth, txid: '{{txid}}' },
    },
    {
      name: 'Refund',
      httpMethod: 'POST' as const,
      path: '/Refund',
      summary: 'Refund a billed transaction (where the carrier allows it).',
      headers,
      exampleBody: { ...auth, txid: '{{txid}}' },
    },
  ];
}

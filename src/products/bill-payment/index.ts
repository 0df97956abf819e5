import type { JobHandler } from '../../core/jobs/runner.js';
import type { KeyRing } from '../../core/secrets/keys.js';
import type { RouteContext } from '../../http/app.js';
import type { ProductModule } from '../index.js';
import { realmOf } from './auth.js';
import { transactResultFormat } from './callback.js';
import { sandboxBillPaymentConnectors, type BillPaymentConnectors } from './connectors.js';
import { addFundingSource, createClient, nativeRoutes, saveProduct, type ProductInput } from './native.js';
import { finalizeReservation, processTransaction } from './processing.js';
import { billPaymentPortal } from './portal.js';
import { enableProduct } from './repo.js';
import { dialectRoutes, gatewayPrefix } from './routes.js';
import { finalizeQueue, processQueue, type BillPaymentDeps } from './service.js';

/** Keys derived from the master key for this product. */
export const tokenKeyPurpose = 'bill-payment:token';
export const signingKeyPurpose = 'bill-payment:signing';
export const lookupKeyPurpose = 'bill-payment:lookup';
export const sealKeyPurpose = 'bill-payment:token-seal';

export function billPaymentKeys(keys: KeyRing): BillPaymentDeps['keys'] {
  return {
    token: keys.derive(tokenKeyPurpose),
    signing: keys.derive(signingKeyPurpose),
    lookup: keys.derive(lookupKeyPurpose),
    seal: keys.derive(sealKeyPurpose),
  };
}

export function billPaymentDeps(
  ctx: RouteContext,
  connectors = sandboxBillPaymentConnectors(),
): BillPaymentDeps {
  return { db: ctx.database.db, clock: ctx.clock, keys: billPaymentKeys(ctx.keys), connectors };
}

/** The workers' handlers; the kill -9 test builds them with its own connectors. */
export function billPaymentJobHandlers(
  connectors: BillPaymentConnectors,
  keys: KeyRing | undefined,
): [queue: string, handler: JobHandler][] {
  const sealKey = keys?.derive(sealKeyPurpose);
  return [
    [
      processQueue,
      async (job, ctx) => {
        const { raasTxnRef } = job.payload as { raasTxnRef: string };
        if (!sealKey) throw new Error('bill-payment workers need the key ring');
        await processTransaction({ db: ctx.db, connectors, sealKey }, raasTxnRef, job.attempts);
      },
    ],
    [
      finalizeQueue,
      async (job, ctx) => {
        const { raasTxnRef, action } = job.payload as { raasTxnRef: string; action: 'confirm' | 'release' };
        await finalizeReservation({ db: ctx.db, connectors }, raasTxnRef, action);
      },
    ],
  ];
}

/** The demo catalogue (sandbox, ZAR, biller simulator); product 100 is the one seed 002 asks about. */
export const demoProducts: readonly { productId: number; body: ProductInput['body'] }[] = [
  {
    productId: 100,
    body: {
      name: 'Enugu Electricity Prepaid',
      short_description: 'Prepaid electricity',
      product_type_id: 17,
      biller_product_code: 'ELECTRICITY',
      currency: 'ZAR',
      pricing: { type: 'range', minimum_amount: 1_000, maximum_amount: 300_000, increment: 1 },
      fee: { fixed_amount: 150 },
      client_share: { percentage: '1' },
      identifier: { kind: 'meter' },
    },
  },
  {
    productId: 101,
    body: {
      name: 'Prepaid Airtime',
      short_description: 'Airtime',
      product_type_id: 3,
      biller_product_code: 'AIRTIME',
      currency: 'ZAR',
      pricing: { type: 'range', minimum_amount: 500, maximum_amount: 100_000, increment: 100 },
      client_share: { percentage: '2.5' },
      identifier: { kind: 'msisdn' },
    },
  },
  {
    productId: 102,
    body: {
      name: 'Municipal Water Bill',
      short_description: 'Water',
      product_type_id: 18,
      biller_product_code: 'WATER',
      currency: 'ZAR',
      pricing: { type: 'range', minimum_amount: 100, maximum_amount: 1_000_000, increment: 1 },
      fee: { fixed_amount: 500, percentage: '0.5' },
      identifier: { kind: 'account' },
    },
  },
  {
    productId: 103,
    body: {
      name: 'Entertainment Voucher R50',
      short_description: 'Voucher',
      product_type_id: 10,
      biller_product_code: 'VOUCHER',
      currency: 'ZAR',
      pricing: { type: 'single', amount: 5_000 },
      identifier: { kind: 'msisdn' },
    },
  },
];

/** The demo client's id: the one in seed 002's example request. */
export const demoClientId = 111;

/** Bill payment (Clickatell Payd dialect); see README.md in this folder. */
export const billPayment: ProductModule = {
  demoKey: 'billPayment',
  async registerRoutes(app, ctx) {
    const deps = billPaymentDeps(ctx);
    await dialectRoutes(app, ctx, deps);
    nativeRoutes(app, ctx, { connectors: deps.connectors, signingKey: deps.keys.signing });
  },
  async seedDemo(tx, { merchantId, baseUrl }) {
    const connectors = sandboxBillPaymentConnectors();
    for (const product of demoProducts) {
      await saveProduct(tx, connectors, { environment: 'sandbox', ...product });
    }
    const created = await createClient(tx, {
      merchantId,
      environment: 'sandbox',
      name: 'Demo bank',
      signatureRequired: false,
      clientId: demoClientId,
    });
    for (const product of demoProducts) await enableProduct(tx, created.client, product.productId, true);
    const fundingSource = await addFundingSource(tx, { allowPrivate: true, connectors }, created.client, {
      name: 'Demo bank account',
    });
    return {
      tokenUrl: `${baseUrl}/auth/realms/${realmOf.sandbox}/protocol/openid-connect/token`,
      apiBaseUrl: `${baseUrl}${gatewayPrefix}`,
      clientId: created.client.client_id,
      clientSecret: created.clientSecret,
      apiKey: created.apiKey,
      fundingSourceId: fundingSource.funding_source_id,
      productIds: demoProducts.map((p) => p.productId),
      currencyCode: 'ZAR',
    };
  },
  callbackFormats: (keys) => [
    transactResultFormat(keys.derive(signingKeyPurpose), keys.derive(sealKeyPurpose)),
  ],
  jobHandlers: (services) => billPaymentJobHandlers(sandboxBillPaymentConnectors(), services.keys),
  portal: billPaymentPortal,
};

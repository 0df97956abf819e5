import { issueCredential } from '../../core/credentials/credentials.js';
import { Secret } from '../../core/secrets/secrets.js';
import type { RouteContext } from '../../http/app.js';
import type { ProductModule } from '../index.js';
import { infomediaCallbackFormat } from './callback.js';
import { carrierRoutes } from './carrier-routes.js';
import { insertProduct } from './repo.js';
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
};

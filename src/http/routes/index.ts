import type { App, RouteContext } from '../app.js';
import { productModules } from '../../products/index.js';
import { accessRoutes } from './access.js';
import { assetRoutes } from './assets.js';
import { auditRoutes } from './audit.js';
import { controlRoutes } from './control.js';
import { credentialRoutes } from './credentials.js';
import { merchantRoutes } from './merchants.js';
import { paymentRoutes } from './payments.js';
import { webhookRoutes } from './webhooks.js';
import { systemRoutes } from './system.js';
import { testClockRoutes } from '../../sandbox/test-clock-routes.js';
import { sandboxSmsRoutes } from '../../sandbox/sms-routes.js';

/** Every route module of the native API. Products add theirs from src/products/<product>/routes.ts. */
export async function registerRoutes(app: App, ctx: RouteContext): Promise<void> {
  systemRoutes(app, ctx);
  assetRoutes(app);
  merchantRoutes(app, ctx);
  credentialRoutes(app, ctx);
  accessRoutes(app, ctx);
  auditRoutes(app, ctx);
  paymentRoutes(app, ctx);
  webhookRoutes(app, ctx);
  controlRoutes(app, ctx);
  testClockRoutes(app, ctx);
  sandboxSmsRoutes(app, ctx);
  for (const product of productModules) await product.registerRoutes(app, ctx);
}

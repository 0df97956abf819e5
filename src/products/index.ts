import type { App, RouteContext } from '../http/app.js';
import type { Tx } from '../core/db/db.js';

/**
 * The product registry: each product under src/products/<product>/ exports one of these and is listed
 * below. The platform mounts its routes and lets it add the demo merchant's dialect credentials to
 * `payloom demo-credentials` — nothing else in the platform changes when a product is added.
 */
export interface ProductModule {
  /** Key in the demo-credentials object, e.g. `carrierBilling`. */
  readonly demoKey: string;
  registerRoutes(app: App, ctx: RouteContext): Promise<void> | void;
  /** Creates the demo merchant's credentials for this dialect; the result is stored and printed. */
  seedDemo?(tx: Tx, input: { merchantId: string; baseUrl: string }): Promise<Record<string, unknown>>;
}

export const productModules: readonly ProductModule[] = [];

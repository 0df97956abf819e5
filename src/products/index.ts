import type { Tx } from '../core/db/db.js';
import type { KeyRing } from '../core/secrets/keys.js';
import type { EventFormat } from '../core/webhooks/dispatch.js';
import type { App, RouteContext } from '../http/app.js';
import { carrierBilling } from './carrier-billing/index.js';

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
  /** The product's own callback formats (endpoint `format`), delivered by the core webhook engine. */
  callbackFormats?(keys: KeyRing): EventFormat[];
}

export const productModules: readonly ProductModule[] = [carrierBilling];

/** Every product's callback formats by name, for the webhook dispatcher. */
export function productCallbackFormats(keys: KeyRing): Map<string, EventFormat> {
  return new Map(productModules.flatMap((m) => m.callbackFormats?.(keys) ?? []).map((f) => [f.name, f]));
}

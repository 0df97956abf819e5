import type { CommandContext, CommandOutput } from '../commands.js';
import type { Tx } from '../core/db/db.js';
import type { JobHandler } from '../core/jobs/runner.js';
import type { KeyRing } from '../core/secrets/keys.js';
import type { EventFormat } from '../core/webhooks/dispatch.js';
import type { App, RouteContext } from '../http/app.js';
import type { WorkerServices } from '../worker.js';
import { agreements } from './agreements/index.js';
import { billPayment } from './bill-payment/index.js';
import { carrierBilling } from './carrier-billing/index.js';
import { subscriptions } from './subscriptions/index.js';

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
  /** The product's job handlers by queue (workers and test-clock advances run them). */
  jobHandlers?(services: ProductWorkerServices): Iterable<readonly [queue: string, handler: JobHandler]>;
  /** Recurring work, enqueued once per slot however many workers run. */
  readonly schedules?: readonly ProductSchedule[];
  /** CLI commands that use the database, by first word: `payloom <name> ...` (e.g. `vault`). */
  readonly commands?: Readonly<Record<string, ProductCommand>>;
}

export interface ProductWorkerServices extends WorkerServices {
  readonly keys?: KeyRing;
}

export interface ProductSchedule {
  readonly name: string;
  readonly queue: string;
  readonly intervalSeconds: number;
}

export type ProductCommand = (args: readonly string[], ctx: CommandContext) => Promise<CommandOutput>;

export const productModules: readonly ProductModule[] = [
  carrierBilling,
  billPayment,
  subscriptions,
  agreements,
];

/** Every product's callback formats by name, for the webhook dispatcher. */
export function productCallbackFormats(keys: KeyRing): Map<string, EventFormat> {
  return new Map(productModules.flatMap((m) => m.callbackFormats?.(keys) ?? []).map((f) => [f.name, f]));
}

export function productJobHandlers(services: ProductWorkerServices): [string, JobHandler][] {
  return productModules.flatMap((m) =>
    [...(m.jobHandlers?.(services) ?? [])].map(([q, h]): [string, JobHandler] => [q, h]),
  );
}

export const productSchedules: readonly ProductSchedule[] = productModules.flatMap((m) => m.schedules ?? []);

export function productCommand(name: string | undefined): ProductCommand | undefined {
  if (!name) return undefined;
  for (const m of productModules) {
    const command = m.commands?.[name];
    if (command) return command;
  }
  return undefined;
}

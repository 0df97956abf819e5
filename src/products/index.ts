import type { CommandContext, CommandOutput } from '../commands.js';
import type { IssuedCredential } from '../core/credentials/credentials.js';
import type { Executor, Tx } from '../core/db/db.js';
import type { Dialect, Environment, Product } from '../core/db/schema.js';
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
  /** How the product appears in the developer portal (src/portal): its pages render from this alone. */
  readonly portal?: ProductPortalEntry;
}

/**
 * A product's developer-portal entry: documentation, the credential shape a subscription gets, and the
 * Try It methods (requests against the product's own API, with examples). `{{name}}` placeholders in
 * Try It paths, headers and bodies are filled with the subscription's credential fields (`secret`,
 * `username`, `password` and any `issueCredentials` fields) in the browser, with `exampleValues` on the
 * server, and with values `learn`ed from earlier responses. A body whose `content-type` header is
 * `application/x-www-form-urlencoded` is sent form-encoded from the example object.
 */
export interface ProductPortalEntry {
  readonly product: Product;
  readonly title: string;
  readonly summary: string;
  /** The product README, relative to the package root; rendered with marked. */
  readonly readmePath: string;
  /** The tag of the product's operations in /openapi.json (its API reference). */
  readonly openApiTag: string;
  /** The dialect whose credentials a subscription gets, and the fields shown once. */
  readonly dialect: Dialect;
  readonly credentialFields: readonly PortalCredentialField[];
  /** Where the product's API lives per environment (Try It prefixes method paths with it). */
  readonly basePath: Readonly<Record<Environment, string>>;
  readonly tryIt: readonly TryItMethod[];
  /**
   * Run when a subscription's credentials are issued (same transaction), e.g. to create a default
   * object the examples need; returns values for `{{placeholders}}` in examples.
   */
  exampleValues?(
    db: Executor,
    scope: { merchantId: string; environment: Environment },
  ): Promise<Record<string, string | number>>;
  prepare?(tx: Tx, scope: { merchantId: string; environment: Environment }): Promise<void>;
  /**
   * Issues a subscription's credentials when the product's shape is more than one credential row
   * (e.g. an OAuth client beside the API key): returns the row issued and the extra fields, shown once
   * with it and usable as `{{placeholders}}` in Try It. Without it the portal issues one `dialect` row.
   */
  issueCredentials?(
    tx: Tx,
    input: { merchantId: string; environment: Environment; name: string; baseUrl: string },
  ): Promise<{ issued: IssuedCredential; fields: Record<string, string | number> }>;
  /** What the operator console shows for this product: connector configuration and capabilities. */
  readonly console?: ProductConsoleEntry;
  /** Payer-simulation actions the sandbox tools page offers for this product (links to hosted pages). */
  readonly payerSimulation?: readonly {
    readonly label: string;
    readonly href: string;
    readonly description: string;
  }[];
}

export interface ProductConsoleEntry {
  /** Connector configuration objects (e.g. carriers): listed, created and edited through these routes. */
  readonly connectors?: {
    readonly title: string;
    /** Operator GET (list, `{data: [...]}`) and POST (create) path; `PATCH {path}/{id}` edits one. */
    readonly path: string;
    /** A valid creation body, pre-filled in the console's form. */
    readonly exampleCreate: unknown;
    /** Fields shown as columns in the list. */
    readonly columns: readonly string[];
  };
  /** Per-merchant capabilities that need an operator: `METHOD path` with `{environment, allowed}`. */
  readonly capabilities?: readonly {
    readonly label: string;
    readonly httpMethod: 'POST' | 'PUT';
    readonly description: string;
    /** With `{merchantId}` in it. */
    readonly path: string;
  }[];
}

export interface PortalCredentialField {
  /** `secret`, `username`, `password`, `public_id`, or a field `issueCredentials` returns. */
  readonly key: string;
  readonly label: string;
}

export interface TryItMethod {
  /** Method name as the product documents it, e.g. `PinGenerateWithParams`. */
  readonly name: string;
  readonly httpMethod: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path after `basePath`, e.g. `/PinGenerateWithParams`. */
  readonly path: string;
  readonly summary: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly exampleBody?: unknown;
  /** Overrides the entry's `basePath` for this method (e.g. a token endpoint outside the API). */
  readonly basePath?: Readonly<Record<Environment, string>>;
  /**
   * Values learned from a successful JSON response for later methods' `{{placeholders}}`:
   * placeholder name → top-level response field (e.g. `{ accessToken: 'access_token' }`).
   */
  readonly learn?: Readonly<Record<string, string>>;
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

export function productPortalEntries(): ProductPortalEntry[] {
  return productModules.flatMap((m) => (m.portal ? [m.portal] : []));
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

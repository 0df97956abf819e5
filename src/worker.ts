import type { SmsGateway, SmsGatewayLog } from './connectors/contracts/sms-gateway.js';
import { SandboxSmsGateway } from './connectors/sms/sandbox/sandbox-gateway.js';
import { parseSmppGatewayConfig } from './connectors/sms/smpp/config.js';
import { SmppSmsGateway } from './connectors/sms/smpp/smpp-gateway.js';
import type { Config } from './config.js';
import type { Db } from './core/db/db.js';
import { SmsDispatcher } from './core/sms/dispatcher.js';
import { reconcilePayments, reconcileQueue, type ConnectorRegistry } from './core/payments/reconcile.js';
import { sandboxConnectorIds, sandboxConnectors } from './connectors/sandbox-connectors.js';
import type { CarrierConnector } from './connectors/contracts/carrier.js';
import { loadKeyRing, type KeyRing } from './core/secrets/keys.js';
import { productCallbackFormats, productJobHandlers, productSchedules } from './products/index.js';
import { pruneSmsCounters, sendQueue as smsSendQueue } from './core/sms/outbox.js';
import { pruneIdempotencyKeys } from './core/idempotency/idempotency.js';
import { deliverQueue } from './core/events/events.js';
import { upsertSchedule } from './core/jobs/jobs.js';
import { dispatchDelivery, type EventFormat } from './core/webhooks/dispatch.js';
import { expirePayment, expireQueue } from './core/payments/service.js';
import { startJobRunner, type JobHandler, type Logger } from './core/jobs/runner.js';

/** Recurring maintenance, as schedules the job runner enqueues (any number of workers, once per slot). */
export const schedules = [
  { name: 'prune-idempotency-keys', queue: 'maintenance.prune-idempotency-keys', intervalSeconds: 15 * 60 },
  { name: 'reconcile-payments', queue: reconcileQueue, intervalSeconds: 60 },
  { name: 'prune-sms-counters', queue: 'maintenance.prune-sms-counters', intervalSeconds: 6 * 3600 },
  ...productSchedules,
];

/** Every job handler Payloom runs, by queue. Products and core modules add theirs here. */
export interface WorkerServices {
  readonly allowPrivateCallbacks: boolean;
  readonly sms: SmsDispatcher;
  /** Connectors by id for reconciliation; defaults to this process's sandbox simulators. */
  readonly connectors?: ConnectorRegistry;
  /** Product callback formats by name. */
  readonly formats?: ReadonlyMap<string, EventFormat>;
  /** Keys derived from the master key, for products' job handlers. */
  readonly keys?: KeyRing;
}

/** Everything a process of either role shares: keys, connectors, SMS gateways, callback formats. */
export interface ProcessServices extends WorkerServices {
  readonly keys: KeyRing;
  readonly carrierConnectors: ReadonlyMap<string, CarrierConnector>;
  close(): Promise<void>;
}

export async function createProcessServices(
  db: Db,
  config: Config,
  log: SmsGatewayLog,
): Promise<ProcessServices> {
  const keys = await loadKeyRing(db, config.secretKey);
  const sms = createSmsDispatcher(db, config, log);
  const simulators = sandboxConnectors();
  return {
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    sms,
    keys,
    connectors: simulators.byId,
    carrierConnectors: new Map<string, CarrierConnector>([
      [sandboxConnectorIds.carrier, simulators.carrier],
      [sandboxConnectorIds.carrierWithoutRefunds, simulators.carrierWithoutRefunds],
    ]),
    formats: productCallbackFormats(keys),
    close: () => sms.close(),
  };
}

/** The SMS dispatcher of this process: the sandbox gateway, and the operator's gateway for production. */
export function createSmsDispatcher(db: Db, config: Config, log: SmsGatewayLog): SmsDispatcher {
  const sandbox = new SandboxSmsGateway({}, { log });
  let production: SmsGateway = sandbox;
  if (config.smsGateway === 'smpp' && config.smpp) {
    const { password, ...settings } = config.smpp;
    production = new SmppSmsGateway(parseSmppGatewayConfig(settings, password), { log });
  }
  return new SmsDispatcher(db, { sandbox, production }, log);
}

export function jobHandlers(services: WorkerServices): Map<string, JobHandler> {
  return new Map<string, JobHandler>([
    [
      'maintenance.prune-idempotency-keys',
      async (_job, ctx) => {
        await pruneIdempotencyKeys(ctx.db);
      },
    ],
    [
      'maintenance.prune-sms-counters',
      async (_job, ctx) => {
        await pruneSmsCounters(ctx.db);
      },
    ],
    [
      deliverQueue,
      async (job, ctx) => {
        const { merchantId, deliveryId } = job.payload as { merchantId: string; deliveryId: string };
        await dispatchDelivery(ctx.db, { merchantId, deliveryId }, ctx.now, {
          allowPrivate: services.allowPrivateCallbacks,
          ...(services.formats ? { formats: services.formats } : {}),
        });
      },
    ],
    [
      smsSendQueue,
      async (job) => {
        const { merchantId, smsId } = job.payload as { merchantId: string; smsId: string };
        await services.sms.send({ merchantId, smsId, attempt: job.attempts });
      },
    ],
    [
      reconcileQueue,
      async (_job, ctx) => {
        await reconcilePayments(ctx.db, services.connectors ?? sandboxConnectors().byId, ctx.log);
      },
    ],
    [
      expireQueue,
      async (job, ctx) => {
        const { merchantId, paymentId } = job.payload as { merchantId: string; paymentId: string };
        await expirePayment(ctx.db, { merchantId, paymentId });
      },
    ],
    ...productJobHandlers(services),
  ]);
}

/**
 * The worker role: runs due jobs. Safe to run in any number of processes: jobs are claimed with
 * SKIP LOCKED under a lease, and every handler is idempotent.
 */
export async function startWorker(
  db: Db,
  log: Logger,
  services: WorkerServices,
): Promise<{ stop(): Promise<void> }> {
  for (const schedule of schedules) await upsertSchedule(db, schedule);
  return startJobRunner(db, jobHandlers(services), log);
}

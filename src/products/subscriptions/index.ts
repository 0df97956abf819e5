import { sql } from 'kysely';
import { sandboxConnectors } from '../../connectors/sandbox-connectors.js';
import { issueCredential } from '../../core/credentials/credentials.js';
import type { Db } from '../../core/db/db.js';
import { enqueue } from '../../core/jobs/jobs.js';
import type { JobHandler } from '../../core/jobs/runner.js';
import { Vault } from '../../core/vault/vault.js';
import type { ProductModule } from '../index.js';
import {
  billQueue,
  chargeQueueClock,
  reconcileAttempts,
  reconcileQueue,
  runDueCycles,
  type BillingDeps,
} from './billing.js';
import { smartpayCallbackFormat } from './callback.js';
import { nativeRoutes } from './native.js';
import { subscriptionsPortal } from './portal.js';
import { basePath, dialectRoutes } from './routes.js';
import { widgetRoutes, widgetScriptUrl } from './widget.js';

/** Seconds a claimed cycle stays leased to its worker (twice the acquirer call's budget). */
export const chargeLeaseSeconds = 20;
export const billLaneQueue = 'subscriptions.bill-lane';
/** Lanes the billing schedule keeps busy; every worker can take some, each lane is one claimed batch. */
export const billLanes = 4;
export const demoAllowedOrigins = ['http://localhost:3000', 'http://127.0.0.1:3000'];

function billingDeps(db: Db, now: () => Date = () => new Date()): BillingDeps {
  return { db, acquirer: sandboxConnectors().cardAcquirer, now, leaseSeconds: chargeLeaseSeconds };
}

/** Subscriptions (SmartPay Subscription Module dialect); see README.md in this folder. */
export const subscriptions: ProductModule = {
  demoKey: 'subscriptions',
  async registerRoutes(app, ctx) {
    const deps = billingDeps(ctx.database.db, () => ctx.clock.now());
    const vault = new Vault(ctx.keys, ctx.config.vaultMasterKey);
    if (!ctx.config.vaultMasterKey) {
      app.log.warn(
        'vault: PAYLOOM_VAULT_MASTER_KEY is not set; card data keys are wrapped by a key derived from the platform master key' +
          (ctx.config.secretKey ? '' : ' (generated and kept in the database)') +
          '. Production cards are refused until one of PAYLOOM_VAULT_MASTER_KEY or PAYLOOM_SECRET_KEY is set.',
      );
    }
    dialectRoutes(app, ctx, deps);
    widgetRoutes(app, ctx, {
      db: ctx.database.db,
      vault,
      acquirer: deps.acquirer,
      now: deps.now,
      productionVault: ctx.config.vaultMasterKey !== undefined || ctx.config.secretKey !== undefined,
    });
    nativeRoutes(app, ctx, deps.acquirer);
    await Promise.resolve();
  },
  async seedDemo(tx, { merchantId, baseUrl }) {
    const credential = await issueCredential(tx, {
      merchantId,
      environment: 'sandbox',
      dialect: 'subscriptions',
      name: 'demo SmartPay subscriptions',
    });
    await sql`
      INSERT INTO sp_settings (merchant_id, environment, allowed_origins)
      VALUES (${merchantId}, 'sandbox', ${demoAllowedOrigins}::text[])
      ON CONFLICT (merchant_id, environment) DO UPDATE SET allowed_origins = excluded.allowed_origins`.execute(
      tx,
    );
    return {
      apiBaseUrl: `${baseUrl}${basePath}`,
      merchantKey: credential.secret.reveal(),
      authenticationKey: credential.password?.reveal(),
      widgetScriptUrl: widgetScriptUrl(baseUrl, credential.row.public_id),
      allowedOrigins: demoAllowedOrigins,
    };
  },
  callbackFormats: () => [smartpayCallbackFormat],
  portal: subscriptionsPortal,
  jobHandlers() {
    const handlers: [string, JobHandler][] = [
      [
        billQueue,
        async (_job, ctx) => {
          for (let lane = 0; lane < billLanes; lane++) {
            await enqueue(ctx.db, { queue: billLaneQueue, singletonKey: `lane:${lane}` });
          }
        },
      ],
      [
        billLaneQueue,
        async (_job, ctx) => {
          await runDueCycles(billingDeps(ctx.db), { testClockId: null, now: new Date(), budgetMs: 0 });
        },
      ],
      [
        chargeQueueClock,
        async (job, ctx) => {
          const testClockId = typeof job.payload.testClockId === 'string' ? job.payload.testClockId : null;
          if (testClockId) await runDueCycles(billingDeps(ctx.db), { testClockId, now: ctx.now });
        },
      ],
      [
        reconcileQueue,
        async (job, ctx) => {
          const testClockId = typeof job.payload.testClockId === 'string' ? job.payload.testClockId : null;
          await reconcileAttempts(billingDeps(ctx.db), { testClockId, now: ctx.now });
        },
      ],
    ];
    return handlers;
  },
  schedules: [
    { name: 'subscriptions-billing', queue: billQueue, intervalSeconds: 1 },
    { name: 'subscriptions-reconcile', queue: reconcileQueue, intervalSeconds: 60 },
  ],
  commands: {
    async vault(args, ctx) {
      if (args[0] !== 'rotate-key') {
        return { exitCode: 2, stdout: '', stderr: 'usage: payloom vault rotate-key\n' };
      }
      const { loadKeyRing } = await import('../../core/secrets/keys.js');
      const keys = await loadKeyRing(ctx.database.db, ctx.config.secretKey);
      const result = await new Vault(keys, ctx.config.vaultMasterKey).rotateKek(ctx.database.db);
      return {
        exitCode: 0,
        stdout: `vault: data keys re-wrapped from key version ${result.fromVersion} to ${result.toVersion} (${result.rewrapped} re-wrapped)\n`,
        stderr: '',
      };
    },
  },
};

import { sql } from 'kysely';
import { requestAccess, products } from '../access/access.js';
import { issueCredential, issueOperatorKey } from '../credentials/credentials.js';
import type { Db, Tx } from '../db/db.js';
import { insertMerchant } from '../merchants/merchants.js';

/** Advisory lock so processes starting together bootstrap once. */
const bootstrapLockId = 7_240_915_002;

export interface DemoSeeder {
  readonly demoKey: string;
  seedDemo?(tx: Tx, input: { merchantId: string; baseUrl: string }): Promise<Record<string, unknown>>;
}

export interface BootstrapResult {
  /** Set only on the start that created the operator key while demo seeding is off: print it once. */
  readonly newOperatorKey: string | undefined;
  readonly createdDemo: boolean;
}

/**
 * First start against an empty database: create the operator key and, unless PAYLOOM_SEED_DEMO=false,
 * a demo merchant with sandbox access to every product and a credential per dialect. The plain text of
 * those bootstrap secrets is kept in `bootstrap_secrets` so `payloom demo-credentials` can print them.
 * Products that exist later are seeded into the existing demo merchant on the next start.
 */
export async function bootstrap(
  db: Db,
  options: { seedDemo: boolean; baseUrl: string; seeders: readonly DemoSeeder[] },
): Promise<BootstrapResult> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${bootstrapLockId})`.execute(tx);
    let newOperatorKey: string | undefined;
    const anyOperator = await tx.selectFrom('operator_keys').select('id').limit(1).executeTakeFirst();
    if (!anyOperator) {
      const key = await issueOperatorKey(tx, 'bootstrap');
      if (options.seedDemo) await storeSecret(tx, 'operator', { apiKey: key.secret.reveal() });
      else newOperatorKey = key.secret.reveal();
    }
    if (!options.seedDemo) return { newOperatorKey, createdDemo: false };

    const secrets = await readSecrets(tx);
    let demo = secrets.get('demo') as { merchantId: string } | undefined;
    let createdDemo = false;
    if (!demo) {
      const merchant = await insertMerchant(tx, { name: 'Demo Merchant', isDemo: true });
      for (const product of products) {
        await requestAccess(tx, {
          merchantId: merchant.id,
          environment: 'sandbox',
          product,
          name: `Demo ${product}`,
        });
      }
      const native = await issueCredential(tx, {
        merchantId: merchant.id,
        environment: 'sandbox',
        dialect: 'native',
        name: 'demo native key',
      });
      demo = { merchantId: merchant.id };
      await storeSecret(tx, 'demo', demo);
      await storeSecret(tx, 'native', { apiKey: native.secret.reveal() });
      createdDemo = true;
    }
    for (const seeder of options.seeders) {
      if (!seeder.seedDemo || secrets.has(`product:${seeder.demoKey}`)) continue;
      const value = await seeder.seedDemo(tx, { merchantId: demo.merchantId, baseUrl: options.baseUrl });
      await storeSecret(tx, `product:${seeder.demoKey}`, value);
    }
    return { newOperatorKey, createdDemo };
  });
}

export interface DemoCredentials {
  baseUrl: string;
  merchantId: string;
  environment: 'sandbox';
  operator: { apiKey: string };
  native: { apiKey: string };
  [product: string]: unknown;
}

/** The object `payloom demo-credentials --json` prints; undefined when there is no demo merchant. */
export async function demoCredentials(db: Db, baseUrl: string): Promise<DemoCredentials | undefined> {
  const secrets = await readSecrets(db);
  const demo = secrets.get('demo') as { merchantId: string } | undefined;
  const operator = secrets.get('operator') as { apiKey: string } | undefined;
  const native = secrets.get('native') as { apiKey: string } | undefined;
  if (!demo || !operator || !native) return undefined;
  const result: DemoCredentials = {
    baseUrl,
    merchantId: demo.merchantId,
    environment: 'sandbox',
    operator,
    native,
  };
  for (const [name, value] of secrets) {
    if (name.startsWith('product:')) result[name.slice('product:'.length)] = value;
  }
  return result;
}

async function storeSecret(tx: Tx, name: string, value: Record<string, unknown>): Promise<void> {
  await tx
    .insertInto('bootstrap_secrets')
    .values({ name, value: JSON.stringify(value) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

async function readSecrets(db: Db | Tx): Promise<Map<string, Record<string, unknown>>> {
  const rows = await db.selectFrom('bootstrap_secrets').select(['name', 'value']).execute();
  return new Map(rows.map((r) => [r.name, r.value]));
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../db/db.js';
import type { Environment } from '../db/schema.js';
import { auditValues } from '../audit/audit.js';
import { keyRing, type KeyRing } from '../secrets/keys.js';
import type { Secret } from '../secrets/secrets.js';

/**
 * The card vault (README.md of src/products/subscriptions, "Card vault"; docs/adr/0012).
 *
 * - A card number is encrypted with AES-256-GCM under a data key per merchant and environment; the
 *   card's id, merchant and environment are the associated data, so a ciphertext cannot be moved.
 * - Data keys are stored wrapped (AES-256-GCM) by a key-encryption key (KEK) derived from the master key
 *   for a version (`vault:kek:v<N>`); `rotateKek` re-wraps every data key under the next version, one
 *   row at a time, while readers keep working (each row names its own version).
 * - A keyed fingerprint (HMAC-SHA256 under a key per merchant and environment) recognises the same card
 *   for the same customer without decrypting anything.
 * - Outside the vault only brand, first six, last four and expiry exist. The CVC is never passed in.
 * - Every decryption writes an audit row (`vault.read`) naming the reader and the purpose.
 */
export interface VaultScope {
  readonly merchantId: string;
  readonly environment: Environment;
}

export interface StoredCard {
  readonly id: string;
  readonly customerAccountId: string;
  readonly brand: string;
  readonly first6: string;
  readonly last4: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly connectorToken: string;
  readonly networkTransactionId: string | null;
  readonly createdAt: Date;
}

interface CardRow {
  id: string;
  customer_account_id: string;
  brand: string;
  first6: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  connector_token: string;
  network_transaction_id: string | null;
  created_at: Date;
}

const kekVersionInitial = 1;

function view(row: CardRow): StoredCard {
  return {
    id: row.id,
    customerAccountId: row.customer_account_id,
    brand: row.brand,
    first6: row.first6,
    last4: row.last4,
    expMonth: row.exp_month,
    expYear: row.exp_year,
    connectorToken: row.connector_token,
    networkTransactionId: row.network_transaction_id,
    createdAt: row.created_at,
  };
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}

const cardColumns = sql.raw(
  'id, customer_account_id, brand, first6, last4, exp_month, exp_year, connector_token, network_transaction_id, created_at',
);

export class Vault {
  readonly #kekRing: KeyRing;

  /**
   * `masterKey` (PAYLOOM_VAULT_MASTER_KEY) wraps the data keys when configured; otherwise they are
   * wrapped by a key derived from the platform master key. Set it before the first card is stored: data
   * keys wrapped under one source cannot be opened with the other.
   */
  constructor(
    private readonly keys: KeyRing,
    masterKey?: Secret,
  ) {
    this.#kekRing = masterKey ? keyRing(masterKey) : keys;
  }

  #kek(version: number): Buffer {
    return this.#kekRing.derive(`vault:kek:v${version}`);
  }

  /** The current KEK version (1 until the first rotation). */
  async currentKekVersion(db: Executor): Promise<number> {
    const { rows } = await sql<{ v: number }>`SELECT current_kek_version AS v FROM vault_state`.execute(db);
    return rows[0]?.v ?? kekVersionInitial;
  }

  /** The scope's data key, created (and wrapped under the current KEK) on first use. */
  async #dataKey(db: Executor, scope: VaultScope): Promise<Buffer> {
    const aad = `${scope.merchantId}|${scope.environment}`;
    const existing = await sql<{ kek_version: number; wrapped_key: Buffer }>`
      SELECT kek_version, wrapped_key FROM vault_data_keys
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}`.execute(db);
    const row = existing.rows[0];
    if (row) return open(this.#kek(row.kek_version), row.wrapped_key, aad);
    const version = await this.currentKekVersion(db);
    const fresh = randomBytes(32);
    await sql`
      INSERT INTO vault_data_keys (merchant_id, environment, kek_version, wrapped_key)
      VALUES (${scope.merchantId}, ${scope.environment}, ${version}, ${seal(this.#kek(version), fresh, aad)})
      ON CONFLICT DO NOTHING`.execute(db);
    // Another request may have won the insert: read back whichever key is stored.
    const stored = await sql<{ kek_version: number; wrapped_key: Buffer }>`
      SELECT kek_version, wrapped_key FROM vault_data_keys
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}`.execute(db);
    const winner = stored.rows[0];
    if (!winner) throw new Error('invariant violated: data key missing after insert');
    return open(this.#kek(winner.kek_version), winner.wrapped_key, aad);
  }

  fingerprint(scope: VaultScope, pan: string): Buffer {
    const key = this.keys.derive(`vault:fingerprint:${scope.merchantId}:${scope.environment}`);
    return createHmac('sha256', key).update(pan).digest();
  }

  /**
   * Stores a card for a customer, or finds the same card (by fingerprint) already stored for them and
   * updates its expiry. Returns the card without its number.
   */
  async storeCard(
    db: Executor,
    scope: VaultScope,
    input: {
      customerAccountId: string;
      pan: string;
      brand: string;
      expMonth: number;
      expYear: number;
      connectorToken: string;
    },
  ): Promise<StoredCard> {
    const fingerprint = this.fingerprint(scope, input.pan);
    const id = randomUUID().replace(/-/g, '');
    const dataKey = await this.#dataKey(db, scope);
    const ciphertext = seal(
      dataKey,
      Buffer.from(input.pan, 'utf8'),
      `${scope.merchantId}|${scope.environment}|${id}`,
    );
    const { rows } = await sql<CardRow>`
      INSERT INTO vault_cards (merchant_id, environment, id, customer_account_id, fingerprint, brand, first6, last4,
                               exp_month, exp_year, ciphertext, connector_token)
      VALUES (${scope.merchantId}, ${scope.environment}, ${id}, ${input.customerAccountId}, ${fingerprint},
              ${input.brand}, ${input.pan.slice(0, 6)}, ${input.pan.slice(-4)}, ${input.expMonth}, ${input.expYear},
              ${ciphertext}, ${input.connectorToken})
      ON CONFLICT (merchant_id, environment, customer_account_id, fingerprint)
      DO UPDATE SET exp_month = excluded.exp_month, exp_year = excluded.exp_year
      RETURNING ${cardColumns}`.execute(db);
    const row = rows[0];
    if (!row) throw new Error('invariant violated: card not stored');
    return view(row);
  }

  async setNetworkTransactionId(
    db: Executor,
    scope: VaultScope,
    cardId: string,
    ntid: string,
  ): Promise<void> {
    await sql`UPDATE vault_cards SET network_transaction_id = ${ntid}
               WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${cardId}`.execute(
      db,
    );
  }

  async getCard(db: Executor, scope: VaultScope, cardId: string): Promise<StoredCard | undefined> {
    const { rows } = await sql<CardRow>`
      SELECT ${cardColumns} FROM vault_cards
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${cardId}`.execute(
      db,
    );
    return rows[0] ? view(rows[0]) : undefined;
  }

  /** A customer's verified cards (those with a network transaction id), newest first. */
  async customerCards(db: Executor, scope: VaultScope, customerAccountId: string): Promise<StoredCard[]> {
    const { rows } = await sql<CardRow>`
      SELECT ${cardColumns} FROM vault_cards
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}
         AND customer_account_id = ${customerAccountId} AND network_transaction_id IS NOT NULL
       ORDER BY created_at DESC LIMIT 20`.execute(db);
    return rows.map(view);
  }

  /** Decrypts a card number; every read is audited with its purpose. */
  async readPan(
    db: Executor,
    scope: VaultScope,
    cardId: string,
    reader: { actorId: string; purpose: string; requestId: string },
  ): Promise<string> {
    const { rows } = await sql<{ ciphertext: Buffer }>`
      SELECT ciphertext FROM vault_cards
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${cardId}`.execute(
      db,
    );
    const row = rows[0];
    if (!row) throw new Error(`vault: no card ${cardId}`);
    const dataKey = await this.#dataKey(db, scope);
    const pan = open(dataKey, row.ciphertext, `${scope.merchantId}|${scope.environment}|${cardId}`).toString(
      'utf8',
    );
    await db
      .insertInto('audit_log')
      .values(
        auditValues({
          actorType: 'system',
          actorId: reader.actorId,
          merchantId: scope.merchantId,
          environment: scope.environment,
          action: `vault.read:${reader.purpose}`,
          targetId: cardId,
          requestId: reader.requestId,
          statusCode: 200,
        }),
      )
      .execute();
    return pan;
  }

  /**
   * Re-wraps every data key under the next KEK version. Each row is re-wrapped in its own statement,
   * guarded by its old version, so readers never see a key they cannot open and a crash half-way is
   * finished by running the command again.
   */
  async rotateKek(db: Executor): Promise<{ fromVersion: number; toVersion: number; rewrapped: number }> {
    const from = await this.currentKekVersion(db);
    const to = from + 1;
    await sql`INSERT INTO vault_state (id, current_kek_version) VALUES (true, ${to})
              ON CONFLICT (id) DO UPDATE SET current_kek_version = greatest(vault_state.current_kek_version, ${to})`.execute(
      db,
    );
    const { rows } = await sql<{
      merchant_id: string;
      environment: Environment;
      kek_version: number;
      wrapped_key: Buffer;
    }>`
      SELECT merchant_id, environment, kek_version, wrapped_key FROM vault_data_keys WHERE kek_version < ${to}`.execute(
      db,
    );
    let rewrapped = 0;
    for (const row of rows) {
      const aad = `${row.merchant_id}|${row.environment}`;
      const key = open(this.#kek(row.kek_version), row.wrapped_key, aad);
      const result = await sql`
        UPDATE vault_data_keys SET kek_version = ${to}, wrapped_key = ${seal(this.#kek(to), key, aad)}, rewrapped_at = now()
         WHERE merchant_id = ${row.merchant_id} AND environment = ${row.environment} AND kek_version = ${row.kek_version}`.execute(
        db,
      );
      if ((result.numAffectedRows ?? 0n) > 0n) rewrapped++;
    }
    return { fromVersion: from, toVersion: to, rewrapped };
  }
}

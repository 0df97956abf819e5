import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { DatabaseHandle, Db } from './db.js';
import { splitSqlScript } from './sql-script.js';

/** db/migrations, found from this file both in src/ (tests) and in dist/src/ (built program). */
export function migrationsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const fromSrc = path.resolve(here, '../../../db/migrations');
  const fromDist = path.resolve(here, '../../../../db/migrations');
  return here.includes(`${path.sep}dist${path.sep}`) ? fromDist : fromSrc;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export async function loadMigrations(dir = migrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: text,
      checksum: createHash('sha256').update(text).digest('hex'),
    });
  }
  return migrations;
}

/** Arbitrary constant: the advisory lock that serialises migration runs across processes. */
const migrationLockId = 7_240_915_001;

/**
 * Applies pending forward-only SQL migrations. Every process runs this at start: a transaction-scoped
 * advisory lock makes concurrent starters wait, and the one that follows finds nothing left to do.
 * An applied migration whose file changed is an error (migrations are never edited once landed).
 */
export async function migrate(
  handle: DatabaseHandle,
  migrations?: Migration[],
): Promise<{ applied: string[] }> {
  const all = migrations ?? (await loadMigrations());
  return handle.db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${migrationLockId})`.execute(tx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`.execute(tx);
    const done = await tx.selectFrom('schema_migrations').select(['version', 'name', 'checksum']).execute();
    const byVersion = new Map(done.map((m) => [m.version, m]));
    const applied: string[] = [];
    for (const migration of all) {
      const previous = byVersion.get(migration.version);
      if (previous) {
        if (previous.checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} changed after it was applied (checksum differs)`);
        }
        continue;
      }
      for (const statement of splitSqlScript(migration.sql)) await sql.raw(statement).execute(tx);
      await tx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
        .execute();
      applied.push(migration.name);
    }
    return { applied };
  });
}

/** True when every migration file is applied (readiness). */
export async function migrationsCurrent(db: Db, migrations: Migration[]): Promise<boolean> {
  const rows = await db.selectFrom('schema_migrations').select('version').execute();
  const have = new Set(rows.map((r) => r.version));
  return migrations.every((m) => have.has(m.version));
}

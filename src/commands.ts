import type { Config } from './config.js';
import { demoCredentials } from './core/bootstrap/bootstrap.js';
import { issueOperatorKey } from './core/credentials/credentials.js';
import type { DatabaseHandle } from './core/db/db.js';
import { migrate } from './core/db/migrate.js';
import { verifyLedger } from './core/ledger/verify.js';
import { productCommand } from './products/index.js';
import { operatorCreateUser } from './portal/operator-command.js';

/**
 * CLI commands that use the database. They run either in the CLI's own process or, when a server owns
 * the embedded data directory, inside that server (see cli.ts and routes/control.ts), so their output
 * is collected rather than printed.
 */
export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CommandContext {
  readonly database: DatabaseHandle;
  readonly config: Config;
}

export const databaseCommands = ['migrate', 'demo-credentials', 'operator', 'ledger'] as const;

export function isDatabaseCommand(name: string | undefined): boolean {
  return (databaseCommands as readonly string[]).includes(name ?? '') || productCommand(name) !== undefined;
}

export async function runDatabaseCommand(
  args: readonly string[],
  ctx: CommandContext,
): Promise<CommandOutput> {
  const [name, ...rest] = args;
  switch (name) {
    case 'migrate': {
      const { applied } = await migrate(ctx.database);
      return ok(
        applied.length
          ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n`
          : 'migrations are up to date\n',
      );
    }
    case 'demo-credentials': {
      const credentials = await demoCredentials(ctx.database.db, ctx.config.baseUrl);
      if (!credentials) {
        return fail('No demo merchant here: run `payloom start` once (with PAYLOOM_SEED_DEMO not false).\n');
      }
      if (rest.includes('--json')) return ok(`${JSON.stringify(credentials)}\n`);
      return ok(
        [
          `Base URL:          ${credentials.baseUrl}`,
          `Docs:              ${credentials.baseUrl}/docs`,
          `Demo merchant:     ${credentials.merchantId} (sandbox)`,
          `Operator API key:  ${credentials.operator.apiKey}`,
          `Native API key:    ${credentials.native.apiKey}`,
          'Everything, per product: payloom demo-credentials --json',
          '',
        ].join('\n'),
      );
    }
    case 'operator': {
      if (rest[0] === 'create-user') return operatorCreateUser(rest.slice(1), ctx);
      if (rest[0] !== 'create-key') {
        return fail(
          'usage: payloom operator create-key [--name NAME]\n       payloom operator create-user --email EMAIL [--role admin|support] [--totp|--no-totp]\n',
        );
      }
      const nameIndex = rest.indexOf('--name');
      const keyName = nameIndex >= 0 ? (rest[nameIndex + 1] ?? 'cli') : 'cli';
      const key = await issueOperatorKey(ctx.database.db, keyName);
      return ok(`${key.secret.reveal()}\n`);
    }
    case 'ledger': {
      if (rest[0] !== 'verify') return fail('usage: payloom ledger verify\n');
      const report = await verifyLedger(ctx.database.db);
      const lines = [
        `transactions: ${report.transactions}, entries: ${report.entries}, accounts: ${report.accounts}`,
        ...report.totals.map((t) => `${t.currency}: debits ${t.debits_minor}, credits ${t.credits_minor}`),
      ];
      if (report.findings.length === 0) return ok(`${lines.join('\n')}\nledger verified: no differences\n`);
      return {
        exitCode: 1,
        stdout: `${lines.join('\n')}\n`,
        stderr: `${report.findings.map((f) => `DIFFERENCE: ${f}`).join('\n')}\n${report.findings.length} difference(s)\n`,
      };
    }
    default: {
      const command = productCommand(name);
      if (command) return command(rest, ctx);
      return fail(`unknown command ${name ?? ''}\n`);
    }
  }
}

function ok(stdout: string): CommandOutput {
  return { exitCode: 0, stdout, stderr: '' };
}

function fail(stderr: string): CommandOutput {
  return { exitCode: 1, stdout: '', stderr };
}

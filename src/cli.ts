import { parseArgs } from 'node:util';
import { runDatabaseCommand, isDatabaseCommand, type CommandOutput } from './commands.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openPglite, openPostgres, type DatabaseHandle } from './core/db/db.js';
import { DataDirBusyError, EmbeddedLock, liveHolder } from './core/db/embedded-lock.js';
import { migrate } from './core/db/migrate.js';
import { start, type Role } from './server.js';

const usage = `Usage: payloom <command>

  start [--role api|worker|all] [--port N]   run Payloom (default role: all)
  migrate                                    apply database migrations
  demo-credentials [--json]                  print the demo merchant's credentials
  operator create-key [--name NAME]          create an operator API key (printed once)
  operator create-user --email E [--role admin|support] [--totp]
                                             create a console user (prints a one-time password)
  ledger verify                              recompute balances from entries; exit 1 on any difference
  vault rotate-key                           re-wrap the card vault's data keys under the current master key
  help                                       this text

Settings come from the environment; see README.md ("Settings").
`;

/** Parses argv and runs one command; returns the exit code (start never returns while serving). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'start') {
      const { values } = parseArgs({
        args: [...rest],
        options: { role: { type: 'string', default: 'all' }, port: { type: 'string' } },
        strict: true,
      });
      const role = values.role as Role;
      if (!['api', 'worker', 'all'].includes(role))
        throw new ConfigError('--role must be api, worker or all');
      let port: number | undefined;
      if (values.port !== undefined) {
        if (!/^\d+$/.test(values.port) || Number(values.port) > 65535)
          throw new ConfigError('--port must be 0-65535');
        port = Number(values.port);
      }
      await start(loadConfig(undefined, port), role);
      return -1;
    }
    if (command === undefined || command === 'help' || command === '--help') {
      process.stdout.write(usage);
      return command === undefined ? 1 : 0;
    }
    if (!isDatabaseCommand(command)) {
      process.stderr.write(`unknown command "${command}"\n\n${usage}`);
      return 1;
    }
    const output = await runAgainstDatabase(loadConfig(), argv);
    process.stdout.write(output.stdout);
    process.stderr.write(output.stderr);
    return output.exitCode;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirBusyError) {
      process.stderr.write(`payloom: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * Runs a database command. On PostgreSQL, directly. On an embedded data directory owned by a running
 * `payloom start`, inside that server (PGlite allows one process per directory); otherwise the CLI takes
 * the directory's lock for the duration of the command.
 */
async function runAgainstDatabase(config: Config, args: readonly string[]): Promise<CommandOutput> {
  if (!config.databaseUrl) {
    const holder = liveHolder(config.dataDir);
    if (holder?.port) {
      const response = await fetch(`http://127.0.0.1:${holder.port}/internal/cli`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-payloom-control': holder.controlToken },
        body: JSON.stringify({ args }),
        signal: AbortSignal.timeout(30_000),
      });
      if (!response.ok) throw new Error(`the running server refused the command (${response.status})`);
      return (await response.json()) as CommandOutput;
    }
    const lock = EmbeddedLock.acquire(config.dataDir);
    try {
      return await withDatabase(await openPglite({ dataDir: config.dataDir }), config, args);
    } finally {
      lock.release();
    }
  }
  return withDatabase(await openPostgres(config.databaseUrl, 2), config, args);
}

async function withDatabase(
  database: DatabaseHandle,
  config: Config,
  args: readonly string[],
): Promise<CommandOutput> {
  try {
    if (args[0] !== 'migrate') await migrate(database);
    return await runDatabaseCommand(args, { database, config });
  } finally {
    await database.close();
  }
}

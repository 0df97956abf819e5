import cluster from 'node:cluster';
import { pino } from 'pino';
import type { Config } from './config.js';
import { bootstrap } from './core/bootstrap/bootstrap.js';
import { openPglite, openPostgres, type DatabaseHandle } from './core/db/db.js';
import { EmbeddedLock } from './core/db/embedded-lock.js';
import { loadMigrations, migrate } from './core/db/migrate.js';
import { systemClock } from './core/time/clock.js';
import { buildApp, redactedPaths, serializeError } from './http/app.js';
import { productModules } from './products/index.js';
import { createProcessServices, jobHandlers, startWorker, type ProcessServices } from './worker.js';

export type Role = 'api' | 'worker' | 'all';

/**
 * `payloom start`. With PostgreSQL and the api role, the primary process migrates, bootstraps and (for
 * role `all`) runs the worker, and forks PAYLOOM_API_PROCESSES api processes that share one port. With
 * embedded PGlite everything runs in this one process, which owns the data directory.
 */
export async function start(config: Config, role: Role): Promise<void> {
  const log = pino({
    level: config.logLevel,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: { err: serializeError },
  });
  if (cluster.isWorker) {
    const database = await openDatabase(config, undefined);
    await serveApi(config, log, database, undefined, await createProcessServices(database.db, config, log));
    return;
  }

  const lock = config.databaseUrl ? undefined : EmbeddedLock.acquire(config.dataDir);
  const database = await openDatabase(config, lock);
  const stopFns: Array<() => Promise<void> | void> = [];
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    for (const stop of stopFns.reverse()) await stop();
    await database.close();
    lock?.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const { applied } = await migrate(database);
  log.info(
    { applied: applied.length, migrations: applied },
    applied.length ? 'migrations applied' : 'migrations up to date',
  );
  const boot = await bootstrap(database.db, {
    seedDemo: config.seedDemo,
    baseUrl: config.baseUrl,
    seeders: productModules,
  });
  const services = await createProcessServices(database.db, config, log);
  stopFns.push(() => services.close());

  if (role !== 'api') {
    const worker = await startWorker(database.db, log, services);
    stopFns.push(() => worker.stop());
  }
  let port: number | undefined;
  if (role !== 'worker') {
    if (config.databaseUrl && config.apiProcesses > 1) {
      port = await forkApiProcesses(config, log);
    } else {
      const app = await serveApi(config, log, database, lock?.info.controlToken, services);
      port = listeningPort(app.server.address());
      lock?.announce(port);
      stopFns.push(() => app.close());
    }
  }
  printBanner(config, role, port, boot.newOperatorKey);
}

async function openDatabase(config: Config, lock: EmbeddedLock | undefined): Promise<DatabaseHandle> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, config.dbPoolMax);
  if (!lock && !cluster.isWorker) throw new Error('invariant violated: embedded database without its lock');
  return openPglite({ dataDir: config.dataDir });
}

async function serveApi(
  config: Config,
  log: pino.Logger,
  database: DatabaseHandle,
  controlToken: string | undefined,
  services: ProcessServices,
) {
  const app = await buildApp({
    config,
    database,
    migrations: await loadMigrations(),
    clock: systemClock,
    jobHandlers: jobHandlers(services),
    keys: services.keys,
    connectors: { carriers: services.carrierConnectors },
    ...(controlToken ? { controlToken } : {}),
  });
  await app.listen({ host: config.host, port: config.port });
  if (cluster.isWorker) {
    process.send?.({ type: 'listening', port: listeningPort(app.server.address()) });
    const stop = async () => {
      await app.close();
      await database.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  }
  log.debug({ pid: process.pid }, 'api process listening');
  return app;
}

/** Forks the api processes; each shares the port through node:cluster. A process that dies is replaced. */
async function forkApiProcesses(config: Config, log: pino.Logger): Promise<number> {
  let shuttingDown = false;
  process.once('SIGTERM', () => (shuttingDown = true));
  process.once('SIGINT', () => (shuttingDown = true));
  const fork = () =>
    new Promise<number>((resolve, reject) => {
      const child = cluster.fork();
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message.type === 'listening' && typeof message.port === 'number') resolve(message.port);
      });
      child.once('exit', (code) => {
        reject(new Error(`api process exited with ${code}`));
        if (!shuttingDown) {
          log.error({ pid: child.process.pid, code }, 'api process died; starting another');
          void fork().catch(() => undefined);
        }
      });
    });
  const ports = await Promise.all(Array.from({ length: config.apiProcesses }, fork));
  return ports[0] ?? config.port;
}

function listeningPort(address: ReturnType<import('node:net').Server['address']>): number {
  if (address && typeof address === 'object') return address.port;
  throw new Error('invariant violated: server is not listening on a TCP port');
}

function printBanner(
  config: Config,
  role: Role,
  port: number | undefined,
  newOperatorKey: string | undefined,
): void {
  const base =
    port !== undefined && port !== config.port ? config.baseUrl.replace(/:\d+$/, `:${port}`) : config.baseUrl;
  const lines = [
    '',
    `Payloom (${role}) on ${config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`}`,
  ];
  if (!config.databaseUrl) {
    lines.push(
      '  Embedded mode is for development, demos and tests: PGlite does not fsync. Use DATABASE_URL in production.',
    );
  }
  if (port !== undefined) {
    lines.push(`  listening on http://${config.host}:${port}`);
    lines.push(`  API:   ${base}`);
    lines.push(`  Docs:  ${base}/docs   (OpenAPI: ${base}/openapi.json)`);
    lines.push(`  Health: ${base}/healthz   Ready: ${base}/readyz   Metrics: ${base}/metrics`);
  }
  if (config.seedDemo)
    lines.push('  Demo credentials: npx payloom demo-credentials   (add --json for all of them)');
  if (newOperatorKey) lines.push(`  Operator API key (shown once, store it now): ${newOperatorKey}`);
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
}

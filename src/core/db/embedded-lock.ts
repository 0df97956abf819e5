import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * PGlite allows one process per data directory; two processes on one directory silently lose writes.
 * The owner takes `payloom.lock` (created exclusively, mode 0600). A running server records its port
 * and a control token there, so CLI commands run inside it instead of opening the directory twice.
 */
export interface LockInfo {
  pid: number;
  port: number | null;
  controlToken: string;
  startedAt: string;
}

export class DataDirBusyError extends Error {
  constructor(readonly holder: LockInfo) {
    super(
      `The data directory is in use by process ${holder.pid}` +
        (holder.port ? ` (payloom start on port ${holder.port})` : '') +
        '. Stop it first, or use DATABASE_URL for several processes.',
    );
  }
}

export function lockPath(dataDir: string): string {
  return path.join(dataDir, 'payloom.lock');
}

export function readLock(dataDir: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of the lock, if any (a lock left by a dead process does not count). */
export function liveHolder(dataDir: string): LockInfo | undefined {
  const info = readLock(dataDir);
  return info && info.pid !== process.pid && processAlive(info.pid) ? info : undefined;
}

export class EmbeddedLock {
  private constructor(
    readonly dataDir: string,
    readonly info: LockInfo,
  ) {}

  static acquire(dataDir: string): EmbeddedLock {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const info: LockInfo = {
      pid: process.pid,
      port: null,
      controlToken: randomBytes(32).toString('base64url'),
      startedAt: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(lockPath(dataDir), JSON.stringify(info), { flag: 'wx', mode: 0o600 });
        return new EmbeddedLock(dataDir, info);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readLock(dataDir);
        if (holder && processAlive(holder.pid)) throw new DataDirBusyError(holder);
        // Left by a process that died: remove it and try again (exclusive create settles any race).
        try {
          unlinkSync(lockPath(dataDir));
        } catch {
          // Someone else removed it first.
        }
      }
    }
    throw new Error(`could not take ${lockPath(dataDir)}`);
  }

  /** Publishes the port so CLI commands can reach this process. */
  announce(port: number): void {
    this.info.port = port;
    writeFileSync(lockPath(this.dataDir), JSON.stringify(this.info), { mode: 0o600 });
  }

  release(): void {
    const current = readLock(this.dataDir);
    if (current?.pid === process.pid) {
      try {
        unlinkSync(lockPath(this.dataDir));
      } catch {
        // Already gone.
      }
    }
  }
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backend } from '../harness.js';

const script = path.resolve(import.meta.dirname, 'probe-embedded.mjs');

function startUntil(dataDir: string, line: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, dataDir, 'run'], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${line}" within 60 s: ${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(line)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${output}`));
    });
  });
}

async function kill9(child: ChildProcess): Promise<void> {
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

// The embedded database: the process that owns it is killed mid-job and started again.
describe.runIf(backend() === 'pglite')('kill -9 mid-job on embedded PGlite', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'payloom-kill-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('after a restart the job runs again and its effect happens once', async () => {
    const first = await startUntil(dataDir, 'running attempt 1');
    await kill9(first);
    const second = await startUntil(dataDir, 'job completed');
    await kill9(second);
    const report = spawnSync(process.execPath, [script, dataDir, 'report'], { encoding: 'utf8' });
    expect(report.status).toBe(0);
    const result = JSON.parse(report.stdout) as {
      runs: Array<{ attempt: number }>;
      effects: unknown[];
      jobs: number;
    };
    expect(result.runs.map((r) => r.attempt)).toEqual([1, 2]);
    expect(result.effects).toEqual([{ key: 'order-7' }]);
    expect(result.jobs).toBe(0);
  });
});

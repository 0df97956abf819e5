import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backend } from '../harness.js';
import { runPayloom, startPayloom } from './spawn.js';

// Embedded PGlite is a single-process database: these tests run once, in the PGlite project.
describe.runIf(backend() === 'pglite')('payloom start on embedded PGlite, with the CLI alongside', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'payloom-cli-'));
  const env = { PAYLOOM_DATA_DIR: dataDir };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('first start serves /healthz, prints where the demo credentials are, and the CLI reads them while it runs', async () => {
    const server = await startPayloom(env);
    try {
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(health.status).toBe(200);
      expect(server.output()).toContain('payloom demo-credentials');
      expect(server.output()).toContain('/docs');

      const result = await runPayloom(['demo-credentials', '--json'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const creds = JSON.parse(result.stdout);
      expect(creds).toMatchObject({ environment: 'sandbox', merchantId: expect.stringMatching(/^mer_/) });
      expect(creds.operator.apiKey).toMatch(/^pl_op_/);
      expect(creds.native.apiKey).toMatch(/^pl_test_/);

      // The credentials work against the running server, which still owns the directory.
      const me = await fetch(`http://127.0.0.1:${server.port}/v1/merchant`, {
        headers: { authorization: `Bearer ${creds.native.apiKey}` },
      });
      expect(me.status).toBe(200);

      // A second server on the same directory refuses instead of corrupting it.
      const second = await runPayloom(['start', '--port', '0'], env);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain('in use by process');
    } finally {
      expect(await server.stop()).toBe(0);
    }

    // Stopped: the CLI opens the directory itself and sees the same data.
    const offline = await runPayloom(['demo-credentials', '--json'], env);
    expect(offline.code).toBe(0);
    const again = JSON.parse(offline.stdout);
    expect(again.native.apiKey).toMatch(/^pl_test_/);
    const migrateAgain = await runPayloom(['migrate'], env);
    expect(migrateAgain.stdout).toContain('up to date');

    // Data survives a restart.
    const restarted = await startPayloom(env);
    try {
      const me = await fetch(`http://127.0.0.1:${restarted.port}/v1/merchant`, {
        headers: { authorization: `Bearer ${again.native.apiKey}` },
      });
      expect(me.status).toBe(200);
    } finally {
      await restarted.stop();
    }
  });

  it('a lock left by a killed process does not block the next start', async () => {
    const server = await startPayloom(env);
    await server.stop('SIGKILL');
    const next = await startPayloom(env);
    try {
      expect((await fetch(`http://127.0.0.1:${next.port}/readyz`)).status).toBe(200);
    } finally {
      await next.stop();
    }
  });
});

import { defineConfig } from 'vitest/config';

// Three projects: pure unit tests beside the code; the integration suite on PGlite; the same suite on
// PostgreSQL when TEST_DATABASE_URL is set (CI sets it). Each integration test file gets its own database.
// Process tests that only make sense on one backend are included only in that backend's project.
const postgres = process.env.TEST_DATABASE_URL
  ? [
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: ['test/process/embedded-*.test.ts'],
          env: { PAYLOOM_TEST_DB: 'postgres' },
        },
      },
    ]
  : [];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.VITEST_JSON_REPORT
      ? ['default', ['json', { outputFile: process.env.VITEST_JSON_REPORT }]]
      : ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/process/two-processes.test.ts',
            'test/process/job-kill.test.ts',
            'test/subscriptions/charge-kill.test.ts',
          ],
          env: { PAYLOOM_TEST_DB: 'pglite' },
        },
      },
      ...postgres,
    ],
  },
});

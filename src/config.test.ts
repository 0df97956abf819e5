import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('config', () => {
  it('has working defaults: embedded database, port 8080, demo seeding', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.port).toBe(8080);
    expect(config.baseUrl).toBe('http://localhost:8080');
    expect(config.dataDir).toMatch(/\.payloom$/);
    expect(config.seedDemo).toBe(true);
    expect(config.apiProcesses).toBe(1);
    expect(config.rateLimitSandboxPerSecond).toBe(25);
    expect(config.rateLimitProductionPerSecond).toBe(100);
  });

  it('follows --port in the default base URL but keeps an explicit one', () => {
    expect(loadConfig({}, 9000).baseUrl).toBe('http://localhost:9000');
    expect(loadConfig({ PAYLOOM_BASE_URL: 'https://pay.example.com/' }, 9000).baseUrl).toBe(
      'https://pay.example.com',
    );
  });

  it('rejects invalid values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be a whole number/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ PAYLOOM_SEED_DEMO: 'maybe' })).toThrow(/PAYLOOM_SEED_DEMO/);
    expect(() => loadConfig({ PAYLOOM_LOG_LEVEL: 'loud' })).toThrow(/PAYLOOM_LOG_LEVEL/);
    expect(() => loadConfig({ PAYLOOM_API_PROCESSES: '4' })).toThrow(/needs DATABASE_URL/);
    expect(() => loadConfig({ PAYLOOM_IDEMPOTENCY_TTL_HOURS: '1' })).toThrow(/between 24/);
  });

  it('uses several api processes on PostgreSQL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://localhost/x', PAYLOOM_API_PROCESSES: '3' });
    expect(config.apiProcesses).toBe(3);
  });
});

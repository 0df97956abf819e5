import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { demoPayd } from './helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_RATE_LIMIT_SANDBOX_PER_SECOND: '3' } });
});
afterAll(async () => {
  await t.close();
});

describe('bill payment: the rate limit', () => {
  it('answers 429 with a Retry-After in the vendor shape, not a field error', async () => {
    const api = await demoPayd(t);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await api.get('/productLookup/2.0', { clientId: api.clientId }));
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.body).toEqual({
      responseCode: '4290',
      responseMessage: expect.stringContaining('Rate limit'),
    });
    expect(limited?.headers['retry-after']).toMatch(/^\d+$/);
  });
});

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { nowIso, payd, runJobsUntil, startReceiver, tokenFor, type Payd } from './helpers.js';

let t: TestApp;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let api: Payd;
let signingSecret: string;
let fundingSourceId: number;

const sign = (secret: string, raw: string) =>
  createHmac('sha256', Buffer.from(secret, 'utf8')).update(raw).digest('base64');

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  receiver = await startReceiver();
  const created = await t.request('POST', '/v1/bill-payment/clients', {
    key: t.demo.native.apiKey,
    body: { name: 'Signing bank', signature_required: true },
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    signature_required: true,
    realm: 'SANDBOX-API',
    token_url: expect.stringContaining('/auth/realms/SANDBOX-API/protocol/openid-connect/token'),
    api_base_url: expect.stringMatching(/\/apiman-gateway\/PaydServices$/),
  });
  const clientId = created.body.client_id as number;
  signingSecret = created.body.signing_secret as string;
  const enabled = await t.request('PUT', `/v1/bill-payment/clients/${clientId}/products/100`, {
    key: t.demo.operator.apiKey,
    body: { enabled: true },
  });
  expect(enabled.status).toBe(200);
  const fs = await t.request('POST', `/v1/bill-payment/clients/${clientId}/funding-sources`, {
    key: t.demo.native.apiKey,
    body: { name: 'Signed bank', result_url: receiver.url },
  });
  fundingSourceId = fs.body.funding_source_id as number;
  api = payd(
    t,
    clientId,
    await tokenFor(t, clientId, created.body.client_secret as string),
    created.body.api_key as string,
  );
  // Shown once: the client list does not repeat any secret.
  const list = await t.request('GET', '/v1/bill-payment/clients', { key: t.demo.native.apiKey });
  expect(JSON.stringify(list.body)).not.toContain(signingSecret);
  expect(JSON.stringify(list.body)).not.toContain(created.body.client_secret as string);
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

const body = () =>
  JSON.stringify({
    clientId: api.clientId,
    clientTxnRef: `sig${Math.random().toString(36).slice(2, 10)}`,
    productId: 100,
    purchaseAmount: 10000,
    feeAmount: 150,
    sourceIdentifier: '27821234567',
    targetIdentifier: '2341234567891',
    channelId: 3,
    currencyCode: 'ZAR',
    fundingSourceId,
    timestamp: nowIso(),
  });

describe('bill payment: the Signature header', () => {
  it('refuses a missing, wrong or tampered signature with 400 4000 Header Signature invalid, creating nothing', async () => {
    const raw = body();
    const invalid = { responseCode: '4000', responseMessage: 'Header Signature invalid', raasTxnRef: null };
    const missing = await api.postRaw('/reserveAndTransact/4.0', raw);
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual(invalid);
    const wrongKey = await api.postRaw('/reserveAndTransact/4.0', raw, {
      signature: sign('not the secret', raw),
    });
    expect(wrongKey.body).toEqual(invalid);
    const tampered = await api.postRaw('/transact/4.0', raw.replace('10000', '10001'), {
      signature: sign(signingSecret, raw),
    });
    expect(tampered.body).toEqual(invalid);
    // Re-serialised JSON is not the bytes that were signed.
    const reserialised = JSON.stringify(JSON.parse(raw), null, 2);
    expect(
      (await api.postRaw('/reserveAndTransact/4.0', reserialised, { signature: sign(signingSecret, raw) }))
        .body,
    ).toEqual(invalid);
    const lookup = await api.get('/lookup-api/2.0', {
      clientId: api.clientId,
      clientTransactionReference: JSON.parse(raw).clientTxnRef as string,
    });
    expect(lookup.status).toBe(404);
  });

  it('accepts the signed request and signs the Transact Result it sends', async () => {
    const raw = body();
    const res = await api.postRaw('/reserveAndTransact/4.0', raw, { Signature: sign(signingSecret, raw) });
    expect(res.body).toMatchObject({ responseCode: '0000' });
    const raasTxnRef = res.body.raasTxnRef as string;
    await runJobsUntil(t, () => receiver.received.some((r) => r.body.raasTxnRef === raasTxnRef));
    const result = receiver.received.find((r) => r.body.raasTxnRef === raasTxnRef);
    expect(result?.body).toMatchObject({ responseCode: '0000', reserveAmount: 10150 });
    expect(result?.headers.signature).toBe(sign(signingSecret, result?.raw ?? ''));
  });

  it('does not ask for a signature where the vendor does not use one (validation)', async () => {
    const res = await api.post('/customerAccountValidation/1.0/validate', {
      productId: 100,
      purchaseAmount: 9000,
      sourceIdentifier: '2341234567891',
      targetIdentifier: '2341234567891',
      clientId: api.clientId,
      timestamp: nowIso(),
    });
    expect(res.status).toBe(200);
  });
});

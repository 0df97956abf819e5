import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/products/bill-payment/auth.js';
import { lookupReference } from '../../src/products/bill-payment/terms.js';
import { startTestApp, type TestApp } from '../harness.js';
import { demoOf, demoPayd, gateway, nowIso, payd, requestToken, type Payd } from './helpers.js';

let t: TestApp;
let api: Payd;

beforeAll(async () => {
  t = await startTestApp();
  api = await demoPayd(t);
});
afterAll(async () => {
  await t.close();
});

async function counts() {
  const { rows } = await sql<{ txns: number; payments: number }>`
    SELECT (SELECT count(*)::int FROM bp_transactions) AS txns, (SELECT count(*)::int FROM payments) AS payments`.execute(
    t.database.handle.db,
  );
  return rows[0];
}

const validBody = () => ({
  productId: 100,
  purchaseAmount: 9000,
  sourceIdentifier: '2341234567891',
  targetIdentifier: '2341234567891',
  clientId: 111,
  timestamp: '2016-06-29T16:39:42.735Z',
});

const purchase = () => ({
  ...validBody(),
  clientTxnRef: `bad${Math.random().toString(36).slice(2, 10)}`,
  feeAmount: 150,
  channelId: 2,
  currencyCode: 'ZAR',
  fundingSourceId: demoOf(t).fundingSourceId,
  timestamp: nowIso(),
});

describe('bill payment: Security Service errors (Keycloak shapes)', () => {
  const demo = () => demoOf(t);
  it('answers an unknown realm 404, a wrong grant type, an unknown client and a wrong secret 400', async () => {
    const form = () => ({
      client_id: String(demo().clientId),
      client_secret: demo().clientSecret,
      grant_type: 'client_credentials',
    });
    expect((await requestToken(t, form(), 'NOPE')).status).toBe(404);
    for (const grant of ['password', '']) {
      const res = await requestToken(t, { ...form(), grant_type: grant });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'unsupported_grant_type', error_description: 'invalid GRANT_TYPE' });
    }
    const noGrant = await requestToken(t, {
      client_id: form().client_id,
      client_secret: form().client_secret,
    });
    expect(noGrant.body).toMatchObject({ error_description: 'invalid GRANT_TYPE' });
    for (const clientId of ['abc', '999999', '', '1.5']) {
      const res = await requestToken(t, { ...form(), client_id: clientId });
      expect(res.status, clientId).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_client',
        error_description: 'UNKNOWN_CLIENT: Client was not identified by any client authenticator',
      });
    }
    // The demo client is a sandbox client: the production realm does not know it.
    expect((await requestToken(t, form(), 'PROD-API')).body).toMatchObject({ error: 'invalid_client' });
    const wrong = await requestToken(t, { ...form(), client_secret: 'x'.repeat(40) });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'unauthorized_client', error_description: 'Invalid client secret' });
    expect((await requestToken(t, { ...form(), client_secret: 'x'.repeat(300) })).status).toBe(400);
  });

  it('issues the vendor shape, also to HTTP Basic client authentication and in the UAT-API realm', async () => {
    const basic = Buffer.from(`${demo().clientId}:${demo().clientSecret}`).toString('base64');
    const res = await t.request('POST', '/auth/realms/UAT-API/protocol/openid-connect/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      payload: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 300,
      refresh_expires_in: '1800',
      'not-before-policy': 0,
    });
  });
});

describe('bill payment: bearer token and X-API-Key on every call', () => {
  const validate = (headers: Record<string, string>) =>
    t.request('POST', `${gateway}/customerAccountValidation/1.0/validate`, {
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(validBody()),
    });

  it('refuses a missing, forged or expired token and a missing or wrong API key with 401 4001', async () => {
    const key = t.services.keys.derive('bill-payment:token');
    const now = Math.floor(Date.now() / 1000);
    const expired = issueToken(key, {
      clientId: 111,
      environment: 'sandbox',
      nowSeconds: now - 301,
      typ: 'Bearer',
    });
    const refresh = issueToken(key, {
      clientId: 111,
      environment: 'sandbox',
      nowSeconds: now,
      typ: 'Refresh',
    });
    const forged = `${api.token.slice(0, -4)}AAAA`;
    const cases: Record<string, string>[] = [
      { 'x-api-key': api.apiKey },
      { authorization: `Bearer ${forged}`, 'x-api-key': api.apiKey },
      { authorization: `Bearer ${expired}`, 'x-api-key': api.apiKey },
      { authorization: `Bearer ${refresh}`, 'x-api-key': api.apiKey },
      { authorization: `Bearer ${api.token}` },
      { authorization: `Bearer ${api.token}`, 'x-api-key': 'wrong-key' },
      { authorization: `Bearer ${api.token}`, 'x-api-key': t.demo.native.apiKey },
    ];
    for (const headers of cases) {
      const res = await validate(headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.body).toMatchObject({ responseCode: '4001' });
    }
    expect((await validate({ authorization: `Bearer ${api.token}`, 'x-api-key': api.apiKey })).status).toBe(
      200,
    );
  });

  it('refuses a clientId that is not the token client with 403 4003', async () => {
    const res = await api.post('/customerAccountValidation/1.0/validate', { ...validBody(), clientId: 112 });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      responseCode: '4003',
      responseMessage: 'clientId does not match the access token',
    });
  });
});

describe('bill payment: Customer Account Validation field rules (4000 naming the field)', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['missing productId', { productId: undefined }, 'productId :may not be null'],
    ['productId not an integer', { productId: 'abc' }, 'productId :must be an integer'],
    ['productId fractional', { productId: 1.5 }, 'productId :must be an integer'],
    ['productId zero', { productId: 0 }, 'productId :must be greater than or equal to 1'],
    ['productId too wide', { productId: 2147483648 }, 'productId :must be less than or equal to 2147483647'],
    ['unknown productId', { productId: 999 }, 'productId:999 not found'],
    ['missing purchaseAmount', { purchaseAmount: null }, 'purchaseAmount :may not be null'],
    ['zero purchaseAmount', { purchaseAmount: 0 }, 'purchaseAmount :must be greater than or equal to 1'],
    ['negative purchaseAmount', { purchaseAmount: -5 }, 'purchaseAmount :must be greater than or equal to 1'],
    [
      '13-digit purchaseAmount',
      { purchaseAmount: 1000000000000 },
      'purchaseAmount :must be less than or equal to 999999999999',
    ],
    ['purchaseAmount as text', { purchaseAmount: '90a0' }, 'purchaseAmount :must be an integer'],
    [
      'below the product minimum',
      { purchaseAmount: 999 },
      'purchaseAmount :must be greater than or equal to 1000',
    ],
    [
      'above the product maximum',
      { purchaseAmount: 300001 },
      'purchaseAmount :must be less than or equal to 300000',
    ],
    ['missing sourceIdentifier', { sourceIdentifier: undefined }, 'sourceIdentifier :may not be null'],
    ['empty sourceIdentifier', { sourceIdentifier: '' }, 'sourceIdentifier :size must be between 1 and 32'],
    [
      'long sourceIdentifier',
      { sourceIdentifier: '1'.repeat(33) },
      'sourceIdentifier :size must be between 1 and 32',
    ],
    [
      'non-alphanumeric sourceIdentifier',
      { sourceIdentifier: '234-123' },
      'sourceIdentifier :must be an alphanumeric',
    ],
    ['numeric sourceIdentifier', { sourceIdentifier: 2341234567891 }, 'sourceIdentifier :must be a string'],
    ['missing targetIdentifier', { targetIdentifier: undefined }, 'targetIdentifier :may not be null'],
    [
      'non-alphanumeric targetIdentifier',
      { targetIdentifier: '12 34' },
      'targetIdentifier :must be an alphanumeric',
    ],
    [
      'long targetIdentifier',
      { targetIdentifier: 'a'.repeat(33) },
      'targetIdentifier :size must be between 1 and 32',
    ],
    [
      'target not a meter number',
      { targetIdentifier: 'ABC123' },
      'Target Identifier expected to be a meter number based on the product',
    ],
    ['missing clientId', { clientId: undefined }, 'clientId :may not be null'],
    ['clientId zero', { clientId: 0 }, 'clientId :must be greater than or equal to 1'],
    ['clientId too large', { clientId: 1000000000 }, 'clientId :must be less than or equal to 999999999'],
    ['missing timestamp', { timestamp: undefined }, 'timestamp :may not be null'],
    [
      'timestamp not ISO 8601',
      { timestamp: '29/06/2016 16:39' },
      'timestamp :must be an ISO 8601 date-time, e.g. 2016-06-29T16:39:42.735Z',
    ],
    [
      'timestamp without time',
      { timestamp: '2016-06-29' },
      'timestamp :must be an ISO 8601 date-time, e.g. 2016-06-29T16:39:42.735Z',
    ],
    [
      'timestamp too long',
      { timestamp: '2016-06-29T16:39:42.735000000+00:00' },
      'timestamp :size must be between 1 and 32',
    ],
  ];
  for (const [name, change, message] of cases) {
    it(`${name} → 400 4000 "${message}"`, async () => {
      const res = await api.post('/customerAccountValidation/1.0/validate', { ...validBody(), ...change });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ responseCode: '4000', responseMessage: message });
    });
  }

  it('airtime needs an MSISDN target', async () => {
    const res = await api.post('/customerAccountValidation/1.0/validate', {
      ...validBody(),
      productId: 101,
      purchaseAmount: 1000,
      targetIdentifier: 'a1',
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      responseCode: '4000',
      responseMessage: 'Target Identifier expected to be an MSISDN based on the product',
    });
  });

  it('unparsable JSON, a JSON array and a non-JSON body are 400 4000 Transaction request not valid', async () => {
    for (const payload of ['{"productId": 100,,}', '[1,2]', '']) {
      const res = await api.postRaw('/customerAccountValidation/1.0/validate', payload);
      expect(res.status, payload).toBe(400);
      expect(res.body).toEqual({ responseCode: '4000', responseMessage: 'Transaction request not valid' });
    }
    const text = await api.postRaw('/customerAccountValidation/1.0/validate', 'productId=100', {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(400);
    expect(text.body).toMatchObject({ responseCode: '4000' });
  });
});

describe('bill payment: Transact / Reserve and Transact field rules; nothing reserved or vended', () => {
  const reject400: [string, Record<string, unknown>, string][] = [
    ['missing clientTxnRef', { clientTxnRef: undefined }, 'clientTxnRef :may not be null'],
    ['empty clientTxnRef', { clientTxnRef: '' }, 'clientTxnRef :size must be between 1 and 64'],
    ['long clientTxnRef', { clientTxnRef: 'r'.repeat(65) }, 'clientTxnRef :size must be between 1 and 64'],
    ['missing purchaseAmount', { purchaseAmount: undefined }, 'purchaseAmount :may not be null'],
    ['negative purchaseAmount', { purchaseAmount: -1 }, 'purchaseAmount :must be greater than or equal to 1'],
    [
      '13-digit purchaseAmount',
      { purchaseAmount: 1234567890123 },
      'purchaseAmount :must be less than or equal to 999999999999',
    ],
    ['negative feeAmount', { feeAmount: -1 }, 'feeAmount :must be greater than or equal to 0'],
    ['feeAmount not an integer', { feeAmount: 1.5 }, 'feeAmount :must be an integer'],
    ['missing channelId', { channelId: undefined }, 'channelId :may not be null'],
    ['channelId above 99', { channelId: 100 }, 'channelId :must be less than or equal to 99'],
    ['channelName not alphanumeric', { channelName: 'Web!' }, 'channelName :must be an alphanumeric'],
    ['channelName too long', { channelName: 'x'.repeat(33) }, 'channelName :size must be between 1 and 32'],
    [
      'channelSessionId not alphanumeric',
      { channelSessionId: 'a b' },
      'channelSessionId :must be an alphanumeric',
    ],
    ['authCode too long', { authCode: 'a'.repeat(65) }, 'authCode :size must be between 1 and 64'],
    [
      'accountIdentifier not alphanumeric',
      { accountIdentifier: '4111-1111' },
      'accountIdentifier :must be an alphanumeric',
    ],
    ['missing currencyCode', { currencyCode: undefined }, 'Currency Code is mandatory'],
    ['unknown currencyCode', { currencyCode: 'XYZ' }, 'Currency Code is invalid'],
    ['another currencyCode', { currencyCode: 'USD' }, 'Currency Code is invalid'],
    ['missing fundingSourceId', { fundingSourceId: undefined }, 'Funding Source ID is mandatory'],
    ['fundingSourceId of nobody', { fundingSourceId: 99999 }, 'Funding Source not linked to Client'],
    ['unknown productId', { productId: 11 }, 'productId:11 not found'],
    ['missing timestamp', { timestamp: undefined }, 'timestamp :may not be null'],
    [
      'bad timestamp',
      { timestamp: 'now' },
      'timestamp :must be an ISO 8601 date-time, e.g. 2016-06-29T16:39:42.735Z',
    ],
    [
      'non-alphanumeric sourceIdentifier',
      { sourceIdentifier: '+27821234567' },
      'sourceIdentifier :must be an alphanumeric',
    ],
    [
      'airtime to a non-MSISDN',
      { productId: 101, purchaseAmount: 1000, feeAmount: 0, targetIdentifier: 'a1' },
      'Target Identifier expected to be an MSISDN based on the product',
    ],
    [
      'forged lookupReference',
      { lookupReference: 'zz.46.0123456789abcdef' },
      'lookupReference :is not valid',
    ],
  ];

  it('answers every bad field with 400 4000 (raasTxnRef null) and creates nothing', async () => {
    const before = await counts();
    for (const [name, change, message] of reject400) {
      const res = await api.post('/reserveAndTransact/4.0', { ...purchase(), ...change });
      expect(res.status, name).toBe(400);
      expect(res.body, name).toEqual({ responseCode: '4000', responseMessage: message, raasTxnRef: null });
    }
    const unparsable = await api.postRaw('/reserveAndTransact/4.0', '{"purchaseAmount": 10000,,}');
    expect(unparsable.body).toEqual({
      responseCode: '4000',
      responseMessage: 'Transaction request not valid',
      raasTxnRef: null,
    });
    expect(await counts()).toEqual(before);
  });

  it('an expired lookupReference is refused', async () => {
    const key = t.services.keys.derive('bill-payment:lookup');
    const old = lookupReference(key, {
      clientId: 111,
      productId: 100,
      purchaseAmount: 9000n,
      feeAmount: 150n,
      nowSeconds: Math.floor(Date.now() / 1000) - 901,
    });
    const res = await api.post('/reserveAndTransact/4.0', { ...purchase(), lookupReference: old });
    expect(res.body).toMatchObject({ responseCode: '4000', responseMessage: 'lookupReference :has expired' });
  });

  it('a missing fee is 2055 (HTTP 200 on Reserve and Transact, 400 on Transact); a wrong fee is 2055 Invalid Fee Amount', async () => {
    const before = await counts();
    const rt = await api.post('/reserveAndTransact/4.0', { ...purchase(), feeAmount: undefined });
    expect(rt.status).toBe(200);
    expect(rt.body).toEqual({
      responseCode: '2055',
      responseMessage: 'No feeAmount provided',
      raasTxnRef: null,
    });
    const tr = await api.post('/transact/4.0', {
      ...purchase(),
      feeAmount: undefined,
      reserveFundsTxnRef: 'r1',
    });
    expect(tr.status).toBe(400);
    expect(tr.body).toMatchObject({ responseCode: '2055', responseMessage: 'No feeAmount provided' });
    for (const fee of [0, 149, 151]) {
      const wrong = await api.post('/reserveAndTransact/4.0', { ...purchase(), feeAmount: fee });
      expect(wrong.status).toBe(200);
      expect(wrong.body).toEqual({
        responseCode: '2055',
        responseMessage: 'Invalid Fee Amount',
        raasTxnRef: null,
      });
    }
    expect(await counts()).toEqual(before);
  });

  it('accepts purchaseAmount as the older `amount` field and amounts as digit strings', async () => {
    const body: Record<string, unknown> = { ...purchase(), amount: '9000' };
    delete body.purchaseAmount;
    const res = await api.post('/reserveAndTransact/4.0', body);
    expect(res.body).toMatchObject({ responseCode: '0000' });
  });
});

describe('bill payment: look-up field rules', () => {
  it('Transaction Lookup: a reference is required; unknown is 404; older than 30 days is 404', async () => {
    const none = await api.get('/lookup-api/2.0', { clientId: 111 });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ responseCode: '4000' });
    expect((await api.get('/lookup-api/2.0', { raasTxnRef: 'abc' })).body).toEqual({
      responseCode: '4000',
      responseMessage: 'clientId :may not be null',
    });
    expect(
      (await api.get('/lookup-api/2.0', { clientId: 111, raasTxnRef: 'x'.repeat(65) })).body,
    ).toMatchObject({
      responseMessage: 'raasTxnRef :size must be between 1 and 64',
    });
    expect((await api.get('/lookup-api/2.0', { clientId: 111, raasTxnRef: 'nosuchref' })).status).toBe(404);

    const accepted = await api.post('/reserveAndTransact/4.0', purchase());
    const raasTxnRef = accepted.body.raasTxnRef as string;
    expect((await api.get('/lookup-api/2.0', { clientId: 111, raasTxnRef })).status).toBe(200);
    await sql`UPDATE bp_transactions SET created_at = now() - interval '31 days' WHERE raas_txn_ref = ${raasTxnRef}`.execute(
      t.database.handle.db,
    );
    expect((await api.get('/lookup-api/2.0', { clientId: 111, raasTxnRef })).status).toBe(404);
  });

  it('Financial Terms: unknown product 400, amounts checked, clientId required', async () => {
    const unknown = await api.get('/financial-terms/1.0', {
      clientId: 111,
      productId: 9999,
      purchaseAmount: 100,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ responseCode: '4000', responseMessage: 'Product ID 9999 does not exist' });
    for (const [query, message] of [
      [{ clientId: 111, productId: 100 }, 'purchaseAmount :may not be null'],
      [
        { clientId: 111, productId: 100, purchaseAmount: 0 },
        'purchaseAmount :must be greater than or equal to 1',
      ],
      [
        { clientId: 111, productId: 100, purchaseAmount: '1000000000000' },
        'purchaseAmount :must be less than or equal to 999999999999',
      ],
      [{ clientId: 111, productId: 'x', purchaseAmount: 5 }, 'productId :must be an integer'],
      [{ productId: 100, purchaseAmount: 5 }, 'clientId :may not be null'],
    ] as const) {
      const res = await api.get('/financial-terms/1.0', query);
      expect(res.status, message).toBe(400);
      expect(res.body).toEqual({ responseCode: '4000', responseMessage: message });
    }
  });

  it('Product Lookup: a product not enabled is 400; an unknown product type 400; no products 204', async () => {
    expect((await api.get('/productLookup/2.0', { clientId: 111, productId: 555 })).body).toEqual({
      responseCode: '4000',
      responseMessage: 'Product ID 555 does not exist',
    });
    expect((await api.get('/productLookup/2.0', { clientId: 111, productTypeId: 77 })).body).toEqual({
      responseCode: '4000',
      responseMessage: 'Product type ID 77 does not exist',
    });
    expect((await api.get('/productLookup/2.0', { clientId: 111, productTypeId: 19 })).status).toBe(204);
    expect((await api.get('/productLookup/2.0', { clientId: 111, includeInactive: 'maybe' })).status).toBe(
      400,
    );
  });

  it('In-Flight Check, Token Lookup and MNO Lookup name their missing or bad fields', async () => {
    const inflight = await api.post('/in-flight-transaction-check/1.0', {
      clientId: 111,
      productId: 100,
      purchaseAmount: 1,
    });
    expect(inflight.body).toEqual({
      responseCode: '4000',
      responseMessage: 'sourceIdentifier :may not be null',
    });
    const longSource = await api.post('/in-flight-transaction-check/1.0', {
      sourceIdentifier: 'a'.repeat(33),
      targetIdentifier: 'b',
      clientId: 111,
      productId: 100,
      purchaseAmount: 1,
    });
    expect(longSource.body).toMatchObject({
      responseMessage: 'sourceIdentifier :size must be between 1 and 32',
    });
    expect((await api.get('/tokenLookup/1.0', { clientId: 111 })).body).toEqual({
      responseCode: '4000',
      responseMessage: 'sourceIdentifier :may not be null',
    });
    expect(
      (await api.get('/tokenLookup/1.0', { clientId: 111, sourceIdentifier: 'x', limit: 1000 })).body,
    ).toMatchObject({
      responseMessage: 'limit :must be less than or equal to 100',
    });
    expect((await api.get('/mnoLookup/1.0', { clientId: 111, countryCallingCode: 27 })).body).toEqual({
      responseCode: '4000',
      responseMessage: 'msisdn :may not be null',
    });
    expect(
      (await api.get('/mnoLookup/1.0', { clientId: 111, msisdn: '27821234567', countryCallingCode: 1000 }))
        .body,
    ).toMatchObject({
      responseMessage: 'countryCallingCode :must be less than or equal to 999',
    });
    expect(
      (await api.get('/mnoLookup/1.0', { clientId: 111, msisdn: '27abc', countryCallingCode: 27 })).body,
    ).toMatchObject({
      responseCode: '9010',
    });
  });
});

describe('bill payment: In-Flight Check fields', () => {
  const base = {
    sourceIdentifier: '27821234567',
    targetIdentifier: '2341234567891',
    clientId: 111,
    productId: 100,
    purchaseAmount: 9000,
  };
  const cases: [Record<string, unknown>, string][] = [
    [{ targetIdentifier: undefined }, 'targetIdentifier :may not be null'],
    [{ targetIdentifier: 'a-b' }, 'targetIdentifier :must be an alphanumeric'],
    [{ productId: undefined }, 'productId :may not be null'],
    [{ productId: 'x' }, 'productId :must be an integer'],
    [{ purchaseAmount: 0 }, 'purchaseAmount :must be greater than or equal to 1'],
    [{ purchaseAmount: 1234567890123 }, 'purchaseAmount :must be less than or equal to 999999999999'],
    [{ clientId: undefined }, 'clientId :may not be null'],
  ];
  for (const [change, message] of cases) {
    it(`${JSON.stringify(change)} → 400 "${message}"`, async () => {
      const res = await api.post('/in-flight-transaction-check/1.0', { ...base, ...change });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ responseCode: '4000', responseMessage: message });
    });
  }

  it('answers no pending transactions for values nobody is paying', async () => {
    const res = await api.post('/in-flight-transaction-check/1.0', { ...base, purchaseAmount: 12345 });
    expect(res.body).toEqual({ hasPendingTransactions: false, transactions: [] });
  });
});

describe('bill payment: a client of another merchant', () => {
  it('is refused (403 4003) until bill payment is approved for its merchant', async () => {
    const merchant = await t.createMerchant('Other bank');
    const created = await t.request('POST', '/v1/bill-payment/clients', {
      key: merchant.sandboxKey,
      body: { name: 'Other' },
    });
    expect(created.status).toBe(201);
    const other = payd(
      t,
      created.body.client_id as number,
      (
        await requestToken(t, {
          client_id: String(created.body.client_id),
          client_secret: created.body.client_secret as string,
          grant_type: 'client_credentials',
        })
      ).body.access_token as string,
      created.body.api_key as string,
    );
    const res = await other.post('/reserveAndTransact/4.0', { ...purchase(), clientId: other.clientId });
    // Bill payment is not approved for the new merchant yet: every call is refused.
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ responseCode: '4003' });
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxConnectors } from '../../src/connectors/sandbox-connectors.js';
import type { BillerConnector } from '../../src/connectors/contracts/biller.js';
import { sandboxFundingSource } from '../../src/products/bill-payment/connectors.js';
import { processTransaction } from '../../src/products/bill-payment/processing.js';
import { sealToken } from '../../src/products/bill-payment/seal.js';
import { startTestApp, type TestApp } from '../harness.js';
import { demoOf, demoPayd, nowIso, runJobsUntil, startReceiver, type Payd } from './helpers.js';

let t: TestApp;
let api: Payd;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let fundingSourceId: number;

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  receiver = await startReceiver();
  api = await demoPayd(t);
  const fs = await t.request('POST', `/v1/bill-payment/clients/${demoOf(t).clientId}/funding-sources`, {
    key: t.demo.native.apiKey,
    body: { name: 'Test bank', result_url: receiver.url },
  });
  expect(fs.status).toBe(201);
  fundingSourceId = fs.body.funding_source_id as number;
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

function purchase(overrides: Record<string, unknown> = {}) {
  return {
    clientId: api.clientId,
    clientTxnRef: `ref${Math.random().toString(36).slice(2, 12)}`,
    productId: 100,
    purchaseAmount: 9000,
    feeAmount: 150,
    sourceIdentifier: '27821234567',
    targetIdentifier: '2341234567891',
    channelId: 2,
    channelName: 'Internet',
    channelSessionId: 'session-1',
    currencyCode: 'ZAR',
    fundingSourceId,
    timestamp: nowIso(),
    ...overrides,
  };
}

const resultFor = (raasTxnRef: string) => receiver.received.find((r) => r.body.raasTxnRef === raasTxnRef);

describe('bill payment: the purchase end to end', () => {
  it('demo-credentials has the billPayment entry with the documented keys', () => {
    const demo = demoOf(t);
    expect(Object.keys(demo).sort()).toEqual(
      [
        'apiBaseUrl',
        'apiKey',
        'clientId',
        'clientSecret',
        'currencyCode',
        'fundingSourceId',
        'productIds',
        'tokenUrl',
      ].sort(),
    );
    expect(demo.apiBaseUrl).toMatch(/\/apiman-gateway\/PaydServices$/);
    expect(demo.tokenUrl).toMatch(/\/auth\/realms\/SANDBOX-API\/protocol\/openid-connect\/token$/);
    expect(demo).toMatchObject({ clientId: 111, currencyCode: 'ZAR', productIds: [100, 101, 102, 103] });
  });

  it('token → product lookup → validate (seed 002) → terms → reserve and transact → Transact Result → lookup SUCCESS', async () => {
    const products = await api.get('/productLookup/2.0', { clientId: api.clientId });
    expect(products.status).toBe(200);
    expect(products.body.products).toContainEqual(
      expect.objectContaining({
        publicProduct: expect.objectContaining({
          id: 100,
          productTypeId: 17,
          productTypeName: 'ElecBillpayment',
        }),
      }),
    );

    // Seed 002's example request, byte for byte.
    const seed = await api.postRaw(
      '/customerAccountValidation/1.0/validate',
      '{\n  "productId": 100,\n  "purchaseAmount": 9000,\n  "sourceIdentifier": "2341234567891",\n  "targetIdentifier": "2341234567891",\n  "clientId": 111,\n  "timestamp": "2016-06-29T16:39:42.735Z"\n}',
    );
    expect(seed.status).toBe(200);
    expect(seed.body).toMatchObject({
      status: 'online',
      customerInfo: {
        name: expect.any(String),
        address: expect.any(String),
        phone: expect.any(String),
        district: expect.any(String),
      },
      accountInfo: {
        minimumAmount: expect.any(Number),
        amount: expect.any(Number),
        arrears: 0,
        targetIdentifier: '2341234567891',
        accountNumber: '2341234567891',
        tariff: 'Residential',
        providerName: 'Enugu Electricity Prepaid',
      },
      responseCode: '0000',
      message: 'Request successful',
    });

    const terms = await api.get('/financial-terms/1.0', {
      clientId: api.clientId,
      productId: 100,
      purchaseAmount: 9000,
    });
    expect(terms.status).toBe(200);
    expect(terms.body).toMatchObject({
      clientId: 111,
      productId: 100,
      currencyCode: 'ZAR',
      purchaseAmount: 9000,
      breakdown: {
        reserveAmount: 9150,
        vendAmount: 9000,
        feeAmount: 150,
        clientShareAmount: 90,
        settlementAmount: 9060,
      },
    });
    expect(terms.body.lookupReference).toEqual(expect.any(String));

    const vendsBefore = sandboxConnectors().biller.recordCount;
    const body = purchase({ lookupReference: terms.body.lookupReference });
    const accepted = await api.post('/reserveAndTransact/4.0', body);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ responseCode: '0000', responseMessage: 'Processing request' });
    const raasTxnRef = accepted.body.raasTxnRef as string;
    expect(raasTxnRef).toMatch(/^[a-z0-9]{24}$/);

    const pending = await api.get('/lookup-api/2.0', { clientId: api.clientId, raasTxnRef });
    expect(pending.body).toMatchObject({ transactionStatus: 'PENDING' });
    const inFlight = await api.post('/in-flight-transaction-check/1.0', {
      sourceIdentifier: body.sourceIdentifier,
      targetIdentifier: body.targetIdentifier,
      clientId: api.clientId,
      productId: 100,
      purchaseAmount: 9000,
    });
    expect(inFlight.body).toMatchObject({ hasPendingTransactions: true, transactions: [{ raasTxnRef }] });

    await runJobsUntil(t, () => resultFor(raasTxnRef) !== undefined);
    const result = resultFor(raasTxnRef);
    expect(result?.body).toMatchObject({
      raasTxnRef,
      clientTxnRef: body.clientTxnRef,
      responseCode: '0000',
      reserveAmount: 9150,
      vendAmount: 9000,
      feeAmount: 150,
      clientShareAmount: 90,
      settlementAmount: 9060,
      token: expect.stringMatching(/^\d{20}$/),
      reserveFundsTxnRef: expect.any(String),
    });
    expect(result?.headers.signature).toBeUndefined();
    expect(sandboxConnectors().biller.recordCount).toBe(vendsBefore + 1);

    const lookup = await api.get('/lookup-api/2.0', {
      clientId: api.clientId,
      clientTransactionReference: body.clientTxnRef,
    });
    expect(lookup.status).toBe(200);
    expect(lookup.body).toMatchObject({
      raasTxnRef,
      transactionStatus: 'SUCCESS',
      reserveFundsResponseCode: '0000',
      transactResultResponseCode: '0000',
      token: result?.body.token,
    });
    const byReserve = await api.get('/lookup-api/2.0', {
      clientId: api.clientId,
      reserveFundsTxnRef: String(result?.body.reserveFundsTxnRef),
    });
    expect(byReserve.body).toMatchObject({ raasTxnRef });

    // The token is value: neither the events (native API) nor the table hold it in clear.
    const token = String(result?.body.token);
    const stored = await sql<{ data: string; token: string | null }>`
      SELECT (SELECT string_agg(data::text, ' ') FROM events) AS data,
             (SELECT token FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}) AS token`.execute(
      t.database.handle.db,
    );
    expect(stored.rows[0]?.data).not.toContain(token);
    expect(stored.rows[0]?.token).not.toContain(token);
    expect(stored.rows[0]?.token).toEqual(expect.any(String));

    const tokens = await api.get('/tokenLookup/1.0', {
      clientId: api.clientId,
      sourceIdentifier: body.sourceIdentifier,
    });
    expect(tokens.body.userTokens).toContainEqual(
      expect.objectContaining({ raasTxnRef, token: result?.body.token }),
    );

    // Money: the payment is captured for the client share; the ledger shows reserve → vend → settle.
    await runJobsUntil(t, async () => {
      const jobs = await t.database.handle.db
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', 'bill-payment.finalize')
        .execute();
      return jobs.length === 0;
    });
    const txn = await sql<{
      payment_id: string;
    }>`SELECT payment_id FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}`.execute(
      t.database.handle.db,
    );
    const paymentId = txn.rows[0]?.payment_id ?? '';
    expect(sandboxFundingSource().finalized(paymentId)).toBe('confirmed');
    const payment = await t.request('GET', `/v1/payments/${paymentId}`, { key: t.demo.native.apiKey });
    expect(payment.body).toMatchObject({
      product: 'bill-payment',
      kind: 'authorization',
      status: 'captured',
      amount_minor: 9150,
      captured_minor: 90,
    });
    const postings = await sql<{ kind: string; role: string; debit_minor: string; credit_minor: string }>`
      SELECT t.kind, e.role, e.debit_minor::text AS debit_minor, e.credit_minor::text AS credit_minor
        FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
       WHERE t.payment_id = ${paymentId} ORDER BY t.created_at, t.id, e.entry_no`.execute(
      t.database.handle.db,
    );
    const kinds = [...new Set(postings.rows.map((r) => r.kind))];
    expect(kinds).toEqual(['hold', 'hold_posted', 'bill_payment_settle']);
    expect(postings.rows.filter((r) => r.kind === 'bill_payment_settle')).toEqual([
      { kind: 'bill_payment_settle', role: 'connector_receivable', debit_minor: '9060', credit_minor: '0' },
      { kind: 'bill_payment_settle', role: 'client_share_expense', debit_minor: '90', credit_minor: '0' },
      { kind: 'bill_payment_settle', role: 'biller_payable', debit_minor: '0', credit_minor: '9000' },
      { kind: 'bill_payment_settle', role: 'fee_revenue', debit_minor: '0', credit_minor: '150' },
    ]);
  });
});

async function paymentOf(raasTxnRef: string) {
  const { rows } = await sql<{
    payment_id: string;
  }>`SELECT payment_id FROM bp_transactions WHERE raas_txn_ref = ${raasTxnRef}`.execute(t.database.handle.db);
  const id = rows[0]?.payment_id ?? '';
  const res = await t.request('GET', `/v1/payments/${id}`, { key: t.demo.native.apiKey });
  return res.body as { id: string; status: string; captured_minor: number; raw_code: string | null };
}

async function ledgerKinds(paymentId: string): Promise<string[]> {
  const { rows } = await sql<{ kind: string }>`
    SELECT kind FROM ledger_transactions WHERE payment_id = ${paymentId} ORDER BY created_at, id`.execute(
    t.database.handle.db,
  );
  return rows.map((r) => r.kind);
}

async function settle(raasTxnRef: string) {
  await runJobsUntil(t, () => resultFor(raasTxnRef) !== undefined);
  return resultFor(raasTxnRef)?.body ?? {};
}

describe('bill payment: failures come back through Transact Result', () => {
  it('a vend failure releases the reservation and reverses the hold; lookup shows FAILED with the code', async () => {
    const vendsBefore = sandboxConnectors().biller.recordCount;
    const res = await api.post('/reserveAndTransact/4.0', purchase({ targetIdentifier: '1000092201' }));
    expect(res.body).toMatchObject({ responseCode: '0000' });
    const raasTxnRef = res.body.raasTxnRef as string;
    const result = await settle(raasTxnRef);
    expect(result).toMatchObject({ responseCode: '2201', token: null });
    expect(sandboxConnectors().biller.recordCount).toBe(vendsBefore + 1);
    const lookup = await api.get('/lookup-api/2.0', { clientId: api.clientId, raasTxnRef });
    expect(lookup.body).toMatchObject({
      transactionStatus: 'FAILED',
      reserveFundsResponseCode: '0000',
      transactResultResponseCode: '2201',
    });
    const payment = await paymentOf(raasTxnRef);
    expect(payment).toMatchObject({ status: 'voided', captured_minor: 0 });
    expect(await ledgerKinds(payment.id)).toEqual(['hold', 'hold_voided']);
    await runJobsUntil(t, () => sandboxFundingSource().finalized(payment.id) !== undefined);
    expect(sandboxFundingSource().finalized(payment.id)).toBe('released');
  });

  it('a bank decline (2010) is the Transact Result code; nothing is vended or held', async () => {
    const vendsBefore = sandboxConnectors().biller.recordCount;
    const res = await api.post('/reserveAndTransact/4.0', purchase({ sourceIdentifier: '27820002010' }));
    const raasTxnRef = res.body.raasTxnRef as string;
    expect(await settle(raasTxnRef)).toMatchObject({ responseCode: '2010', reserveFundsTxnRef: null });
    expect(sandboxConnectors().biller.recordCount).toBe(vendsBefore);
    const lookup = await api.get('/lookup-api/2.0', { clientId: api.clientId, raasTxnRef });
    expect(lookup.body).toMatchObject({ transactionStatus: 'FAILED', reserveFundsResponseCode: '2010' });
    const payment = await paymentOf(raasTxnRef);
    expect(payment).toMatchObject({ status: 'failed', raw_code: '2010' });
    expect(await ledgerKinds(payment.id)).toEqual([]);
  });

  for (const [name, amount, code] of [
    ['below the product minimum', 999, '2509'],
    ['above the product maximum', 300_001, '2510'],
  ] as const) {
    it(`an amount ${name} is accepted, then failed with ${code}; nothing reserved or vended`, async () => {
      const vendsBefore = sandboxConnectors().biller.recordCount;
      const reservesBefore = sandboxFundingSource().recordCount;
      const res = await api.post(
        '/reserveAndTransact/4.0',
        purchase({ purchaseAmount: amount, feeAmount: 150 }),
      );
      expect(res.body).toMatchObject({ responseCode: '0000' });
      expect(await settle(res.body.raasTxnRef as string)).toMatchObject({ responseCode: code });
      expect(sandboxConnectors().biller.recordCount).toBe(vendsBefore);
      expect(sandboxFundingSource().recordCount).toBe(reservesBefore);
    });
  }

  it('an increment mismatch and a single-price mismatch fail with 2511 and 2506', async () => {
    const airtime = await api.post(
      '/reserveAndTransact/4.0',
      purchase({ productId: 101, purchaseAmount: 1050, feeAmount: 0, targetIdentifier: '27821234567' }),
    );
    expect(await settle(airtime.body.raasTxnRef as string)).toMatchObject({ responseCode: '2511' });
    const voucher = await api.post(
      '/reserveAndTransact/4.0',
      purchase({ productId: 103, purchaseAmount: 4000, feeAmount: 0, targetIdentifier: '27821234567' }),
    );
    expect(await settle(voucher.body.raasTxnRef as string)).toMatchObject({ responseCode: '2506' });
  });

  it('a lost vend answer is settled by asking the biller, never by vending again', async () => {
    const vendsBefore = sandboxConnectors().biller.recordCount;
    const res = await api.post('/reserveAndTransact/4.0', purchase({ targetIdentifier: '1000000004' }));
    const raasTxnRef = res.body.raasTxnRef as string;
    // The first attempt learns nothing (`unknown`); the job is re-run at once here to ask status().
    await runJobsUntil(t, async () => {
      await sql`UPDATE jobs SET run_at = now() WHERE queue = 'bill-payment.process' AND state = 'queued'`.execute(
        t.database.handle.db,
      );
      return resultFor(raasTxnRef) !== undefined;
    });
    expect(resultFor(raasTxnRef)?.body).toMatchObject({
      responseCode: '0000',
      token: expect.stringMatching(/^\d{20}$/),
    });
    expect(sandboxConnectors().biller.recordCount).toBe(vendsBefore + 1);
  });
});

describe('bill payment: Transact with funds the client reserved', () => {
  it('holds at once, vends, sends Transact Result with the client reserveFundsTxnRef', async () => {
    const reserveFundsTxnRef = 'b7f3c1d2-5a4e-4b8f-9c0d-1e2f3a4b5c6d';
    const res = await api.post('/transact/4.0', purchase({ reserveFundsTxnRef }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      responseCode: '0000',
      responseMessage: 'Processing request (funds reserved)',
    });
    const raasTxnRef = res.body.raasTxnRef as string;
    expect((await paymentOf(raasTxnRef)).status).toBe('authorized');
    const reservesBefore = sandboxFundingSource().recordCount;
    expect(await settle(raasTxnRef)).toMatchObject({ responseCode: '0000', reserveFundsTxnRef });
    expect(sandboxFundingSource().recordCount).toBe(reservesBefore);
    const lookup = await api.get('/lookup-api/2.0', { clientId: api.clientId, reserveFundsTxnRef });
    expect(lookup.body).toMatchObject({
      raasTxnRef,
      transactionStatus: 'SUCCESS',
      reserveFundsResponseCode: '0000',
    });
  });

  it('requires reserveFundsTxnRef on Transact and refuses it on Reserve and Transact', async () => {
    const missing = await api.post('/transact/4.0', purchase());
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      responseCode: '4000',
      responseMessage: 'Reserve Funds transaction Reference is mandatory',
      raasTxnRef: null,
    });
    const unexpected = await api.post('/reserveAndTransact/4.0', purchase({ reserveFundsTxnRef: 'abc' }));
    expect(unexpected.status).toBe(400);
    expect(unexpected.body).toMatchObject({
      responseMessage: 'Reserve Funds transaction Reference was not expected',
    });
  });
});

describe('bill payment: clientTxnRef is unique per client', () => {
  it('50 concurrent duplicates: one transaction, one vend; a different body gets 2604', async () => {
    const vendsBefore = sandboxConnectors().biller.recordCount;
    const body = purchase();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => api.post('/reserveAndTransact/4.0', body)),
    );
    const refs = new Set(answers.map((a) => a.body.raasTxnRef as string));
    expect(answers.every((a) => a.status === 200 && a.body.responseCode === '0000')).toBe(true);
    expect(refs.size).toBe(1);
    const [raasTxnRef] = [...refs];
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM bp_transactions WHERE client_txn_ref = ${body.clientTxnRef}`.execute(
      t.database.handle.db,
    );
    expect(rows[0]?.n).toBe(1);
    await settle(raasTxnRef ?? '');
    expect(sandboxConnectors().biller.recordCount).toBe(vendsBefore + 1);

    // A retry with a new timestamp is the same request; another amount is not.
    const retry = await api.post('/reserveAndTransact/4.0', { ...body, timestamp: nowIso() });
    expect(retry.body).toMatchObject({ responseCode: '0000', raasTxnRef });
    const other = await api.post('/reserveAndTransact/4.0', {
      ...body,
      purchaseAmount: 9100,
      feeAmount: 150,
    });
    expect(other.body).toEqual({
      responseCode: '2604',
      responseMessage: 'Duplicate clientTxnRef: it was used with a different request',
      raasTxnRef: null,
    });
    const { rows: after } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM bp_transactions WHERE client_txn_ref = ${body.clientTxnRef}`.execute(
      t.database.handle.db,
    );
    expect(after[0]?.n).toBe(1);
  });
});

describe('bill payment: Customer Account Validation answers from the biller', () => {
  const validate = (targetIdentifier: string, purchaseAmount = 9000, productId = 100) =>
    api.post('/customerAccountValidation/1.0/validate', {
      productId,
      purchaseAmount,
      sourceIdentifier: '2341234567891',
      targetIdentifier,
      clientId: api.clientId,
      timestamp: '2016-06-29T16:39:42.735Z',
    });

  it('unknown account 2030, closed account 2080, below the account minimum 2050 (HTTP 200)', async () => {
    for (const [target, code] of [
      ['1000000001', '2030'],
      ['1000000002', '2080'],
      ['1000000011', '2050'],
    ] as const) {
      const res = await validate(target);
      expect(res.status, target).toBe(200);
      expect(res.body, target).toMatchObject({
        status: 'online',
        responseCode: code,
        message: expect.any(String),
      });
    }
  });

  it('an offline biller is HTTP 202 with 4010 Service not found', async () => {
    const res = await validate('1000000009');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      status: 'offline',
      responseCode: '4010',
      message: 'Service not found - (610)',
    });
  });

  it('arrears are shown and are the minimum amount', async () => {
    const res = await validate('1000000010', 9000, 102);
    expect(res.body).toMatchObject({
      responseCode: '0000',
      accountInfo: { arrears: 5000, minimumAmount: 5000 },
    });
  });

  it('a biller that does not answer is 0001 Service temporarily unavailable', async () => {
    sandboxConnectors().biller.script.nextOutcome('unknown', { operation: 'validateAccount' });
    const res = await validate('2341234567891');
    expect(res.body).toMatchObject({ status: 'offline', responseCode: '0001' });
  });
});

describe('bill payment: MNO Lookup', () => {
  it('names the operator of an MSISDN; 9010 for a wrong country code; 9020 when no operator is known', async () => {
    const ok = await api.get('/mnoLookup/1.0', {
      clientId: api.clientId,
      msisdn: '2348031234567',
      countryCallingCode: 234,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      countryCode: 'NG',
      operatorCode: 'MTN-NG',
      responseCode: '0000',
      responseMessage: 'SUCCESS',
    });
    const mismatch = await api.get('/mnoLookup/1.0', {
      clientId: api.clientId,
      msisdn: '2348031234567',
      countryCallingCode: 27,
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({ responseCode: '9010' });
    const unknownOperator = await api.get('/mnoLookup/1.0', {
      clientId: api.clientId,
      msisdn: '33612345678',
      countryCallingCode: 33,
    });
    expect(unknownOperator.status).toBe(404);
    expect(unknownOperator.body).toMatchObject({ responseCode: '9020' });
    const carrierRecord = await api.get('/mnoLookup/1.0', {
      clientId: api.clientId,
      msisdn: '447700900123',
      countryCallingCode: 44,
    });
    // Carrier billing's sandbox carrier covers the UK drama range: its record names the operator.
    expect(carrierRecord.body).toMatchObject({
      responseCode: '0000',
      operatorCode: expect.stringMatching(/^234\d{2,3}$/),
    });
  });
});

describe('bill payment: Transact Result delivery', () => {
  it('is retried until the receiver acknowledges (202), with the same body', async () => {
    const bodies: string[] = [];
    const flaky = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        bodies.push(raw);
        res.writeHead(bodies.length === 1 ? 503 : 202).end();
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const fs = await t.request('POST', `/v1/bill-payment/clients/${api.clientId}/funding-sources`, {
        key: t.demo.native.apiKey,
        body: {
          name: 'Flaky bank',
          result_url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/r`,
        },
      });
      const res = await api.post(
        '/reserveAndTransact/4.0',
        purchase({ fundingSourceId: fs.body.funding_source_id }),
      );
      const raasTxnRef = res.body.raasTxnRef as string;
      await runJobsUntil(t, async () => {
        // The retry is scheduled seconds away: bring it forward instead of waiting.
        await sql`UPDATE jobs SET run_at = now() WHERE queue = 'webhooks.deliver' AND state = 'queued'`.execute(
          t.database.handle.db,
        );
        return bodies.length >= 2;
      });
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      expect(JSON.parse(bodies[1] ?? '{}')).toMatchObject({ raasTxnRef, responseCode: '0000' });
      const { rows } = await sql<{ status: string; attempts: number }>`
        SELECT d.status, d.attempts FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
         WHERE e.object_id = ${raasTxnRef}`.execute(t.database.handle.db);
      expect(rows).toEqual([{ status: 'delivered', attempts: 2 }]);
      // Only the funding source's own endpoint got it: the demo receiver did not.
      expect(resultFor(raasTxnRef)).toBeUndefined();
    } finally {
      await new Promise((resolve) => flaky.close(resolve));
    }
  });
});

describe('bill payment: vouchers', () => {
  it('vends a voucher PIN and serial with no fee and no client share; Token Lookup re-shows it to its buyer only', async () => {
    const buyer = '27829990001';
    const res = await api.post(
      '/reserveAndTransact/4.0',
      purchase({
        productId: 103,
        purchaseAmount: 5000,
        feeAmount: 0,
        sourceIdentifier: buyer,
        targetIdentifier: '27821234567',
      }),
    );
    const raasTxnRef = res.body.raasTxnRef as string;
    const result = await settle(raasTxnRef);
    expect(result).toMatchObject({
      responseCode: '0000',
      token: expect.stringMatching(/^\d{16}$/),
      serialNumber: expect.stringMatching(/^SN\d{12}$/),
      reserveAmount: 5000,
      feeAmount: 0,
      clientShareAmount: 0,
      settlementAmount: 5000,
    });
    const payment = await paymentOf(raasTxnRef);
    expect(payment).toMatchObject({ status: 'captured', captured_minor: 0 });
    expect(await ledgerKinds(payment.id)).toEqual(['hold', 'hold_posted', 'bill_payment_settle']);
    const tokens = await api.get('/tokenLookup/1.0', {
      clientId: api.clientId,
      sourceIdentifier: buyer,
      productTypeId: 10,
    });
    expect(tokens.body.userTokens).toEqual([
      expect.objectContaining({
        raasTxnRef,
        token: result.token,
        productId: 103,
        attributes: [{ name: 'serialNumber', value: result.serialNumber }],
      }),
    ]);
    const stranger = await api.get('/tokenLookup/1.0', {
      clientId: api.clientId,
      sourceIdentifier: '27829990002',
    });
    expect(stranger.body).toEqual({ userTokens: [] });
  });
});

describe('bill payment: a recorded vend answer is never asked for again', () => {
  it('finishes from the record when the worker died after the biller answered, even if the biller forgot', async () => {
    const res = await api.post('/transact/4.0', purchase({ reserveFundsTxnRef: 'recorded-vend-1' }));
    const raasTxnRef = res.body.raasTxnRef as string;
    const sealKey = t.services.keys.derive('bill-payment:token-seal');
    await sql`UPDATE bp_transactions SET state = 'vending', vend_state = 'done', result_code = '0000',
                     token = ${sealToken(sealKey, raasTxnRef, '98765432109876543210')}, receipt_number = 'RCP1'
               WHERE raas_txn_ref = ${raasTxnRef}`.execute(t.database.handle.db);
    const forgetful: BillerConnector = {
      id: 'biller-simulator',
      capabilities: () => ({ currencies: [], products: [] }),
      validateAccount: () => Promise.reject(new Error('not expected')),
      vend: () => Promise.reject(new Error('a recorded vend must not be sent again')),
      status: () => Promise.resolve({ status: 'not_sent', rawCode: 'NOT_FOUND' }),
    };
    await processTransaction(
      {
        db: t.database.handle.db,
        sealKey,
        connectors: { billers: new Map([['biller-simulator', forgetful]]), fundingSources: new Map() },
      },
      raasTxnRef,
    );
    const lookup = await api.get('/lookup-api/2.0', { clientId: api.clientId, raasTxnRef });
    expect(lookup.body).toMatchObject({ transactionStatus: 'SUCCESS', token: '98765432109876543210' });
    expect((await paymentOf(raasTxnRef)).status).toBe('captured');
    // Its Transact Result goes out (delivered by the engine) with the token opened.
    expect(await settle(raasTxnRef)).toMatchObject({ responseCode: '0000', token: '98765432109876543210' });
  });
});

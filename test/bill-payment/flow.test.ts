import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxConnectors } from '../../src/connectors/sandbox-connectors.js';
import { sandboxFundingSource } from '../../src/products/bill-payment/connectors.js';
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

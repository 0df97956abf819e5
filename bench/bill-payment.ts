import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `npm run bench -- bill-payment`: complete purchases through the Payd dialect. Each client loop
 * validates the account (seed 002), then sends Reserve and Transact; the workers reserve at the
 * simulated bank, vend at the simulated biller and deliver Transact Result to a local receiver
 * (answering 202). The figure is purchases whose Transact Result arrived, per second; latency is from
 * the validation request to the Transact Result. The API part alone is printed too.
 */
export const billPaymentDescription =
  'complete purchases: validate + reserveAndTransact, finished when Transact Result reaches a local receiver';

interface Stats {
  ops: number;
  errors: number;
  latenciesMs: number[];
  seconds: number;
}

export interface BenchTools {
  drive(clients: number, seconds: number, op: (client: number) => Promise<void>): Promise<Stats>;
  report(name: string, stats: Stats): number;
}

interface Creds {
  tokenUrl: string;
  apiBaseUrl: string;
  clientId: number;
  clientSecret: string;
  apiKey: string;
}

function credsOf(all: Readonly<Record<string, unknown>>): { native: string; billPayment: Creds } {
  const native = all.native as { apiKey?: unknown } | undefined;
  const bp = all.billPayment as Partial<Creds> | undefined;
  if (typeof native?.apiKey !== 'string' || !bp || typeof bp.tokenUrl !== 'string') {
    throw new Error('demo-credentials has no billPayment entry');
  }
  return { native: native.apiKey, billPayment: bp as Creds };
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(json)}`);
  return json;
}

export async function runBillPayment(
  payloom: { baseUrl: string; creds: Readonly<Record<string, unknown>> },
  clients: number,
  seconds: number,
  tools: BenchTools,
): Promise<number> {
  const { native, billPayment: demo } = credsOf(payloom.creds);
  // The demo URLs carry the configured base URL; the bench talks to the port the server got.
  const local = (url: string) => `${payloom.baseUrl}${new URL(url).pathname}`;
  const bp = { ...demo, tokenUrl: local(demo.tokenUrl), apiBaseUrl: local(demo.apiBaseUrl) };
  const startedAt = new Map<string, number>();
  const latencies: number[] = [];
  let failedResults = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const result = JSON.parse(raw) as { raasTxnRef?: string; responseCode?: string };
      const t0 = startedAt.get(result.raasTxnRef ?? '');
      if (t0 !== undefined && result.responseCode === '0000') latencies.push(performance.now() - t0);
      else failedResults++;
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const resultUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/transact-result`;
  const fs = await post(
    `${payloom.baseUrl}/v1/bill-payment/clients/${bp.clientId}/funding-sources`,
    JSON.stringify({ name: 'bench bank', result_url: resultUrl }),
    { authorization: `Bearer ${native}` },
  );
  const tokenResponse = await fetch(bp.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: String(bp.clientId),
      client_secret: bp.clientSecret,
      grant_type: 'client_credentials',
    }).toString(),
  });
  const token = ((await tokenResponse.json()) as { access_token: string }).access_token;
  const headers = { authorization: `Bearer ${token}`, 'x-api-key': bp.apiKey };
  let n = 0;
  const start = performance.now();
  const api = await tools.drive(clients, seconds, async () => {
    const t0 = performance.now();
    const ref = `bench${process.pid}x${++n}`;
    const timestamp = new Date().toISOString();
    const validation = await post(
      `${bp.apiBaseUrl}/customerAccountValidation/1.0/validate`,
      JSON.stringify({
        productId: 100,
        purchaseAmount: 10000,
        sourceIdentifier: '27821234567',
        targetIdentifier: '2341234567891',
        clientId: bp.clientId,
        timestamp,
      }),
      headers,
    );
    if (validation.responseCode !== '0000') throw new Error(JSON.stringify(validation));
    const accepted = await post(
      `${bp.apiBaseUrl}/reserveAndTransact/4.0`,
      JSON.stringify({
        clientId: bp.clientId,
        clientTxnRef: ref,
        productId: 100,
        purchaseAmount: 10000,
        feeAmount: 150,
        sourceIdentifier: '27821234567',
        targetIdentifier: '2341234567891',
        channelId: 2,
        currencyCode: 'ZAR',
        fundingSourceId: fs.funding_source_id,
        timestamp,
      }),
      headers,
    );
    if (accepted.responseCode !== '0000' || typeof accepted.raasTxnRef !== 'string')
      throw new Error(JSON.stringify(accepted));
    startedAt.set(accepted.raasTxnRef, t0);
  });
  tools.report('bill-payment API (validate + reserveAndTransact)', api);
  const drainDeadline = performance.now() + 60_000;
  while (latencies.length + failedResults < api.ops && performance.now() < drainDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.close();
  return tools.report('bill-payment (purchases with Transact Result)', {
    ops: latencies.length,
    errors: api.ops - latencies.length + api.errors,
    latenciesMs: latencies,
    seconds: (performance.now() - start) / 1000,
  });
}

/**
 * `npm run bench -- agreements`: one-off payments end to end on the MobilePay Subscriptions dialect:
 * request (POST …/oneoffpayments) → reserve (the sandbox payer simulation accepts it: a ledger hold)
 * → capture (POST …/capture, 204). One operation is the three calls; each client has its own agreement.
 */
export interface AgreementsBenchHelpers {
  baseUrl: string;
  creds: unknown;
  drive(
    clients: number,
    seconds: number,
    op: (client: number) => Promise<void>,
  ): Promise<{ ops: number; errors: number; latenciesMs: number[]; seconds: number }>;
  report(
    name: string,
    stats: { ops: number; errors: number; latenciesMs: number[]; seconds: number },
  ): number;
}

interface Creds {
  native: { apiKey: string };
  agreements: {
    apiEndpoint: string;
    providerId: string;
    clientId: string;
    clientSecret: string;
    refreshToken: string;
    applicationClientId: string;
    applicationClientSecret: string;
  };
}

async function call(url: string, init: RequestInit, expected: number): Promise<unknown> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status !== expected)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export async function agreementsScenario(
  h: AgreementsBenchHelpers,
  clients: number,
  seconds: number,
): Promise<number> {
  const creds = h.creds as Creds;
  const a = creds.agreements;
  const token = (await call(
    `${h.baseUrl}/subscriptions/oidc/connect/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: a.refreshToken,
        client_id: a.clientId,
        client_secret: a.clientSecret,
      }),
    },
    200,
  )) as { access_token: string };
  const headers = {
    authorization: `Bearer ${token.access_token}`,
    'x-ibm-client-id': a.applicationClientId,
    'x-ibm-client-secret': a.applicationClientSecret,
    'content-type': 'application/json',
  };
  const { 'content-type': _json, ...appHeaders } = headers;
  const api = `${h.baseUrl}/subscriptions/api/providers/${a.providerId}`;
  const sandbox = { authorization: `Bearer ${creds.native.apiKey}`, 'content-type': 'application/json' };
  const agreements: string[] = [];
  for (let c = 0; c < clients; c++) {
    const created = (await call(
      `${api}/agreements`,
      {
        method: 'POST',
        headers,
        body: JSON.stringify({
          currency: 'DKK',
          country_code: 'DK',
          plan: 'Bench',
          amount: '10',
          expiration_timeout_minutes: 60,
          links: [
            { rel: 'user-redirect', href: 'https://example.com/r' },
            { rel: 'success-callback', href: 'https://example.com/s' },
            { rel: 'cancel-callback', href: 'https://example.com/c' },
          ],
        }),
      },
      201,
    )) as { id: string };
    await call(
      `${h.baseUrl}/v1/sandbox/agreements/${created.id}/accept`,
      { method: 'POST', headers: sandbox, body: '{}' },
      200,
    );
    agreements.push(created.id);
  }
  let n = 0;
  return h.report(
    'agreements',
    await h.drive(clients, seconds, async (client) => {
      const agreement = agreements[client] ?? '';
      const oneOff = (await call(
        `${api}/agreements/${agreement}/oneoffpayments`,
        {
          method: 'POST',
          headers,
          body: JSON.stringify({ amount: '19.45', external_id: `B${n++}`, description: 'bench' }),
        },
        202,
      )) as { id: string };
      await call(
        `${h.baseUrl}/v1/sandbox/agreements/one-off-payments/${oneOff.id}/accept`,
        { method: 'POST', headers: sandbox, body: '{}' },
        200,
      );
      await call(
        `${api}/agreements/${agreement}/oneoffpayments/${oneOff.id}/capture`,
        { method: 'POST', headers: appHeaders },
        204,
      );
    }),
  );
}

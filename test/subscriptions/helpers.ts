import type { ApiResponse, RequestOptions, TestApp } from '../harness.js';

export interface SpDemo {
  apiBaseUrl: string;
  merchantKey: string;
  authenticationKey: string;
  widgetScriptUrl: string;
  allowedOrigins: string[];
}

export function spDemo(t: TestApp): SpDemo {
  return t.demo.subscriptions as SpDemo;
}

export function basic(merchantKey: string, authenticationKey: string): string {
  return `Basic ${Buffer.from(`${merchantKey}:${authenticationKey}`).toString('base64')}`;
}

/** A SmartPay call with the demo merchant's keys (both headers). */
export function sp(t: TestApp) {
  const demo = spDemo(t);
  return (method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> =>
    t.request(method, `/smartpay${path}`, {
      ...options,
      headers: {
        authorization: basic(demo.merchantKey, demo.authenticationKey),
        'x-api-key': demo.merchantKey,
        ...options.headers,
      },
    });
}

export const billingAddress = {
  addressLine1: 'Hauptstrasse',
  number: '12',
  city: 'Berlin',
  postCode: '10115',
  countryCode: 'DE',
};

export const consumer = {
  firstName: 'Erika',
  lastName: 'Mustermann',
  emailAddress: 'erika@example.com',
  title: 'Ms',
  dateOfBirth: '1980-01-01',
};

export function planBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Premium',
    description: 'Premium sub for only 9.99 EUR!',
    recurrentAmount: 9.99,
    currencyIsoCode: 'EUR',
    billingOccurrence: 1,
    billingUnit: 'month',
    billingCycles: -1,
    ...overrides,
  };
}

export function subscriptionBody(
  planId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    planId,
    customerAccountId: 'customer-1',
    startDate: '2030-01-01T10:00:00.000+01:00',
    timezone: 'Europe/Berlin',
    billingAddress,
    consumer,
    ...overrides,
  };
}

export function seriesBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { customerAccountId: 'customer-1', currencyIsoCode: 'EUR', billingAddress, consumer, ...overrides };
}

/** The widget's frame and card post, as the iframe does them (same-origin requests to Payloom). */
export async function widgetSession(
  t: TestApp,
  objectType: 'subscription' | 'payment-series',
  objectId: string,
  parentOrigin = 'http://localhost:3000',
): Promise<{ session: string; html: string; base: string }> {
  const base = new URL(spDemo(t).widgetScriptUrl).pathname.replace(/\/sdk\.js$/, '');
  const query = new URLSearchParams({ objectId, objectType, parentOrigin });
  const frame = await t.request('GET', `${base}/frame?${query}`);
  if (frame.status !== 200) throw new Error(`frame: ${frame.status} ${frame.text}`);
  const session = /data-session="([^"]+)"/.exec(frame.text)?.[1] ?? '';
  return { session, html: frame.text, base };
}

export async function widgetPost(
  t: TestApp,
  base: string,
  path: string,
  body: Record<string, unknown>,
): Promise<ApiResponse> {
  return t.request('POST', `${base}${path}`, { body, headers: { origin: 'http://localhost:80' } });
}

export async function storeCard(
  t: TestApp,
  objectType: 'subscription' | 'payment-series',
  objectId: string,
  number: string,
  options: { expiryYear?: number; cvc?: string } = {},
): Promise<ApiResponse> {
  const { session, base } = await widgetSession(t, objectType, objectId);
  const response = await widgetPost(t, base, '/cards', {
    session,
    number,
    expiryMonth: 12,
    expiryYear: options.expiryYear ?? 2040,
    cvc: options.cvc ?? (number.startsWith('3') ? '1234' : '123'),
  });
  if (response.body?.status === 'challenge') {
    return widgetPost(t, base, `/challenges/${String(response.body.verificationId)}`, { session });
  }
  return response;
}

export async function createClock(t: TestApp, at: string): Promise<string> {
  const res = await t.request('POST', '/v1/sandbox/test-clocks', {
    key: t.demo.native.apiKey,
    body: { frozen_time: at },
  });
  if (res.status !== 201) throw new Error(`clock: ${res.status} ${res.text}`);
  return res.body.id as string;
}

export async function advance(t: TestApp, clockId: string, to: string): Promise<ApiResponse> {
  const res = await t.request('POST', `/v1/sandbox/test-clocks/${clockId}/advance`, {
    key: t.demo.native.apiKey,
    body: { frozen_time: to },
  });
  if (res.status !== 200) throw new Error(`advance: ${res.status} ${res.text}`);
  return res;
}

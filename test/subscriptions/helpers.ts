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

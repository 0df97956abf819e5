import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { sessionCookieOf } from './helpers.js';

interface Received {
  from: string;
  to: string[];
  data: string;
}

let server: SMTPServer;
let port: number;
const received: Received[] = [];
let reject = false;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (reject) {
          callback(new Error('550 mailbox unavailable'));
          return;
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('mail gateway: SMTP through nodemailer, against an SMTP server started here', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        PAYLOOM_MAIL_GATEWAY: 'smtp',
        PAYLOOM_SMTP_URL: `smtp://127.0.0.1:${port}`,
        PAYLOOM_MAIL_FROM: 'Payloom <no-reply@payloom.test>',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends the verification mail over SMTP and keeps only the envelope in the outbox', async () => {
    const res = await t.request('POST', '/v1/auth/signup', {
      body: { email: 'smtp@shop.test', password: 'correct horse battery', merchant_name: 'SMTP shop' },
    });
    expect(res.status).toBe(201);
    expect(received).toHaveLength(1);
    expect(received[0]?.to).toEqual(['smtp@shop.test']);
    expect(received[0]?.from).toBe('no-reply@payloom.test');
    expect(received[0]?.data).toContain('Subject: Verify your email for Payloom');
    expect(received[0]?.data).toMatch(/verify-email\?token=/);
    const cookie = sessionCookieOf(res, 'payloom_portal');
    const outbox = await t.request('GET', '/v1/sandbox/mail', { headers: { cookie } });
    expect(outbox.body.data[0]).toMatchObject({ gateway: 'smtp', status: 'sent' });
    expect(outbox.body.data[0].text).not.toContain('token=');
  });

  it('records a refused message as failed, and the sign-up still stands', async () => {
    reject = true;
    try {
      const res = await t.request('POST', '/v1/auth/signup', {
        body: { email: 'bounce@shop.test', password: 'correct horse battery', merchant_name: 'Bounce' },
      });
      expect(res.status).toBe(201);
      const cookie = sessionCookieOf(res, 'payloom_portal');
      const outbox = await t.request('GET', '/v1/sandbox/mail', { headers: { cookie } });
      expect(outbox.body.data[0]).toMatchObject({ gateway: 'smtp', status: 'failed' });
    } finally {
      reject = false;
    }
  });
});

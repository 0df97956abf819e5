import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/time/clock.js';
import { totpCode } from '../../src/core/users/totp.js';
import { runDatabaseCommand } from '../../src/commands.js';
import { startTestApp, type TestApp } from '../harness.js';
import { asUser, sessionCookieOf, signIn, signUp, verifyLatestMail } from './helpers.js';

let t: TestApp;
const clock = new ManualClock('2026-03-01T10:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ clock });
});
afterAll(async () => {
  await t.close();
});

describe('sign-up, email verification, sign-in', () => {
  it('creates a merchant and its owner, signs in with a hardened cookie and mails a verification link', async () => {
    const res = await t.request('POST', '/v1/auth/signup', {
      body: { email: 'Owner@Shop.test', password: 'correct horse battery', merchant_name: 'Shop <b>One</b>' },
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      email: 'owner@shop.test',
      role: 'owner',
      email_verified: false,
      kind: 'merchant',
    });
    expect(res.text).not.toContain('correct horse');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/payloom_portal=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    // Plain-HTTP localhost (inject's host) is the only place without Secure.
    expect(setCookie).not.toContain('Secure');
    const cookie = sessionCookieOf(res, 'payloom_portal');

    const mail = await t.request('GET', '/v1/sandbox/mail', { headers: { cookie } });
    expect(mail.status).toBe(200);
    expect(mail.body.data[0]).toMatchObject({
      to: 'owner@shop.test',
      purpose: 'verify_email',
      gateway: 'sandbox',
      status: 'kept',
    });
    expect(mail.body.data[0].text).toMatch(/\/portal\/verify-email\?token=/);

    // Unverified users change nothing.
    const blocked = await t.request('POST', '/v1/access-requests', {
      headers: asUser({ cookie, csrf: res.body.csrf_token, userId: '' }),
      body: { product: 'carrier-billing', name: 'Test' },
    });
    expect(blocked.status).toBe(403);
    expect(blocked.body.detail).toMatch(/Verify your email/);

    await verifyLatestMail(t, { cookie, csrf: res.body.csrf_token, userId: '' });
    const again = await t.request('POST', '/v1/auth/verify-email', {
      body: { token: /token=(\S+)/.exec(mail.body.data[0].text)?.[1] },
    });
    expect(again.status).toBe(400);
    expect(again.body.param).toBe('/token');

    const me = await t.request('GET', '/v1/auth/session', { headers: { cookie } });
    expect(me.body.user.email_verified).toBe(true);
  });

  it('validates every field with the API’s own messages: empty, too long, wrong type, common password, duplicate', async () => {
    const cases: Array<[Record<string, unknown>, string, number]> = [
      [{ email: '', password: 'correct horse battery', merchant_name: 'X' }, '/email', 400],
      [{ email: 'a@b.test', password: 'short', merchant_name: 'X' }, '/password', 400],
      [{ email: 'a@b.test', password: 'password123', merchant_name: 'X' }, '/password', 400],
      [{ email: 'a@b.test', password: 'correct horse battery', merchant_name: '' }, '/merchant_name', 400],
      [
        { email: 'a@b.test', password: 'correct horse battery', merchant_name: 'x'.repeat(201) },
        '/merchant_name',
        400,
      ],
      [{ email: 'a@b.test', password: 12345678901, merchant_name: 'X' }, '/password', 400],
      [
        { email: 'a'.repeat(250) + '@b.test', password: 'correct horse battery', merchant_name: 'X' },
        '/email',
        400,
      ],
      [{ email: 'owner@shop.test', password: 'correct horse battery', merchant_name: 'X' }, '/email', 409],
    ];
    for (const [body, field, status] of cases) {
      const res = await t.request('POST', '/v1/auth/signup', { body });
      expect({ status: res.status, field: res.body.param ?? res.body.errors?.[0]?.field }).toEqual({
        status,
        field,
      });
    }
  });

  it('rotates the session at sign-in and ends it at sign-out', async () => {
    const first = await signIn(t, { email: 'owner@shop.test', password: 'correct horse battery' });
    const second = await t.request('POST', '/v1/auth/signin', {
      headers: { cookie: first.cookie },
      body: { email: 'owner@shop.test', password: 'correct horse battery' },
    });
    const secondCookie = sessionCookieOf(second, 'payloom_portal');
    expect(secondCookie).not.toBe(first.cookie);
    expect((await t.request('GET', '/v1/auth/session', { headers: { cookie: first.cookie } })).status).toBe(
      401,
    );
    const out = await t.request('POST', '/v1/auth/signout', {
      headers: { cookie: secondCookie, 'x-csrf-token': second.body.csrf_token },
    });
    expect(out.status).toBe(204);
    expect((await t.request('GET', '/v1/auth/session', { headers: { cookie: secondCookie } })).status).toBe(
      401,
    );
  });

  it('ends sessions after 30 idle minutes and after 12 hours however active', async () => {
    const s = await signIn(t, { email: 'owner@shop.test', password: 'correct horse battery' });
    clock.advanceSeconds(29 * 60);
    expect((await t.request('GET', '/v1/auth/session', { headers: { cookie: s.cookie } })).status).toBe(200);
    clock.advanceSeconds(29 * 60);
    expect((await t.request('GET', '/v1/auth/session', { headers: { cookie: s.cookie } })).status).toBe(200);
    clock.advanceSeconds(31 * 60);
    expect((await t.request('GET', '/v1/auth/session', { headers: { cookie: s.cookie } })).status).toBe(401);

    const busy = await signIn(t, { email: 'owner@shop.test', password: 'correct horse battery' });
    for (let i = 0; i < 25; i++) {
      clock.advanceSeconds(29 * 60);
      const res = await t.request('GET', '/v1/auth/session', { headers: { cookie: busy.cookie } });
      if (i < 24) expect(res.status, `after ${(i + 1) * 29} minutes`).toBe(200);
      else expect(res.status).toBe(401);
    }
  });

  it('resets a password through the mail outbox; the reset ends every session', async () => {
    const s = await signIn(t, { email: 'owner@shop.test', password: 'correct horse battery' });
    const asked = await t.request('POST', '/v1/auth/password-reset', { body: { email: 'owner@shop.test' } });
    expect(asked.status).toBe(202);
    const unknown = await t.request('POST', '/v1/auth/password-reset', {
      body: { email: 'nobody@shop.test' },
    });
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(asked.body);
    const mail = await t.request('GET', '/v1/sandbox/mail?limit=1', { headers: { cookie: s.cookie } });
    expect(mail.body.data[0].purpose).toBe('password_reset');
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail.body.data[0].text)?.[1];
    const weak = await t.request('POST', '/v1/auth/password-reset/confirm', {
      body: { token, password: 'qwertyuiop' },
    });
    expect(weak.status).toBe(400);
    const done = await t.request('POST', '/v1/auth/password-reset/confirm', {
      body: { token, password: 'a new long passphrase' },
    });
    expect(done.status).toBe(200);
    expect((await t.request('GET', '/v1/auth/session', { headers: { cookie: s.cookie } })).status).toBe(401);
    await signIn(t, { email: 'owner@shop.test', password: 'a new long passphrase' });
  });
});

describe('lockout and TOTP on a fake clock', () => {
  it('locks the account for 30 minutes after 10 failures, even for the right password', async () => {
    await signUp(t, 'locky@shop.test');
    for (let i = 0; i < 10; i++) {
      const res = await t.request('POST', '/v1/auth/signin', {
        body: { email: 'locky@shop.test', password: `wrong password ${i}` },
      });
      expect(res.status).toBe(401);
    }
    const locked = await t.request('POST', '/v1/auth/signin', {
      body: { email: 'locky@shop.test', password: 'correct horse battery' },
    });
    expect(locked.status).toBe(423);
    expect(locked.body.code).toBe('account_locked');
    expect(locked.headers['retry-after']).toBe('1800');
    clock.advanceSeconds(29 * 60);
    expect(
      (
        await t.request('POST', '/v1/auth/signin', {
          body: { email: 'locky@shop.test', password: 'correct horse battery' },
        })
      ).status,
    ).toBe(423);
    clock.advanceSeconds(61);
    await signIn(t, { email: 'locky@shop.test', password: 'correct horse battery' });
    // Unknown emails give the same answer as wrong passwords.
    const unknown = await t.request('POST', '/v1/auth/signin', {
      body: { email: 'ghost@shop.test', password: 'whatever at all' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.detail).toBe('The email or password is not correct.');
  });

  it('enrols TOTP and then requires a valid code at the clock’s time', async () => {
    const s = await signIn(t, { email: 'locky@shop.test', password: 'correct horse battery' });
    const started = await t.request('POST', '/v1/auth/totp', { headers: asUser(s) });
    expect(started.status).toBe(201);
    expect(started.body.uri).toMatch(/^otpauth:\/\/totp\/Payloom:locky%40shop.test\?/);
    const secret = started.body.secret as string;
    const wrong = await t.request('POST', '/v1/auth/totp/confirm', {
      headers: asUser(s),
      body: { code: '000000' },
    });
    expect(wrong.status === 400 || totpCode(secret, clock.now()) === '000000').toBe(true);
    const ok = await t.request('POST', '/v1/auth/totp/confirm', {
      headers: asUser(s),
      body: { code: totpCode(secret, clock.now()) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.totp_enabled).toBe(true);

    const noCode = await t.request('POST', '/v1/auth/signin', {
      body: { email: 'locky@shop.test', password: 'correct horse battery' },
    });
    expect(noCode.status).toBe(401);
    expect(noCode.body).toMatchObject({ code: 'second_factor_required', param: '/totp' });
    const old = totpCode(secret, new Date(clock.now().getTime() - 120_000));
    const stale = await t.request('POST', '/v1/auth/signin', {
      body: { email: 'locky@shop.test', password: 'correct horse battery', totp: old },
    });
    expect(stale.status).toBe(401);
    await signIn(t, {
      email: 'locky@shop.test',
      password: 'correct horse battery',
      totp: totpCode(secret, clock.now()),
    });
  });

  it('creates operators from the CLI; operators need TOTP in production mode', async () => {
    const out = await runDatabaseCommand(
      ['operator', 'create-user', '--email', 'ops@payloom.test', '--totp'],
      {
        database: t.database.handle,
        config: t.config,
      },
    );
    expect(out.exitCode).toBe(0);
    const password = /password: (\S+)/.exec(out.stdout)?.[1] ?? '';
    const secret = /secret=([A-Z2-7]+)/.exec(out.stdout)?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(20);
    const ops = await signIn(t, {
      email: 'ops@payloom.test',
      password,
      kind: 'operator',
      totp: totpCode(secret, clock.now()),
    });
    const list = await t.request('GET', '/v1/operator-users', { headers: { cookie: ops.cookie } });
    expect(list.body.data[0]).toMatchObject({ email: 'ops@payloom.test', role: 'admin', totp_enabled: true });

    const plain = await runDatabaseCommand(['operator', 'create-user', '--email', 'plain@payloom.test'], {
      database: t.database.handle,
      config: t.config,
    });
    const plainPassword = /password: (\S+)/.exec(plain.stdout)?.[1] ?? '';
    // Development (plain-HTTP localhost): no TOTP needed.
    await signIn(t, { email: 'plain@payloom.test', password: plainPassword, kind: 'operator' });

    const prod = await startTestApp({ clock, env: { PAYLOOM_BASE_URL: 'https://pay.example.com' } });
    try {
      const created = await runDatabaseCommand(
        ['operator', 'create-user', '--email', 'noprod@payloom.test', '--no-totp'],
        {
          database: prod.database.handle,
          config: prod.config,
        },
      );
      const pw = /password: (\S+)/.exec(created.stdout)?.[1] ?? '';
      const refused = await prod.request('POST', '/v1/auth/signin', {
        body: { email: 'noprod@payloom.test', password: pw, kind: 'operator' },
      });
      expect(refused.status).toBe(403);
      expect(refused.body.param).toBe('/totp');
    } finally {
      await prod.close();
    }
  });
});

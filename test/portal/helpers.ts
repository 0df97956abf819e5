import type { ApiResponse, TestApp } from '../harness.js';

/** A signed-in browser, simulated: the session cookie and its CSRF token. */
export interface Session {
  cookie: string;
  csrf: string;
  userId: string;
}

export function sessionCookieOf(res: ApiResponse, name: string): string {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const found = list.find((c) => c.startsWith(`${name}=`));
  if (!found) throw new Error(`no ${name} cookie in ${JSON.stringify(list)}`);
  return found.split(';')[0] ?? '';
}

export async function signUp(
  t: TestApp,
  email: string,
  merchantName = 'Shop',
): Promise<Session & { merchantId: string }> {
  const res = await t.request('POST', '/v1/auth/signup', {
    body: { email, password: 'correct horse battery', merchant_name: merchantName },
  });
  if (res.status !== 201) throw new Error(`signup ${res.status} ${res.text}`);
  return {
    cookie: sessionCookieOf(res, 'payloom_portal'),
    csrf: res.body.csrf_token as string,
    userId: res.body.user.id as string,
    merchantId: res.body.user.merchant_id as string,
  };
}

export async function verifyLatestMail(t: TestApp, session: Session): Promise<void> {
  const mail = await t.request('GET', '/v1/sandbox/mail', { headers: { cookie: session.cookie } });
  const text = mail.body.data[0].text as string;
  const token = /token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  const res = await t.request('POST', '/v1/auth/verify-email', { body: { token } });
  if (res.status !== 200) throw new Error(`verify ${res.status} ${res.text}`);
}

export async function signIn(
  t: TestApp,
  body: { email: string; password: string; totp?: string; kind?: 'merchant' | 'operator' },
): Promise<Session> {
  const res = await t.request('POST', '/v1/auth/signin', { body });
  if (res.status !== 200) throw new Error(`signin ${res.status} ${res.text}`);
  const name = body.kind === 'operator' ? 'payloom_console' : 'payloom_portal';
  return {
    cookie: sessionCookieOf(res, name),
    csrf: res.body.csrf_token as string,
    userId: res.body.user.id as string,
  };
}

/** Headers of a cookie-authenticated write (with CSRF) in an environment. */
export function asUser(session: Session, environment: 'sandbox' | 'production' = 'sandbox', csrf = true) {
  return {
    cookie: session.cookie,
    'x-payloom-environment': environment,
    ...(csrf ? { 'x-csrf-token': session.csrf } : {}),
  };
}

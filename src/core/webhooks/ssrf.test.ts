import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  blockedAddressReason,
  checkCallbackUrl,
  createGuardedLookup,
  resolvePermittedAddresses,
  SsrfRefusedError,
  ssrfRefusalReasons,
  type HostResolver,
  type SsrfRefusalReason,
} from './ssrf.js';

// No test here makes a DNS query or a connection: every resolver is injected.

const strict = { allowPrivate: false, requireHttps: false };
const reasonFor = (url: string, policy = strict): SsrfRefusalReason | 'allowed' => {
  const checked = checkCallbackUrl(url, policy);
  return checked.allowed ? 'allowed' : checked.reason;
};

/** Answers from a fixed table, as a DNS server under an attacker's control could. */
const fakeResolver =
  (answers: Record<string, string[]>): HostResolver =>
  async (hostname) => {
    const addresses = answers[hostname];
    if (addresses === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('SSRF guard: URL and address checks', () => {
  const refused: [SsrfRefusalReason, string[]][] = [
    [
      'loopback',
      [
        'http://127.0.0.1/',
        'http://127.255.255.254:8080/x',
        'http://2130706433/',
        'http://0x7f000001/',
        'http://017700000001/',
        'http://127.1/',
        'http://0177.0.0.1/',
        'http://[::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://[::ffff:7f00:1]/',
        'http://[0:0:0:0:0:ffff:7f00:1]/',
        'http://[::127.0.0.1]/', // IPv4-compatible
        'http://[64:ff9b::127.0.0.1]/', // NAT64
        'http://[2002:7f00:1::1]/', // 6to4 of 127.0.0.1
        'http://localhost/',
        'http://LOCALHOST./',
        'http://api.localhost/',
      ],
    ],
    [
      'unspecified',
      ['http://0.0.0.0/', 'http://0/', 'http://0.1.2.3/', 'http://[::]/', 'http://[::ffff:0.0.0.0]/'],
    ],
    [
      'private',
      [
        'http://10.0.0.1/',
        'http://10.255.255.255/',
        'http://172.16.0.1/',
        'http://172.31.255.255/',
        'http://192.168.1.1/',
        'http://0xa000001/',
        'http://[::ffff:10.0.0.1]/',
        'http://[::ffff:c0a8:101]/',
        'http://[64:ff9b::a00:1]/',
        'http://[2002:c0a8:101::1]/',
        'http://[fec0::1]/',
      ],
    ],
    ['carrier_grade_nat', ['http://100.64.0.1/', 'http://100.127.255.254/', 'http://[::ffff:100.64.0.1]/']],
    [
      'link_local',
      ['http://169.254.1.1/', 'http://[fe80::1]/', 'http://[febf::1]/', 'http://[::ffff:169.254.0.1]/'],
    ],
    ['unique_local', ['http://[fc00::1]/', 'http://[fd12:3456:789a::1]/']],
    [
      'cloud_metadata',
      [
        'http://169.254.169.254/latest/meta-data/',
        'http://[::ffff:169.254.169.254]/',
        'http://[::ffff:a9fe:a9fe]/',
        'http://[64:ff9b::a9fe:a9fe]/',
        'http://[2002:a9fe:a9fe::]/',
        'http://2852039166/',
        'http://[fd00:ec2::254]/',
        'http://100.100.100.200/',
        'http://metadata.google.internal/computeMetadata/v1/',
        'http://METADATA.GOOGLE.INTERNAL./',
        'http://metadata/',
      ],
    ],
    ['multicast', ['http://224.0.0.1/', 'http://239.255.255.250/', 'http://[ff02::1]/', 'http://[ff0e::1]/']],
    ['broadcast', ['http://255.255.255.255/', 'http://[::ffff:255.255.255.255]/']],
    [
      'reserved',
      [
        'http://240.0.0.1/',
        'http://192.0.0.192/',
        'http://192.0.2.1/',
        'http://198.18.0.1/',
        'http://198.51.100.7/',
        'http://203.0.113.9/',
        'http://[2001:db8::1]/',
        'http://[2001::1]/', // Teredo
        'http://[100::1]/',
        'http://[64:ff9b:1::a00:1]/',
        'http://[::2:3:4]/',
        'http://[4000::1]/', // outside 2000::/3
      ],
    ],
  ];

  for (const [reason, urls] of refused) {
    it(`refuses ${reason} hosts in every spelling`, () => {
      for (const url of urls) expect([url, reasonFor(url)]).toEqual([url, reason]);
    });
  }

  it('gives a stable reason code and a clear message naming the refused host', () => {
    const checked = checkCallbackUrl('http://2130706433:9000/hook', strict);
    expect(checked).toEqual({
      allowed: false,
      reason: 'loopback',
      message: 'The host is a loopback address. (127.0.0.1)',
      target: '127.0.0.1',
    });
    expect(Object.keys(ssrfRefusalReasons).sort()).toEqual([
      'broadcast',
      'carrier_grade_nat',
      'cloud_metadata',
      'credentials_in_url',
      'insecure_http',
      'invalid_url',
      'link_local',
      'loopback',
      'multicast',
      'private',
      'reserved',
      'scheme_not_allowed',
      'unique_local',
      'unspecified',
    ]);
  });

  it('refuses non-http(s) schemes, credentials in the URL, unparsable URLs and (when required) plain http', () => {
    expect(reasonFor('ftp://example.com/')).toBe('scheme_not_allowed');
    expect(reasonFor('file:///etc/passwd')).toBe('scheme_not_allowed');
    expect(reasonFor('gopher://example.com:25/')).toBe('scheme_not_allowed');
    expect(reasonFor('javascript:alert(1)')).toBe('scheme_not_allowed');
    expect(reasonFor('https://user:pass@example.com/')).toBe('credentials_in_url');
    expect(reasonFor('https://user@example.com/')).toBe('credentials_in_url');
    expect(reasonFor('not a url')).toBe('invalid_url');
    expect(reasonFor('http://1.2.3.4.5.6/')).toBe('invalid_url');
    expect(reasonFor('http://example.com/hooks', { allowPrivate: false, requireHttps: true })).toBe(
      'insecure_http',
    );
    expect(reasonFor('http://example.com/hooks')).toBe('allowed');
  });

  it('allows public hosts, including IPv6 forms that embed a public IPv4 address', () => {
    for (const url of [
      'https://example.com/hooks',
      'https://93.184.216.34/',
      'https://8.8.8.8:8443/x?y=1',
      'https://172.32.0.1/',
      'https://100.128.0.1/',
      'https://[2606:4700:4700::1111]/',
      'https://[::ffff:8.8.8.8]/',
      'https://[64:ff9b::808:808]/',
      'https://[2002:808:808::1]/',
    ]) {
      expect([url, reasonFor(url)]).toEqual([url, 'allowed']);
    }
    const checked = checkCallbackUrl('https://[2606:4700:4700::1111]:8443/a', strict);
    expect(checked.allowed && checked.host).toBe('2606:4700:4700::1111');
  });

  it('allowPrivate lifts the address checks, except cloud metadata and URL-shape rules', () => {
    const dev = { allowPrivate: true, requireHttps: false };
    for (const url of ['http://127.0.0.1:3000/', 'http://localhost/', 'http://10.0.0.1/', 'http://[::1]/']) {
      expect([url, reasonFor(url, dev)]).toEqual([url, 'allowed']);
    }
    expect(reasonFor('http://169.254.169.254/', dev)).toBe('cloud_metadata');
    expect(reasonFor('http://metadata.google.internal/', dev)).toBe('cloud_metadata');
    expect(reasonFor('http://u:p@127.0.0.1/', dev)).toBe('credentials_in_url');
    expect(reasonFor('file:///etc/passwd', dev)).toBe('scheme_not_allowed');
  });

  it('classifies canonical addresses directly', () => {
    expect(blockedAddressReason('127.0.0.1')).toBe('loopback');
    expect(blockedAddressReason('::ffff:7f00:1')).toBe('loopback');
    expect(blockedAddressReason('169.254.169.254')).toBe('cloud_metadata');
    expect(blockedAddressReason('1.1.1.1')).toBeUndefined();
    expect(blockedAddressReason('2a00:1450:4001::1')).toBeUndefined();
    expect(() => blockedAddressReason('127.1')).toThrow(/not an IP address/);
  });
});

describe('SSRF guard: DNS answers are checked at connect time', () => {
  it('refuses a public-looking name whose DNS answer is private (DNS rebinding)', async () => {
    const resolve = fakeResolver({
      'hooks.example.test': ['127.0.0.1'],
      'meta.example.test': ['169.254.169.254'],
    });
    const refusal = await resolvePermittedAddresses('hooks.example.test', {
      allowPrivate: false,
      resolve,
    }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SsrfRefusedError);
    expect(refusal).toMatchObject({ reason: 'loopback', code: 'ERR_PAYLOOM_SSRF_REFUSED' });
    expect(String((refusal as Error).message)).toContain('hooks.example.test → 127.0.0.1');
    await expect(
      resolvePermittedAddresses('meta.example.test', { allowPrivate: true, resolve }),
    ).rejects.toMatchObject({ reason: 'cloud_metadata' });
  });

  it('refuses the host when any one of its answers is blocked, in either family', async () => {
    const resolve = fakeResolver({
      'mixed.example.test': ['93.184.216.34', '10.0.0.7'],
      'v6.example.test': ['2606:4700::1', 'fd00::1'],
      'mapped.example.test': ['::ffff:192.168.0.1'],
    });
    await expect(
      resolvePermittedAddresses('mixed.example.test', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({ reason: 'private' });
    await expect(
      resolvePermittedAddresses('v6.example.test', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({
      reason: 'unique_local',
    });
    await expect(
      resolvePermittedAddresses('mapped.example.test', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({ reason: 'private' });
  });

  it('passes public answers through, and resolver failures through unchanged', async () => {
    const resolve = fakeResolver({
      'ok.example.test': ['93.184.216.34', '2606:2800:220:1::1'],
      'empty.test': [],
    });
    await expect(
      resolvePermittedAddresses('ok.example.test', { allowPrivate: false, resolve }),
    ).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
    await expect(
      resolvePermittedAddresses('nx.example.test', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    await expect(
      resolvePermittedAddresses('empty.test', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    // Names refused by name are refused before any resolution.
    await expect(
      resolvePermittedAddresses('localhost', { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({
      reason: 'loopback',
    });
  });

  it('the lookup hands Node only checked addresses, honouring family and all', async () => {
    const lookup = createGuardedLookup({
      allowPrivate: false,
      resolve: fakeResolver({
        'ok.example.test': ['93.184.216.34', '2606:2800:220:1::1'],
        'bad.test': ['10.1.1.1'],
      }),
    });
    const call = (hostname: string, options: { family?: number; all?: boolean }) =>
      new Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }>((resolve) => {
        lookup(hostname, options, (error, address, family) => resolve({ error, address, family }));
      });
    expect(await call('ok.example.test', {})).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect(await call('ok.example.test', { family: 6 })).toEqual({
      error: null,
      address: '2606:2800:220:1::1',
      family: 6,
    });
    expect((await call('ok.example.test', { all: true })).address).toHaveLength(2);
    const refused = await call('bad.test', { all: true });
    expect(refused.error).toBeInstanceOf(SsrfRefusedError);
    expect(refused.error).toMatchObject({ reason: 'private' });
  });
});

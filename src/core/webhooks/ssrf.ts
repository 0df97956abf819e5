import { lookup as systemLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { assert } from '../errors/errors.js';

/**
 * The SSRF guard for outbound callbacks. Merchants choose the URLs we call, so without it a webhook
 * endpoint is a way to make our servers reach our own network, the cloud metadata service or localhost.
 *
 * Two layers: `checkCallbackUrl` refuses what the URL alone shows (scheme, credentials, plain http where
 * https is required, IP literals and names in blocked ranges); `createGuardedLookup` is the `lookup` the
 * HTTP client uses to resolve the host, so every address is checked at connect time and the socket
 * connects to exactly the address that was checked: a DNS answer that changes between a check and the
 * connect (DNS rebinding) has nothing to slip through.
 */

export const ssrfRefusalReasons = {
  invalid_url: 'The URL cannot be parsed.',
  scheme_not_allowed: 'Only http and https URLs can receive callbacks.',
  credentials_in_url: 'URLs with a user name or password cannot receive callbacks.',
  insecure_http: 'Plain http is not allowed here; use https.',
  cloud_metadata: 'The host is a cloud metadata service.',
  loopback: 'The host is a loopback address.',
  unspecified: 'The host is an unspecified address (0.0.0.0/8 or ::).',
  private: 'The host is a private network address.',
  carrier_grade_nat: 'The host is a carrier-grade NAT address (100.64.0.0/10).',
  link_local: 'The host is a link-local address.',
  unique_local: 'The host is an IPv6 unique-local address (fc00::/7).',
  multicast: 'The host is a multicast address.',
  broadcast: 'The host is the broadcast address.',
  reserved: 'The host is in a reserved, documentation or non-global address range.',
} as const;

export type SsrfRefusalReason = keyof typeof ssrfRefusalReasons;

export type BlockedAddressReason = Exclude<
  SsrfRefusalReason,
  'invalid_url' | 'scheme_not_allowed' | 'credentials_in_url' | 'insecure_http'
>;

export interface EgressPolicy {
  /**
   * Lifts the address-range checks, for local development only (`PAYLOOM_ALLOW_PRIVATE_CALLBACKS=true`).
   * Cloud metadata stays refused: it is never a legitimate callback target, and a production box
   * started with the flag by mistake must still not hand out its cloud credentials.
   */
  readonly allowPrivate: boolean;
  /** Refuse plain http (production endpoints). */
  readonly requireHttps: boolean;
}

export interface SsrfRefusal {
  readonly allowed: false;
  readonly reason: SsrfRefusalReason;
  readonly message: string;
  /** The refused address or host name, when the reason is about one. */
  readonly target?: string;
}

export type CallbackUrlCheck =
  | {
      readonly allowed: true;
      readonly url: URL;
      /** Host name or IP literal without IPv6 brackets, as the HTTP client takes it. */
      readonly host: string;
    }
  | SsrfRefusal;

/** Thrown by the guarded lookup, so an HTTP client surfaces it as the request's error. */
export class SsrfRefusedError extends Error {
  readonly code = 'ERR_PAYLOOM_SSRF_REFUSED';
  readonly reason: SsrfRefusalReason;
  readonly target: string | undefined;
  constructor(reason: SsrfRefusalReason, target?: string) {
    super(target === undefined ? ssrfRefusalReasons[reason] : `${ssrfRefusalReasons[reason]} (${target})`);
    this.name = 'SsrfRefusedError';
    this.reason = reason;
    this.target = target;
  }
}

function refusal(reason: SsrfRefusalReason, target?: string): SsrfRefusal {
  return {
    allowed: false,
    reason,
    message: target === undefined ? ssrfRefusalReasons[reason] : `${ssrfRefusalReasons[reason]} (${target})`,
    ...(target === undefined ? {} : { target }),
  };
}

/**
 * Blocked ranges, most specific first: the first match names the reason (169.254.169.254 is link-local
 * too, but "cloud metadata" is the useful answer). Sources: IANA IPv4/IPv6 special-purpose registries.
 */
const blockedRanges: readonly {
  readonly reason: BlockedAddressReason;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}[] = [
  {
    reason: 'cloud_metadata',
    // AWS/GCP/Azure/OpenStack, Alibaba; AWS over IPv6 (Nitro).
    ipv4: ['169.254.169.254/32', '100.100.100.200/32'],
    ipv6: ['fd00:ec2::254/128'],
  },
  { reason: 'loopback', ipv4: ['127.0.0.0/8'], ipv6: ['::1/128'] },
  // 0.0.0.0 and :: reach the local host on Linux.
  { reason: 'unspecified', ipv4: ['0.0.0.0/8'], ipv6: ['::/128'] },
  // fec0::/10 is deprecated site-local: private by intent.
  { reason: 'private', ipv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ipv6: ['fec0::/10'] },
  { reason: 'carrier_grade_nat', ipv4: ['100.64.0.0/10'], ipv6: [] },
  { reason: 'link_local', ipv4: ['169.254.0.0/16'], ipv6: ['fe80::/10'] },
  { reason: 'unique_local', ipv4: [], ipv6: ['fc00::/7'] },
  { reason: 'multicast', ipv4: ['224.0.0.0/4'], ipv6: ['ff00::/8'] },
  { reason: 'broadcast', ipv4: ['255.255.255.255/32'], ipv6: [] },
  {
    reason: 'reserved',
    ipv4: [
      '192.0.0.0/24', // IETF protocol assignments (includes Oracle Cloud metadata 192.0.0.192)
      '192.0.2.0/24', // TEST-NET-1
      '192.88.99.0/24', // 6to4 relay anycast (deprecated)
      '198.18.0.0/15', // benchmarking
      '198.51.100.0/24', // TEST-NET-2
      '203.0.113.0/24', // TEST-NET-3
      '240.0.0.0/4', // future use
    ],
    ipv6: [
      '::/96', // IPv4-compatible (deprecated)
      '64:ff9b:1::/48', // local-use NAT64 (RFC 8215): translates into the operator's own network
      '100::/64', // discard-only
      '2001::/23', // IETF protocol assignments, includes Teredo 2001::/32
      '2001:db8::/32', // documentation
      '3fff::/20', // documentation (RFC 9637)
      '5f00::/16', // SRv6 SIDs
    ],
  },
];

/** 4 bytes of a dotted quad from our own table above; not for untrusted input. */
function hextets(ipv4: string): [string, string] {
  const octets = ipv4.split('.').map(Number);
  const [a = 0, b = 0, c = 0, d = 0] = octets;
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/**
 * IPv6 forms that carry an IPv4 address and reach it: NAT64 (64:ff9b::/96, RFC 6052), 6to4 (2002::/16,
 * RFC 3056) and IPv4-compatible (::/96). IPv4-mapped (::ffff:0:0/96) needs nothing here: BlockList
 * already matches a mapped address against the IPv4 rules.
 */
function ipv6Embeddings(cidr: string): [string, number][] {
  const [address = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  const [high, low] = hextets(address);
  return [
    [`64:ff9b::${address}`, 96 + bits],
    [`2002:${high}:${low}::`, 16 + bits],
    [`::${address}`, 96 + bits],
  ];
}

function addSubnet(list: BlockList, cidr: string, family: 'ipv4' | 'ipv6'): void {
  const [address = '', bits = ''] = cidr.split('/');
  list.addSubnet(address, Number(bits), family);
}

const blockLists: readonly { readonly reason: BlockedAddressReason; readonly list: BlockList }[] =
  blockedRanges.map(({ reason, ipv4, ipv6 }) => {
    const list = new BlockList();
    for (const cidr of ipv4) {
      addSubnet(list, cidr, 'ipv4');
      for (const [address, bits] of ipv6Embeddings(cidr)) list.addSubnet(address, bits, 'ipv6');
    }
    for (const cidr of ipv6) addSubnet(list, cidr, 'ipv6');
    return { reason, list };
  });

/** IPv6 prefixes whose embedded IPv4 address passed the checks above, so they reach a public host. */
const publicIpv4Embeddings = new BlockList();
publicIpv4Embeddings.addSubnet('::ffff:0:0', 96, 'ipv6');
publicIpv4Embeddings.addSubnet('64:ff9b::', 96, 'ipv6');

/** Everything outside 2000::/3 (global unicast) is reserved or special (IANA IPv6 address space). */
const ipv6GlobalUnicast = new BlockList();
ipv6GlobalUnicast.addSubnet('2000::', 3, 'ipv6');

/** Why `address` (a canonical IPv4 or IPv6 literal) must not be called, or `undefined` when public. */
export function blockedAddressReason(address: string): BlockedAddressReason | undefined {
  const version = isIP(address);
  assert(version !== 0, `not an IP address: ${address}`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  for (const { reason, list } of blockLists) {
    if (list.check(address, family)) return reason;
  }
  if (family === 'ipv6' && !publicIpv4Embeddings.check(address, family)) {
    if (!ipv6GlobalUnicast.check(address, family)) return 'reserved';
  }
  return undefined;
}

/** Host names that are refused before any DNS query; a trailing dot is the same name. */
function blockedHostnameReason(hostname: string): BlockedAddressReason | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  // GCP's metadata names; AWS and Azure use the bare address, refused by range.
  if (name === 'metadata.google.internal' || name === 'metadata.goog' || name === 'metadata') {
    return 'cloud_metadata';
  }
  // RFC 6761: localhost and its subdomains are loopback whatever DNS says.
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  return undefined;
}

function permitted(reason: BlockedAddressReason, allowPrivate: boolean): boolean {
  return allowPrivate && reason !== 'cloud_metadata';
}

/** Name or address check for one host (no DNS): the refusal, or `undefined` if it may be tried. */
function hostRefusal(host: string, allowPrivate: boolean): SsrfRefusal | undefined {
  const reason = isIP(host) === 0 ? blockedHostnameReason(host) : blockedAddressReason(host);
  return reason === undefined || permitted(reason, allowPrivate) ? undefined : refusal(reason, host);
}

/**
 * What the URL alone shows. The WHATWG parser first normalises numeric hosts, so `2130706433`,
 * `0x7f000001`, `017700000001`, `127.1` and `0177.0.0.1` all arrive here as `127.0.0.1`, and
 * `[::ffff:127.0.0.1]` as `::ffff:7f00:1`. Also for validating endpoint URLs when they are registered.
 */
export function checkCallbackUrl(url: string, policy: EgressPolicy): CallbackUrlCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refusal('invalid_url');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return refusal('scheme_not_allowed', parsed.protocol);
  }
  if (parsed.username !== '' || parsed.password !== '') return refusal('credentials_in_url');
  if (policy.requireHttps && parsed.protocol === 'http:') return refusal('insecure_http');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return hostRefusal(host, policy.allowPrivate) ?? { allowed: true, url: parsed, host };
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Turns a host name into addresses; injected in tests so they make no DNS queries. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** getaddrinfo, as Node's default lookup (honours /etc/hosts), every address in resolver order. */
export const systemResolver: HostResolver = async (hostname) => {
  const answers = await systemLookup(hostname, { all: true });
  return answers.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
};

function notFound(hostname: string): Error {
  return Object.assign(new Error(`no usable address for ${hostname}`), { code: 'ENOTFOUND', hostname });
}

/**
 * Resolves `hostname` and checks every answer. One blocked answer refuses the host: a DNS answer mixing
 * a public and a private address is a rebinding setup, not a legitimate endpoint. Throws
 * `SsrfRefusedError`, or the resolver's own error (ENOTFOUND, EAI_AGAIN) when resolution fails.
 */
export async function resolvePermittedAddresses(
  hostname: string,
  options: { allowPrivate: boolean; resolve: HostResolver },
): Promise<ResolvedAddress[]> {
  const early = hostRefusal(hostname, options.allowPrivate);
  if (early !== undefined) throw new SsrfRefusedError(early.reason, hostname);
  const literal = isIP(hostname);
  if (literal !== 0) return [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  const answers = await options.resolve(hostname);
  if (answers.length === 0) throw notFound(hostname);
  return answers.map(({ address }) => {
    const version = isIP(address);
    assert(version !== 0, `resolver returned a non-address for ${hostname}`);
    const reason = blockedAddressReason(address);
    if (reason !== undefined && !permitted(reason, options.allowPrivate)) {
      throw new SsrfRefusedError(reason, `${hostname} → ${address}`);
    }
    return { address, family: version === 6 ? 6 : 4 };
  });
}

function requestedFamily(family: number | string | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

/**
 * A `lookup` for `http.request` / `net.connect`: Node connects to the address this returns, so the
 * address checked is the address connected to. Node skips `lookup` for IP-literal hosts; those are
 * refused by `checkCallbackUrl` before the request (and by this function if called with one).
 */
export function createGuardedLookup(options: {
  allowPrivate: boolean;
  resolve?: HostResolver;
}): LookupFunction {
  const resolve = options.resolve ?? systemResolver;
  return (hostname, lookupOptions, callback) => {
    const family = requestedFamily(lookupOptions.family);
    resolvePermittedAddresses(hostname, { allowPrivate: options.allowPrivate, resolve }).then(
      (addresses) => {
        const usable = addresses.filter((entry) => family === 0 || entry.family === family);
        const first = usable[0];
        // A fresh tick: an exception thrown by Node's connect code must not become a rejected promise.
        process.nextTick(() => {
          if (first === undefined) callback(notFound(hostname), []);
          else if (lookupOptions.all === true) callback(null, usable);
          else callback(null, first.address, first.family);
        });
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        process.nextTick(() => callback(failure, []));
      },
    );
  };
}

/**
 * Where founders' webhooks may go. In production: https only, and never to an address of our own
 * network or the machine itself (loopback, RFC 1918 private, unique-local fc00::/7, link-local
 * 169.254/16 and fe80::/10 (cloud metadata lives there), CGNAT 100.64/10, unspecified, multicast,
 * reserved, and IPv4-mapped/NAT64 IPv6 forms of those), whether the URL names the address or a
 * name that resolves to it. Checked when the URL is saved AND before every attempt, since DNS can
 * change in between.
 *
 * What remains: `fetch` resolves the name again when it connects and cannot be pinned to the
 * address checked here, so a name whose DNS answer flips between our check and the connection
 * (DNS rebinding, a window of milliseconds) could still reach a refused address. Redirects are
 * never followed, so a refused address cannot be reached through a 3xx either.
 *
 * In development and test anything http(s) goes, so the flow can be tried against localhost.
 */

/** Resolves a host name to its addresses (A and AAAA). */
export type Resolver = (hostname: string) => Promise<string[]>;

/** How long a lookup may take: an attempt (lookup + 10 s request) must end well within its lease. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** `Deno.resolveDns` for A and AAAA, at most 5 s; a name with neither answers `[]`. */
export const resolveWithDns: Resolver = async (hostname) => {
  const signal = AbortSignal.timeout(RESOLVE_TIMEOUT_MS);
  const settle = (type: "A" | "AAAA") =>
    Deno.resolveDns(hostname, type, { signal }).catch(() => [] as string[]);
  const [a, aaaa] = await Promise.all([settle("A"), settle("AAAA")]);
  return [...a, ...aaaa];
};

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** The checks that need no DNS: scheme, credentials, literal addresses, local names. */
export function checkUrlShape(raw: string, production: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: "must be an http(s) URL" };
  }
  if (url.username || url.password) {
    return { ok: false, reason: "must not carry a user name or password" };
  }
  if (!production) return { ok: true, url };
  if (url.protocol !== "https:") return { ok: false, reason: "must use https" };
  const host = hostOf(url);
  const literal = parseIp(host);
  if (literal) {
    return isPublic(literal)
      ? { ok: true, url }
      : { ok: false, reason: `${host} is not a public address` };
  }
  if (host === "localhost" || host.endsWith(".localhost") || !host.includes(".")) {
    return { ok: false, reason: `${host} is not a public host name` };
  }
  return { ok: true, url };
}

/**
 * The full check: `checkUrlShape`, then (production, a name) every address the name resolves to
 * must be public, and it must resolve at all.
 */
export async function checkWebhookUrl(
  raw: string,
  options: { production: boolean; resolve?: Resolver },
): Promise<UrlVerdict> {
  const shape = checkUrlShape(raw, options.production);
  if (!shape.ok || !options.production) return shape;
  const host = hostOf(shape.url);
  if (parseIp(host)) return shape;
  let addresses: string[];
  try {
    addresses = await (options.resolve ?? resolveWithDns)(host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
  for (const address of addresses) {
    const ip = parseIp(address);
    if (!ip || !isPublic(ip)) {
      return { ok: false, reason: `${host} resolves to ${address}, not a public address` };
    }
  }
  return shape;
}

/** The URL's host without IPv6 brackets or a trailing dot, lowercase. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
}

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
type Ip = Uint8Array;

/** Parses a dotted-quad IPv4 or an IPv6 address (with `::` and an embedded IPv4 tail); else `null`. */
export function parseIp(text: string): Ip | null {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  return parseIpv6(text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""));
}

function parseIpv4(text: string): Ip | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Ip | null {
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** `[first byte(s)…]/bits` prefix match. */
function inPrefix(ip: Ip, prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit++) {
    const byte = bit >> 3, mask = 0x80 >> (bit & 7);
    if ((ip[byte] & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** IPv4 ranges that are not the public internet (RFC 6890 and friends). */
const V4_BLOCKED: [number[], number][] = [
  [[0], 8], // "this network", incl. 0.0.0.0 unspecified
  [[10], 8], // RFC 1918
  [[100, 64], 10], // CGNAT (RFC 6598)
  [[127], 8], // loopback
  [[169, 254], 16], // link-local (cloud metadata: 169.254.169.254)
  [[172, 16], 12], // RFC 1918
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 168], 16], // RFC 1918
  [[198, 18], 15], // benchmarking
  [[224], 4], // multicast
  [[240], 4], // reserved, incl. 255.255.255.255 broadcast
];

/** IPv6 ranges that are not the public internet. */
const V6_BLOCKED: [number[], number][] = [
  [[0xfc], 7], // unique local (fc00::/7)
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
];

/** Whether an address is on the public internet (not one of the ranges above). */
export function isPublic(ip: Ip): boolean {
  if (ip.length === 4) return !V4_BLOCKED.some(([p, bits]) => inPrefix(ip, p, bits));
  // ::/96 holds :: (unspecified), ::1 (loopback) and deprecated IPv4-compatible forms;
  // ::ffff:0:0/96 is IPv4-mapped and 64:ff9b::/96 NAT64: all judged by their IPv4 tail.
  const zeros80 = ip.subarray(0, 10).every((b) => b === 0);
  if (zeros80 && ip[10] === 0 && ip[11] === 0) return false;
  if (zeros80 && ip[10] === 0xff && ip[11] === 0xff) return isPublic(ip.subarray(12));
  if (inPrefix(ip, [0x00, 0x64, 0xff, 0x9b], 96)) return isPublic(ip.subarray(12));
  return !V6_BLOCKED.some(([p, bits]) => inPrefix(ip, p, bits));
}

/**
 * The generated hostile suite (issue 11): ≥ 10,000 seeded bad requests over real HTTP against the
 * real server (main.ts, run as `deno task start` runs it, on a KV file in a temp dir), across every
 * route the app mounts (read from `createApp(…).routes`, so a new route is covered without an
 * edit), the static files, the docs and unknown paths.
 *
 * It asserts: no 5xx at all (a 503 `unavailable` with `Retry-After` only in the deliberate flood
 * phase), every JSON error in the one envelope with the status of its code, the expectations each
 * mutation states (405, 401, 413, 400, 403, 409, 404 …), the process alive and serving at the end,
 * and usage counts exactly equal to the sum of the amounts of the tenant calls that answered 200.
 *
 * Replay a run with its printed seed: `HOSTILE_SEED=123 deno test -A tests/hostile/`
 * (`HOSTILE_COUNT=n` changes how many requests are generated; the default is 10,000).
 */
import assert from "node:assert/strict";
import { startLocalStripe } from "../../dev/stripe/mod.ts";
import { HANDLED_EVENT_TYPES } from "../../lib/billing/events.ts";
import { setUpOwnStripe } from "../_helpers/stripe.ts";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { ERROR_STATUS } from "../../lib/errors.ts";
import { devUserId } from "../../lib/founders/session.ts";
import { payFounder, seedPlatform, testApp } from "../_helpers/app.ts";
import { type RawAnswer, rawRequest } from "../_helpers/raw_http.ts";
import { startServer } from "../_helpers/server.ts";
import {
  peakRssKiB,
  squeeze,
  startV8Flags,
  statusHistogram,
  tempDir,
  UNLIMITED,
} from "./_support.ts";

// ---------------------------------------------------------------- seeded randomness

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(Deno.env.get("HOSTILE_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(Deno.env.get("HOSTILE_COUNT") ?? 10_000);
/**
 * Triage only: skip generated requests whose description matches this regular expression, to see
 * what else fails while a known crash is open (e.g. `HOSTILE_EXCLUDE='/static/[^ "]+/'`). The
 * summary says how many were skipped; CI never sets it.
 */
const EXCLUDE = Deno.env.get("HOSTILE_EXCLUDE");
const CONCURRENCY = 24;
const RAW_TIMEOUT_MS = 5_000;

class Rng {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

// ---------------------------------------------------------------- what a request is

type HeaderValue = string | Uint8Array;

interface Spec {
  /** The mutation family: failures are grouped by it. */
  kind: string;
  method: string;
  /** The request target exactly as sent. */
  target: string;
  headers: [string, HeaderValue][];
  body?: Uint8Array;
  contentLength?: number | "none" | "auto";
  /** Send the body chunked (no declared length). */
  chunked?: boolean;
  halfClose?: boolean;
  /** Send over a raw socket even when `fetch` could send it. */
  raw?: boolean;
  /** The statuses this request must get, and why. */
  expect?: { statuses: number[]; why: string };
  /** The server may close the connection without an answer (protocol-level garbage). */
  mayClose?: boolean;
  /** A 200 counts `amount` for the end-user the server sees (`user`, as latin1 of its bytes). */
  tenant?: { user: string; userHeader: HeaderValue; amount: number | "body" };
  /** A 200 must not contain these (path traversal must not read files outside static/). */
  notContains?: string[];
  /** A second request sent once this one is answered (idempotency reuse). */
  then?: (first: Answer) => Spec | null;
  /** Part of the deliberate flood: 503 `unavailable` with Retry-After is allowed. */
  flood?: boolean;
  /**
   * A delivery to `/webhook/stripe` without `?platform=` (an endpoint made before sync named the
   * platform): its lookup is bounded per process by design, so a busy 503 `unavailable` with
   * Retry-After is allowed too (Stripe retries it), and counted in the summary.
   */
  legacyWebhook?: boolean;
  /** Signed with the `/webhook/platform` secret just before sending. */
  signWith?: { t: number; body: string };
}

interface Answer {
  outcome: RawAnswer["outcome"] | "fetch-error";
  status: number;
  headers: Headers;
  text: string;
  via: "fetch" | "raw";
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

// ---------------------------------------------------------------- the world under test

interface World {
  url: string;
  apiKey: string;
  founderToken: string;
  publicUrl: string;
  webhookSecret: string;
  platformId: string;
  routes: { path: string; methods: string[] }[];
  staticFiles: string[];
}

/** Every (path, methods) the app mounts, from Hono's own route table. */
async function appRoutes(): Promise<{ path: string; methods: string[] }[]> {
  await using t = await testApp();
  const byPath = new Map<string, Set<string>>();
  for (const r of t.app.routes) {
    if (r.path.includes("*")) continue; // middleware and /static/* (its files are listed below)
    const methods = byPath.get(r.path) ?? new Set<string>();
    if (r.method !== "ALL") methods.add(r.method);
    byPath.set(r.path, methods);
  }
  return [...byPath].map(([path, methods]) => ({ path, methods: [...methods] }));
}

async function listStatic(): Promise<string[]> {
  const root = new URL("../../static/", import.meta.url);
  const out: string[] = [];
  const walk = async (dir: URL, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`);
      else if (e.isFile) out.push(`/static/${prefix}${e.name}`);
    }
  };
  await walk(root, "");
  return out.sort();
}

const isTenant = (p: string) => p.startsWith("/api/");
const isWebhook = (p: string) => p.startsWith("/webhook/");
const isFounderApi = (p: string) => p.startsWith("/dashboard/api/");
/** Body caps the app documents: 16 KiB on the tenant API, 512 KiB (stripe) and 256 KiB (platform). */
function bodyCap(path: string): number | null {
  if (path === "/webhook/stripe") return 512 * 1024;
  if (path === "/webhook/platform") return 256 * 1024;
  if (isTenant(path)) return 16 * 1024;
  return null;
}

// ---------------------------------------------------------------- payloads

const USERS = ["u-0", "u-1", "u-2", "u-3", "u-4", "u-5", "u-6", "u-7"];

function deepJson(depth: number, open = "[", close = "]"): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Bodies that are not what a route wants; `{amount}` variants probe the number parser. */
const AMOUNTS = [
  "1e400",
  "-1",
  "0",
  "-0",
  "0.5",
  "1.0000001",
  "1e3",
  "1.5e3",
  "1E2",
  "9007199254740993",
  "1000000",
  "1000001",
  "1e-7",
  '"5"',
  '"1e3"',
  "true",
  "null",
  "[1]",
  "{}",
  "NaN",
  "Infinity",
  "0x10",
  "01",
  "1_000",
  "99999999999999999999999999999",
  '"\\u0000"',
];

function badBodies(rng: Rng): { label: string; body: Uint8Array } {
  const options: (() => { label: string; body: Uint8Array })[] = [
    () => ({ label: "invalid UTF-8", body: new Uint8Array([0x7b, 0xff, 0xfe, 0xc0, 0xaf, 0x7d]) }),
    () => ({
      label: "invalid UTF-8 inside a string",
      body: new Uint8Array([
        ...bytes('{"amount":1,"x":"'),
        0xc3,
        0x28,
        0xed,
        0xa0,
        0x80,
        0x22,
        0x7d,
      ]),
    }),
    () => ({
      label: "overlong UTF-8",
      body: new Uint8Array([0x22, 0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0x22]),
    }),
    () => ({ label: "JSON nested 10,000 deep", body: bytes(deepJson(10_000)) }),
    () => ({ label: "amount nested 8,000 deep", body: bytes(`{"amount":${deepJson(8_000)}}`) }),
    () => ({
      label: "objects nested 10,000 deep",
      body: bytes('{"a":'.repeat(10_000) + "1" + "}".repeat(10_000)),
    }),
    () => {
      const a = rng.pick(AMOUNTS);
      return { label: `amount ${a}`, body: bytes(`{"amount":${a}}`) };
    },
    () => ({ label: "duplicate keys", body: bytes('{"amount":1,"amount":"x"}') }),
    () => ({ label: "BOM then JSON", body: bytes('\ufeff{"amount":1}') }),
    () => ({ label: "trailing garbage", body: bytes('{"amount":1}}}garbage') }),
    () => ({ label: "empty", body: new Uint8Array() }),
    () => ({ label: "whitespace", body: bytes(" \r\n\t ") }),
    () => ({ label: "a bare string", body: bytes('"amount"') }),
    () => ({ label: "a JSON array", body: bytes('[{"amount":1}]') }),
    () => ({ label: "null", body: bytes("null") }),
    () => ({ label: "NUL bytes", body: new Uint8Array([0x7b, 0, 0, 0x7d]) }),
    () => ({ label: "a huge string", body: bytes(`{"amount":1,"s":"${"x".repeat(15_000)}"}`) }),
    () => ({ label: "form encoded", body: bytes("amount=5&name=%ff") }),
    () => ({ label: "__proto__", body: bytes('{"__proto__":{"amount":5},"constructor":{}}') }),
    () => ({ label: "lone surrogate escape", body: bytes('{"amount":1,"name":"\\ud800"}') }),
  ];
  return rng.pick(options)();
}

const CONTENT_TYPES: (string | null)[] = [
  null,
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=",
  "application/json; charset=utf-16",
  "application/json; charset=\u00ff",
  "application/xml",
  "*/*",
  "application/json, text/plain",
  "",
];

/** Odd X-User-Id values the tenant API must refuse (400): control, format, separators, surrogates. */
const BAD_USER_IDS: { label: string; value: Uint8Array }[] = [
  { label: "empty", value: new Uint8Array() },
  { label: "257 characters", value: bytes("u".repeat(257)) },
  { label: "C0 control U+0001", value: new Uint8Array([0x75, 0x01]) },
  { label: "DEL", value: new Uint8Array([0x75, 0x7f]) },
  { label: "tab", value: bytes("u\tv") },
  { label: "C1 control U+0085 (UTF-8)", value: bytes("u\u0085") },
  { label: "C1 control U+009F (UTF-8)", value: bytes("u\u009f") },
  { label: "C1 as a latin1 byte 0x85", value: new Uint8Array([0x75, 0x85]) },
  { label: "bidi override U+202E", value: bytes("u\u202eevil") },
  { label: "zero-width space U+200B", value: bytes("u\u200b") },
  { label: "BOM U+FEFF", value: bytes("\ufeffu") },
  { label: "line separator U+2028", value: bytes("u\u2028v") },
  { label: "paragraph separator U+2029", value: bytes("u\u2029v") },
  { label: "lone surrogate (CESU-8 bytes)", value: new Uint8Array([0x75, 0xed, 0xa0, 0x80]) },
];

const BAD_IDEMPOTENCY_KEYS: { label: string; value: Uint8Array }[] = [
  { label: "empty", value: new Uint8Array() },
  { label: "256 characters", value: bytes("k".repeat(256)) },
  { label: "C0 control", value: new Uint8Array([0x6b, 0x01]) },
  { label: "DEL", value: new Uint8Array([0x6b, 0x7f]) },
];

// ---------------------------------------------------------------- the generator

function describeBytes(b: Uint8Array | undefined, max = 120): string {
  if (!b) return "(none)";
  const text = utf8.decode(b.subarray(0, max));
  return `${b.byteLength} B ${JSON.stringify(text)}${b.byteLength > max ? "…" : ""}`;
}

function describeSpec(s: Spec): string {
  const headers = s.headers.map(([n, v]) => {
    const value = typeof v === "string" ? v : latin1.decode(v);
    return `${n}: ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)}`;
  }).join("; ");
  const framing = s.chunked
    ? " (chunked)"
    : typeof s.contentLength === "number"
    ? ` (Content-Length ${s.contentLength}${s.halfClose ? ", then EOF" : ""})`
    : "";
  const method = s.method.length > 40 ? `${s.method.slice(0, 40)}…` : s.method;
  return `${method} ${JSON.stringify(s.target.slice(0, 200))}\n    headers: ${
    headers || "(none)"
  }` +
    `\n    body: ${describeBytes(s.body)}${framing}`;
}

class Generator {
  constructor(readonly rng: Rng, readonly w: World) {}

  private tenantAuth(): [string, string][] {
    return [["Authorization", `Bearer ${this.w.apiKey}`]];
  }

  /** A valid metered call, counted if it answers 200. */
  validData(user = this.rng.pick(USERS)): Spec {
    const amount = 1 + this.rng.int(this.rng.chance(0.5) ? 5 : 1000);
    return {
      kind: "valid POST /api/data",
      method: "POST",
      target: "/api/data",
      headers: [...this.tenantAuth(), ["X-User-Id", user], ["Content-Type", "application/json"]],
      body: bytes(JSON.stringify({ amount })),
      raw: this.rng.chance(0.2),
      expect: { statuses: [200], why: "a valid call with an unlimited tier succeeds" },
      tenant: { user, userHeader: user, amount },
    };
  }

  validUsage(): Spec {
    const user = this.rng.pick(USERS);
    return {
      kind: "valid GET /api/usage",
      method: "GET",
      target: "/api/usage",
      headers: [...this.tenantAuth(), ["X-User-Id", user]],
      expect: { statuses: [200], why: "a valid usage read succeeds" },
    };
  }

  /** A base request that a route would accept, before mutation. */
  base(path: string, method: string): Spec {
    const headers: [string, HeaderValue][] = [];
    let body: Uint8Array | undefined;
    let tenant: Spec["tenant"];
    if (isTenant(path)) {
      const user = this.rng.pick(USERS);
      headers.push(...this.tenantAuth(), ["X-User-Id", user]);
      if (method === "POST") {
        headers.push(["Content-Type", "application/json"]);
        body = bytes(path === "/api/data" ? `{"amount":${1 + this.rng.int(9)}}` : "{}");
        if (path === "/api/data") tenant = { user, userHeader: user, amount: "body" };
      }
    } else if (isFounderApi(path)) {
      headers.push(["Authorization", `Bearer ${this.w.founderToken}`]);
      if (method !== "GET") {
        headers.push(["Content-Type", "application/json"]);
        body = bytes("{}");
      }
    } else if (isWebhook(path)) {
      headers.push(["Content-Type", "application/json"], [
        "Stripe-Signature",
        `t=${Math.floor(Date.now() / 1000)},v1=${"ab".repeat(32)}`,
      ]);
      body = bytes('{"id":"evt_1","type":"invoice.paid","data":{"object":{}}}');
    } else if (method !== "GET" && method !== "HEAD") {
      headers.push(["Origin", this.w.publicUrl], [
        "Content-Type",
        "application/x-www-form-urlencoded",
      ]);
      body = bytes("email=hostile%40example.com");
    }
    if (!isTenant(path) && !isWebhook(path) && !isFounderApi(path) && this.rng.chance(0.5)) {
      headers.push(["Accept", this.rng.pick(["text/html", "*/*", "application/json", "x/y;q=2"])]);
    }
    return { kind: "", method, target: path, headers, body, tenant };
  }

  /** One hostile request: a route (or static file, or unknown path) and a mutation. */
  hostile(): Spec {
    const { rng, w } = this;
    const r = rng.next();
    let path: string;
    let methods: string[];
    if (r < 0.1) {
      path = rng.pick(w.staticFiles);
      methods = ["GET"];
    } else if (r < 0.14) {
      path = rng.pick([
        "/nope",
        "/api/nope",
        "/webhook/nope",
        "/dashboard/api/nope",
        "/static/nope.css",
        "/.env",
        "/admin",
        "/api",
      ]);
      methods = [];
    } else {
      const route = rng.pick(w.routes);
      path = route.path;
      methods = route.methods;
    }
    const method = methods.length ? rng.pick(methods) : rng.pick(["GET", "POST"]);
    const spec = this.base(path, method);
    const families = this.families(path, method, methods);
    const [kind, mutate] = rng.pick(families);
    spec.kind = `${kind} @ ${path.startsWith("/static/") ? "/static/*" : path}`;
    mutate(spec);
    return spec;
  }

  private families(
    path: string,
    method: string,
    methods: string[],
  ): [string, (s: Spec) => void][] {
    const { rng, w } = this;
    const mounted = w.routes.some((r) => r.path === path);
    const known = mounted || path.startsWith("/static/") && !path.includes("nope");
    const out: [string, (s: Spec) => void][] = [
      ["wrong method", (s) => {
        const others = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) =>
          !methods.includes(m)
        );
        const extra = ["OPTIONS", "TRACE", "PROPFIND", "FOO", "CONNECT"];
        s.method = others.length && rng.chance(0.8) ? rng.pick(others) : rng.pick(extra);
        s.raw = true;
        s.mayClose = s.method === "CONNECT";
        delete s.tenant;
        if (mounted && ["GET", "POST", "PUT", "PATCH", "DELETE"].includes(s.method)) {
          s.expect = { statuses: [405], why: `405 for a method ${path} does not allow` };
        }
      }],
      ["odd path encoding", (s) => {
        const variants = [
          `${path}%ff`,
          `${path}/%ff`,
          `${path}%00`,
          `${path}%c0%af`,
          `${path}/%c0%ae%c0%ae/`,
          `/%2e%2e${path}`,
          `/..${path}`,
          `${path}/../..//deno.json`,
          `//${path}`,
          `${path}//`,
          `${path}/`,
          `${path.toUpperCase()}`,
          `${path};jsessionid=1`,
          `${path}?a=%ff&b=%zz&c=${"%".repeat(3)}`,
          `${path}?${"x=1&".repeat(2000)}`,
          `${path}%2f..%2f..%2fdeno.json`,
          `/static/..%2f..%2fdeno.json`,
          `/static/%2e%2e/deno.json`,
          `/static/%2e%2e%2fmain.ts`,
          `/static/....//deno.json`,
          `/static/%ff`,
          `/static/%00.css`,
          `${path}#frag`,
          `${path}\\..\\deno.json`,
          `${path}/${"a".repeat(8000)}`,
        ];
        s.target = rng.pick(variants);
        s.raw = true;
        s.mayClose = /#|\\|%00/.test(s.target);
        s.notContains = ["--max-old-space-size", "dream-api's entry point"];
        // A variant that still reaches /api/data may count; the exact-count check judges it.
        if (!s.target.startsWith(path)) delete s.tenant;
      }],
      ["query junk", (s) => {
        const q = rng.pick([
          "period=9999-12",
          "period=0000-00",
          "period=2026-13",
          "period=-1",
          "period=%ff",
          "period=1e9",
          `period=${"9".repeat(300)}`,
          "q=%00",
          `q=${"a".repeat(300)}`,
          "cursor=%ff%fe",
          `cursor=${"A".repeat(2000)}`,
          "period=2026-11&period=2026-10",
          "limit=-1&offset=1e400",
        ]);
        s.target = `${path}?${q}`;
        s.raw = rng.chance(0.5);
      }],
      ["bad content type", (s) => {
        const ct = rng.pick(CONTENT_TYPES);
        s.headers = s.headers.filter(([n]) => n.toLowerCase() !== "content-type");
        if (ct !== null) s.headers.push(["Content-Type", ct]);
        if (rng.chance(0.3)) {
          s.headers.push(["Content-Type", "text/plain"], ["Content-Type", "application/json"]);
          s.raw = true;
        }
      }],
      ["bad body", (s) => {
        const { label, body } = badBodies(rng);
        s.kind = `bad body (${label})`;
        s.body = body;
        if (s.method === "GET" || s.method === "HEAD") s.raw = true;
      }],
      ["lying Content-Length", (s) => {
        const body = s.body ?? bytes('{"amount":3}');
        s.body = body;
        s.raw = true;
        if (rng.chance(0.5)) {
          s.contentLength = rng.int(Math.max(1, body.byteLength));
          s.kind = "lying Content-Length (shorter than the body)";
        } else {
          s.contentLength = body.byteLength + 1 + rng.int(5000);
          s.halfClose = true;
          s.mayClose = true;
          s.kind = "lying Content-Length (longer than the body, then EOF)";
          if (s.tenant) s.tenant.amount = -1; // a truncated body must never count
        }
      }],
      ["duplicate headers", (s) => {
        s.raw = true;
        const which = rng.int(6);
        if (which === 0) s.headers.push(["Content-Length", "1"], ["Content-Length", "2"]);
        else if (which === 1) s.headers.push(["Transfer-Encoding", "chunked"]);
        else if (which === 2) s.headers.push(["Host", "evil.example"]);
        else if (which === 3) s.headers.push(["Cookie", "__session=a"], ["Cookie", "__session=b"]);
        else if (which === 4) s.headers.push(["Authorization", "Bearer dk_nope"]);
        else s.headers.push(["Stripe-Signature", "t=1,v1=00"], ["Idempotency-Key", "dup"]);
        s.mayClose = which <= 2;
        if (which === 1) {
          // Transfer-Encoding beside Content-Length (request smuggling): the body is not chunked.
          s.contentLength = s.body?.byteLength ?? 0;
          if (s.tenant) s.tenant.amount = -1;
        }
        if (which === 4 && mounted && (isTenant(path) || isFounderApi(path))) {
          s.expect = { statuses: [401], why: "401 for two Authorization headers" };
          delete s.tenant;
        }
      }],
      ["huge header", (s) => {
        s.raw = true;
        s.mayClose = true;
        const size = rng.pick([9_000, 20_000, 70_000, 400_000]);
        s.headers.push([rng.pick(["X-Junk", "Cookie", "Referer", "Accept"]), "a".repeat(size)]);
        s.kind = `huge header (${size} B)`;
      }],
      ["odd request line", (s) => {
        s.raw = true;
        s.mayClose = true;
        s.method = rng.pick(["get", "G\u00c9T", "GET\t", "X".repeat(5000)]);
        delete s.tenant;
      }],
    ];
    if (bodyCap(path) !== null && method === "POST") {
      out.push(["oversize body", (s) => {
        const cap = bodyCap(path)!;
        s.body = bytes(`{"amount":1,"pad":"${"x".repeat(cap + rng.int(cap))}"}`);
        s.chunked = rng.chance(0.3);
        s.raw = true;
        s.expect = { statuses: [413], why: `413 over the ${cap} B cap` };
        delete s.tenant;
      }]);
    }
    if (isTenant(path)) {
      out.push(["tenant key", (s) => {
        const key = rng.pick([
          null,
          "Bearer",
          "Bearer ",
          "Bearer dk_live_nope",
          `Basic ${btoa("a:b")}`,
          `Bearer ${w.apiKey}x`,
          `Bearer ${w.apiKey.slice(0, -1)}`,
          `bearer  ${w.apiKey.toUpperCase()}`,
          `Bearer ${"k".repeat(10_000)}`,
          `Bearer ${w.apiKey}\u00a0`,
        ]);
        s.headers = s.headers.filter(([n]) => n !== "Authorization");
        if (key !== null) s.headers.push(["Authorization", key]);
        s.raw = true;
        delete s.tenant;
        s.expect = { statuses: [401], why: "401 without a valid key" };
      }]);
      out.push(["odd X-User-Id", (s) => {
        const bad = rng.pick(BAD_USER_IDS);
        s.kind = `odd X-User-Id (${bad.label})`;
        s.headers = s.headers.filter(([n]) => n !== "X-User-Id");
        s.headers.push(["X-User-Id", bad.value]);
        s.raw = true;
        s.mayClose = true; // a control byte may be refused by the HTTP parser itself
        if (s.tenant) {
          s.tenant = { user: latin1.decode(bad.value), userHeader: bad.value, amount: "body" };
        }
        s.expect = { statuses: [400], why: "400 for an X-User-Id with a forbidden character" };
      }]);
      out.push(["duplicate X-User-Id", (s) => {
        const [a, b] = [rng.pick(USERS), rng.pick(USERS)];
        s.headers = s.headers.filter(([n]) => n !== "X-User-Id");
        s.headers.push(["X-User-Id", a], ["x-user-id", b]);
        s.raw = true;
        if (s.tenant) s.tenant = { user: `${a}, ${b}`, userHeader: `${a}, ${b}`, amount: "body" };
      }]);
      if (path === "/api/data") {
        out.push(["odd Idempotency-Key", (s) => {
          const bad = rng.pick(BAD_IDEMPOTENCY_KEYS);
          s.kind = `odd Idempotency-Key (${bad.label})`;
          s.headers.push(["Idempotency-Key", bad.value]);
          s.raw = true;
          s.mayClose = true;
          s.expect = { statuses: [400], why: "400 for an invalid Idempotency-Key" };
        }]);
        out.push(["Idempotency-Key reused with another amount", (s) => {
          const key = `reuse-${rng.int(2 ** 30)}`;
          s.headers.push(["Idempotency-Key", key]);
          s.body = bytes('{"amount":2}');
          s.then = (first) => {
            if (first.status !== 200) return null;
            const second = this.base("/api/data", "POST");
            const user = s.tenant!.user;
            second.headers = s.headers.map(([n, v]) => [n, v]);
            second.kind = "Idempotency-Key reused with another amount (second call)";
            second.body = bytes('{"amount":5}');
            second.tenant = { user, userHeader: user, amount: 5 };
            second.expect = {
              statuses: [409],
              why: "409 conflict for a reused Idempotency-Key with another body (README)",
            };
            return second;
          };
        }]);
      }
    }
    if (isWebhook(path) && method === "POST") {
      out.push(["bad Stripe-Signature", (s) => {
        const t = Math.floor(Date.now() / 1000);
        const sig = rng.pick([
          null,
          "",
          "garbage",
          "t=,v1=",
          `t=${t}`,
          `v1=${"0".repeat(64)}`,
          `t=${t - 3600},v1=${"0".repeat(64)}`,
          `t=${t + 3600},v1=${"0".repeat(64)}`,
          `t=1e400,v1=zz`,
          `t=${t},v1=${"0".repeat(64)},v0=abc,v1=${"f".repeat(64)}`,
          `t=${t},${"v1=00,".repeat(2000)}`,
        ]);
        s.headers = s.headers.filter(([n]) => n !== "Stripe-Signature");
        if (sig !== null) s.headers.push(["Stripe-Signature", sig]);
        s.raw = sig !== null && sig.length > 4000;
        s.expect = { statuses: [400], why: "400 for a missing or invalid Stripe-Signature" };
      }]);
      out.push(["signed event, odd content", (s) => this.signedEvent(s, path)]);
    }
    if (isFounderApi(path)) {
      out.push(["founder session", (s) => {
        const which = rng.int(5);
        s.headers = s.headers.filter(([n]) => n !== "Authorization");
        if (which === 0) { /* none */ }
        else if (which === 1) s.headers.push(["Authorization", "Bearer not.a.jwt"]);
        else if (which === 2) {
          const none = `${btoa('{"alg":"none"}')}.${btoa('{"sub":"x"}')}.`.replaceAll("=", "");
          s.headers.push(["Authorization", `Bearer ${none}`]);
        } else if (which === 3) s.headers.push(["Cookie", "__session=garbage"]);
        else s.headers.push(["Authorization", `Bearer ${w.founderToken.slice(0, -4)}AAAA`]);
        s.expect = { statuses: [401], why: "401 without a valid session" };
      }]);
      if (method !== "GET") {
        out.push(["cross-site cookie write", (s) => {
          s.headers = s.headers.filter(([n]) => n !== "Authorization");
          s.headers.push(["Cookie", `__session=${w.founderToken}`]);
          s.raw = true;
          const which = rng.int(3);
          if (which === 0) s.headers.push(["Origin", "https://evil.example"]);
          else if (which === 1) s.headers.push(["Origin", "null"]);
          else {
            // Finding 3: a forged Host that matches a forged Origin must not pass the CSRF check.
            s.headers.push(["Host", "evil.example"], ["Origin", "http://evil.example"]);
            s.kind = "cross-site cookie write (forged Host = Origin)";
          }
          s.expect = { statuses: [403], why: "403 for a cross-site cookie-authenticated write" };
        }]);
      }
    }
    if (!known) {
      out.length = 0;
      out.push(["unknown path", (s) => {
        s.expect = { statuses: [404], why: "404 for an unknown path" };
      }]);
    }
    return out;
  }

  /** Events signed with the real `/webhook/platform` secret whose content is odd (finding 2, 5). */
  private signedEvent(s: Spec, path: string) {
    const { rng } = this;
    const type = rng.pick([...HANDLED_EVENT_TYPES, "charge.refunded", "", "x".repeat(300)]);
    const object = rng.pick<unknown>(ODD_OBJECTS);
    const event = rng.chance(0.1) ? rng.pick<unknown>([null, [], "evt", { data: null }]) : {
      id: `evt_${rng.int(2 ** 30)}`,
      object: "event",
      type,
      data: rng.chance(0.1) ? null : { object },
      created: Math.floor(Date.now() / 1000),
    };
    Object.assign(s, signedEvent(path, event, rng.pick([0, 0, 0, 86_400, -86_400])));
  }
}

/** `data.object`s a signed event may carry that no handler expects. */
const ODD_OBJECTS: unknown[] = [
  null,
  "sub_123",
  42,
  [],
  {},
  { id: "sub_nope", object: "subscription", metadata: { userId: "user_nope" } },
  { id: "in_nope", subscription: "sub_nope", customer: "cus_nope" },
  {
    id: "in_nope",
    object: "invoice",
    customer: "cus_nope",
    parent: { subscription_details: { subscription: "sub_nope", metadata: { userId: "u_1" } } },
  },
  { id: "cs_nope", mode: "subscription", subscription: "sub_nope", client_reference_id: "x" },
  { id: 7, metadata: null, customer: { nested: true } },
];

function shapeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value !== "object") return `a ${typeof value}`;
  return Object.keys(value).length ? "an unknown object" : "{}";
}

/**
 * A POST of `event`, signed with the `/webhook/platform` secret at now + `skew` seconds. At
 * `/webhook/stripe` no platform's secret verifies it (400); at `/webhook/platform` a skewed
 * timestamp is 400, and anything else verified is acknowledged (2xx) or refused (4xx), never 5xx.
 */
function signedEvent(path: string, event: unknown, skew = 0): Spec {
  const body = JSON.stringify(event);
  const e = event as { type?: unknown; data?: { object?: unknown } } | null;
  const what = typeof e?.type === "string"
    ? `${e.type.length > 40 ? "a long type" : e.type || "no type"}, data.object ${
      shapeOf(e.data?.object)
    }`
    : `event ${shapeOf(event)}`;
  const spec: Spec = {
    kind: skew
      ? `signed event (timestamp ${skew > 0 ? "+" : ""}${skew} s) @ ${path}`
      : `signed event (${what}) @ ${path}`,
    method: "POST",
    target: path,
    headers: [["Content-Type", "application/json"]],
    body: bytes(body),
    signWith: { t: Math.floor(Date.now() / 1000) + skew, body },
  };
  if (path.startsWith("/webhook/stripe?platform=")) {
    spec.expect = { statuses: [400], why: "400: the named platform's secret does not verify it" };
  } else if (path === "/webhook/stripe") {
    spec.legacyWebhook = true;
    spec.expect = {
      statuses: [400, 503],
      why: "400: no platform's secret verifies it (or 503 while the bounded fallback is busy)",
    };
  } else if (skew !== 0) {
    spec.expect = { statuses: [400], why: "400 for a signature timestamp beyond 300 s" };
  }
  return spec;
}

/**
 * The fixed probes: one request per finding of issue 11 and per forbidden character, sent in every
 * run whatever the seed, after the generated requests (a probe that kills the process must not
 * hide what the generated ones find).
 */
function corpus(gen: Generator, w: World): Spec[] {
  const out: Spec[] = [];
  const tenant = (target: string, body: string, kind: string, statuses: number[], why: string) =>
    out.push({
      kind,
      method: "POST",
      target,
      headers: [["Authorization", `Bearer ${w.apiKey}`], ["X-User-Id", "probe"], [
        "Content-Type",
        "application/json",
      ]],
      body: bytes(body),
      expect: { statuses, why },
    });
  // Finding 2: malformed input answered 500/502.
  for (const target of ["/static/%ff", "/static/%c0%af", "/static/favicon.svg%ff"]) {
    out.push({ kind: `probe: GET ${target}`, method: "GET", target, headers: [], raw: true });
  }
  for (const route of ["/dashboard/api/usage", "/dashboard/api/usage.csv"]) {
    for (const period of ["9999-12", "0001-01", "2026-00"]) {
      out.push({
        kind: `probe: GET ${route}?period=${period}`,
        method: "GET",
        target: `${route}?period=${period}`,
        headers: [["Authorization", `Bearer ${w.founderToken}`]],
      });
    }
  }
  for (const type of HANDLED_EVENT_TYPES) {
    // `?platform=` names a platform whose secret does not verify these: 400 before any parse.
    const named = `/webhook/stripe?platform=${w.platformId}`;
    for (const path of ["/webhook/platform", "/webhook/stripe", named]) {
      for (const object of [null, ODD_OBJECTS[6], ODD_OBJECTS[7]]) {
        out.push(signedEvent(path, {
          id: `evt_probe_${type}_${shapeOf(object)}`,
          object: "event",
          type,
          data: { object },
        }));
      }
    }
  }
  // Finding 5: future signature timestamps, odd X-User-Id, reused Idempotency-Keys, return URLs.
  for (const skew of [400, 3600, 86_400 * 365]) {
    out.push(signedEvent("/webhook/platform", {
      id: `evt_future_${skew}`,
      object: "event",
      type: "charge.refunded",
      data: { object: {} },
    }, skew));
  }
  for (const bad of BAD_USER_IDS) {
    out.push({
      kind: `probe: X-User-Id ${bad.label}`,
      method: "POST",
      target: "/api/data",
      headers: [["Authorization", `Bearer ${w.apiKey}`], ["X-User-Id", bad.value]],
      body: bytes('{"amount":1}'),
      raw: true,
      mayClose: true,
      tenant: { user: latin1.decode(bad.value), userHeader: bad.value, amount: 1 },
      expect: { statuses: [400], why: "400 for an X-User-Id with a forbidden character" },
    });
  }
  const reuse = gen.validData("probe-idempotency");
  reuse.kind = "Idempotency-Key reused with another amount";
  reuse.headers.push(["Idempotency-Key", "probe-reuse"]);
  reuse.body = bytes('{"amount":2}');
  reuse.tenant!.amount = 2;
  reuse.then = () => {
    const second = gen.validData("probe-idempotency");
    second.kind = "Idempotency-Key reused with another amount (second call)";
    second.headers.push(["Idempotency-Key", "probe-reuse"]);
    second.body = bytes('{"amount":5}');
    second.tenant!.amount = 5;
    second.expect = {
      statuses: [409],
      why: "409 conflict for a reused Idempotency-Key with another body (README)",
    };
    return second;
  };
  out.push(reuse);
  for (
    const url of [
      "https:evil.example",
      "https:/evil.example",
      "https://a@evil.example",
      "https://evil.example\\@good.example",
      "https://good.example/\r\nSet-Cookie: x=1",
      " https://good.example",
      "https://good.example/a b",
      "ftp://good.example",
      "javascript:alert(1)",
    ]
  ) {
    const returnUrl = JSON.stringify(url);
    tenant(
      "/api/customer-portal",
      `{"returnUrl":${returnUrl}}`,
      `probe: return URL ${returnUrl}`,
      [400],
      "400 for a return URL that is not a plain absolute http(s) URL",
    );
    tenant(
      "/api/create-checkout",
      `{"tier":"free","successUrl":${returnUrl},"cancelUrl":"https://good.example/"}`,
      `probe: return URL ${returnUrl}`,
      [400],
      "400 for a return URL that is not a plain absolute http(s) URL",
    );
  }
  // Finding 3: CSRF trusting the Host header.
  for (const target of ["/dashboard/api/tiers/preview", "/dashboard/api/platform"]) {
    out.push({
      kind: "cross-site cookie write (forged Host = Origin)",
      method: "POST",
      target,
      headers: [
        ["Host", "evil.example"],
        ["Origin", "http://evil.example"],
        ["Cookie", `__session=${w.founderToken}`],
        ["Content-Type", "application/json"],
      ],
      body: bytes("{}"),
      raw: true,
      expect: { statuses: [403], why: "403 for a cross-site cookie-authenticated write" },
    });
  }
  // A body cut short by EOF.
  for (const target of ["/api/data", "/webhook/stripe", "/dashboard/api/platform"]) {
    const spec = gen.base(target, "POST");
    spec.kind = "lying Content-Length (longer than the body, then EOF)";
    spec.body = bytes('{"amount":1}');
    spec.contentLength = 1000;
    spec.halfClose = true;
    spec.mayClose = true;
    spec.raw = true;
    if (spec.tenant) spec.tenant.amount = -1;
    out.push(spec);
  }
  // Last: paths that have killed the process (a static file name used as a directory, a name
  // longer than the file system allows).
  for (const target of ["/static/favicon.svg/x", `/static/${"a".repeat(300)}.css`]) {
    out.push({
      kind: `probe: GET ${target.slice(0, 40)}`,
      method: "GET",
      target,
      headers: [],
      raw: true,
    });
  }
  return out.map((spec) => ({
    ...spec,
    kind: spec.kind.startsWith("probe") ? spec.kind : `probe: ${spec.kind}`,
  }));
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    bytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes(message)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------- sending

function chunk(body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < body.byteLength; at += 8192) {
    const piece = body.subarray(at, at + 8192);
    parts.push(bytes(`${piece.byteLength.toString(16)}\r\n`), piece, bytes("\r\n"));
  }
  parts.push(bytes("0\r\n\r\n"));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.byteLength) - p.byteLength);
  return out;
}

const BYTESTRING = /^[\t\x20-\x7e\x80-\xff]*$/;

function fetchable(s: Spec): boolean {
  if (s.raw || s.chunked || s.contentLength !== undefined) return false;
  if ((s.method === "GET" || s.method === "HEAD") && s.body?.byteLength) return false;
  if (!["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].includes(s.method)) return false;
  if (/[^\x21-\x7e]|%(?![0-9a-fA-F]{2})|\/\.\.?(\/|$)|\/\//.test(s.target)) return false;
  const names = new Set<string>();
  for (const [n, v] of s.headers) {
    if (typeof v !== "string" || !BYTESTRING.test(v) || names.has(n.toLowerCase())) return false;
    if (n.toLowerCase() === "host") return false;
    names.add(n.toLowerCase());
  }
  return true;
}

async function send(url: string, s: Spec, secret: string): Promise<Answer> {
  if (s.signWith) {
    const v1 = await hmacHex(secret, `${s.signWith.t}.${s.signWith.body}`);
    s.headers = s.headers.filter(([n]) => n !== "Stripe-Signature");
    s.headers.push(["Stripe-Signature", `t=${s.signWith.t},v1=${v1}`]);
  }
  if (fetchable(s)) {
    try {
      const res = await fetch(url + s.target, {
        method: s.method,
        headers: s.headers as [string, string][],
        body: s.body as Uint8Array<ArrayBuffer> | undefined,
        redirect: "manual",
        signal: AbortSignal.timeout(RAW_TIMEOUT_MS * 2),
      });
      const text = await res.text();
      return { outcome: "answered", status: res.status, headers: res.headers, text, via: "fetch" };
    } catch (error) {
      return {
        outcome: "fetch-error",
        status: 0,
        headers: new Headers(),
        text: String(error),
        via: "fetch",
      };
    }
  }
  const headers = [...s.headers];
  let body = s.body;
  let contentLength = s.contentLength;
  if (s.chunked && body) {
    headers.push(["Transfer-Encoding", "chunked"]);
    body = chunk(body);
    contentLength = "none";
  }
  const a = await rawRequest(url, {
    method: s.method,
    target: s.target,
    headers,
    body,
    contentLength,
    halfClose: s.halfClose,
    timeoutMs: RAW_TIMEOUT_MS,
  });
  return { outcome: a.outcome, status: a.status, headers: a.headers, text: a.text, via: "raw" };
}

// ---------------------------------------------------------------- judging

interface Problem {
  group: string;
  /** What the server answered: a status or how the exchange ended. */
  got: string;
  /** When it was seen (`performance.now()`). */
  at?: number;
  detail: string;
}

/** The body the server saw, for counting: truncated by a shorter lying Content-Length. */
function seenBody(s: Spec): Uint8Array {
  const body = s.body ?? new Uint8Array();
  return typeof s.contentLength === "number" && s.contentLength < body.byteLength
    ? body.subarray(0, s.contentLength)
    : body;
}

/** The amount a 200 counted, as the app would read the body; null when it should not be 200. */
function countedAmount(s: Spec): number | null {
  if (!s.tenant) return null;
  if (typeof s.tenant.amount === "number") return s.tenant.amount > 0 ? s.tenant.amount : null;
  const text = utf8.decode(seenBody(s));
  if (text.trim() === "") return 1;
  try {
    const parsed = JSON.parse(text);
    const amount = parsed?.amount ?? 1;
    return Number.isInteger(amount) && amount >= 1 && amount <= 1_000_000 ? amount : null;
  } catch {
    return null;
  }
}

const API_PATHS = (w: World) =>
  new Set(
    w.routes.map((r) => r.path).filter((p) => isTenant(p) || isWebhook(p) || isFounderApi(p)),
  );

function judge(s: Spec, a: Answer, apiPaths: Set<string>): Problem[] {
  const problems: Problem[] = [];
  const add = (what: string) =>
    problems.push({
      group: `${s.kind}: ${what}`,
      got: a.outcome === "answered" ? String(a.status) : a.outcome,
      at: performance.now(),
      detail: `${describeSpec(s)}\n    → ${a.via} ${a.outcome} ${a.status || ""} ` +
        `${a.headers.get("content-type") ?? ""} ${JSON.stringify(a.text.slice(0, 300))}`,
    });
  if (a.outcome === "timeout") return add(`no answer within ${RAW_TIMEOUT_MS} ms`), problems;
  if (a.outcome === "refused") return add("connection refused (is the server down?)"), problems;
  if (a.outcome === "fetch-error") return add(`fetch failed (${a.text.slice(0, 80)})`), problems;
  if (a.outcome === "closed") {
    if (!s.mayClose) add("connection closed without an answer");
    return problems;
  }
  const ct = a.headers.get("content-type") ?? "";
  let json: unknown;
  if (/json/i.test(ct) && a.text) {
    try {
      json = JSON.parse(a.text);
    } catch {
      add("JSON content type with a body that is not JSON");
    }
  }
  if (a.status >= 500) {
    const code = (json as { error?: { code?: string } })?.error?.code;
    const allowed = (s.flood || s.legacyWebhook) && a.status === 503 && code === "unavailable" &&
      a.headers.get("retry-after") !== null;
    if (!allowed) {
      const why = a.status === 503 && !a.headers.get("retry-after") ? " without Retry-After" : "";
      add(`${a.status} ${code ?? ""}${why}`.trim());
    }
  }
  if (a.status >= 400 && json !== undefined) {
    const e = json as { success?: unknown; error?: { code?: unknown; message?: unknown } };
    const code = e?.error?.code;
    if (
      e?.success !== false || typeof code !== "string" || typeof e.error?.message !== "string" ||
      !(code in ERROR_STATUS)
    ) add("error body is not the envelope {success:false,error:{code,message}}");
    else if (ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== a.status) {
      add(`status ${a.status} does not match code ${code}`);
    }
  }
  const path = s.target.split("?")[0];
  if (a.status >= 400 && apiPaths.has(path) && a.text && json === undefined && !/json/i.test(ct)) {
    add(`non-JSON ${a.status} error on an API route (${ct || "no content type"})`);
  }
  if (s.expect && !s.expect.statuses.includes(a.status)) {
    add(`expected ${s.expect.why}`);
  }
  if (a.status === 200 && s.notContains?.some((m) => a.text.includes(m))) {
    add("served a file from outside static/");
  }
  if (a.status === 200 && s.tenant && countedAmount(s) === null) {
    add("200 (counted) for a request that must not count");
  }
  return problems;
}

// ---------------------------------------------------------------- the test

Deno.test({
  name: "hostile: ≥ 10,000 seeded bad requests over real HTTP: no 5xx, one envelope, the process " +
    "alive, counts exact",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    console.log(`hostile seed ${SEED} (replay: HOSTILE_SEED=${SEED} deno test -A tests/hostile/)`);
    const started = performance.now();
    await using dir = await tempDir();
    const kvPath = `${dir.path}/hostile.kv`;
    const publicUrl = "http://localhost:8000";
    const founderEmail = "hostile@example.com";

    // dream-api's own Stripe: the local Stripe-compatible server, so Stripe calls have an answer.
    const local = await startLocalStripe({
      fetch: () => Promise.reject(new TypeError("deliveries are off in this test")),
    });
    await using _closeLocal = { [Symbol.asyncDispose]: () => local.close() };
    const own = createStripeFactory({ apiUrl: local.url })("sk_test_dreamapi_hostile_platform");
    const { price, endpoint } = await setUpOwnStripe(own, publicUrl);

    const kv = await Deno.openKv(kvPath);
    const { platformId, apiKey } = await seedPlatform(kv, UNLIMITED);
    await payFounder(kv, devUserId(founderEmail));
    kv.close();

    await using server = await startServer({
      KV_PATH: kvPath,
      PUBLIC_URL: publicUrl,
      STRIPE_API_URL: local.url,
      STRIPE_SECRET_KEY: "sk_test_dreamapi_hostile_platform",
      STRIPE_PRICE_ID: price.id,
      STRIPE_WEBHOOK_SECRET: endpoint.secret!,
    }, { v8Flags: await startV8Flags() });
    let exited: number | null = null;
    // The last requests started, and how each ended: those left without an answer when the
    // process died are the repro of the crash.
    const recent: { spec: Spec; outcome?: string }[] = [];
    let diedWith: string[] | null = null;
    let diedAt = Infinity;
    const snapshot = () =>
      diedWith ??= (diedAt = performance.now() - 1000, recent).filter((r) =>
        r.outcome !== "answered" && r.outcome !== "refused"
      )
        .map((r) => `[${r.outcome ?? "pending"}] ${describeSpec(r.spec)}`);
    server.child.status.then((s) => {
      exited = s.code;
      snapshot();
    });

    // A founder's session through the development sign-in, as a browser gets it.
    const signIn = await fetch(`${server.url}/sign-in/dev`, {
      method: "POST",
      headers: { origin: publicUrl, "content-type": "application/x-www-form-urlencoded" },
      body: `email=${encodeURIComponent(founderEmail)}`,
      redirect: "manual",
    });
    await signIn.body?.cancel();
    const founderToken = /__session=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1];
    assert.ok(founderToken, `dev sign-in gave no session: ${signIn.status}`);
    // The founder's own platform, so the dashboard API reaches its handlers.
    const created = await fetch(`${server.url}/dashboard/api/platform`, {
      method: "POST",
      headers: { authorization: `Bearer ${founderToken}`, "content-type": "application/json" },
      body: '{"name":"Hostile"}',
    });
    assert.ok(created.status < 300, `founder platform: ${created.status} ${await created.text()}`);

    const world: World = {
      url: server.url,
      apiKey,
      founderToken,
      publicUrl,
      webhookSecret: endpoint.secret!,
      platformId,
      routes: await appRoutes(),
      staticFiles: await listStatic(),
    };
    const apiPaths = API_PATHS(world);
    const rng = new Rng(mulberry32(SEED));
    const gen = new Generator(rng, world);
    let specs: Spec[] = Array.from({ length: COUNT }, () => {
      const r = rng.next();
      return r < 0.15 ? gen.validData() : r < 0.2 ? gen.validUsage() : gen.hostile();
    });
    const excluded = EXCLUDE
      ? specs.filter((s) => new RegExp(EXCLUDE).test(describeSpec(s))).length
      : 0;
    if (EXCLUDE) specs = specs.filter((s) => !new RegExp(EXCLUDE).test(describeSpec(s)));

    const statuses: (number | string)[] = [];
    const problems: Problem[] = [];
    const counted = new Map<string, { header: HeaderValue; sum: number }>();
    const record = (s: Spec, a: Answer) => {
      if (exited !== null && a.outcome !== "answered") {
        statuses.push("after the exit"); // judged once, by the liveness assertion
        return;
      }
      statuses.push(a.outcome === "answered" ? a.status : a.outcome);
      problems.push(...judge(s, a, apiPaths));
      if (a.status === 200 && s.tenant && a.headers.get("idempotent-replayed") !== "true") {
        const amount = countedAmount(s);
        if (amount !== null) {
          const entry = counted.get(s.tenant.user) ?? { header: s.tenant.userHeader, sum: 0 };
          entry.sum += amount;
          counted.set(s.tenant.user, entry);
        }
      }
    };
    const run = async (list: Spec[], concurrency: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < list.length && exited === null) {
          const s = list[next++];
          const entry: { spec: Spec; outcome?: string } = { spec: s };
          recent.push(entry);
          if (recent.length > 2 * concurrency) recent.shift();
          const a = await send(world.url, s, world.webhookSecret);
          entry.outcome = a.outcome;
          if (a.outcome === "refused") snapshot(); // the first sign of a death: freeze the list
          record(s, a);
          const follow = s.then?.(a);
          if (follow) record(follow, await send(world.url, follow, world.webhookSecret));
        }
      }));
    };

    // Phase 1: the generated requests, then the fixed probes.
    await run(specs, CONCURRENCY);
    let probes = corpus(gen, world);
    if (EXCLUDE) probes = probes.filter((s) => !new RegExp(EXCLUDE).test(describeSpec(s)));
    await run(probes, 8);
    const phase1Ms = performance.now() - started;

    // Exact counts: every end-user's usage equals the amounts of its 200s.
    const checkCounts = async (when: string) => {
      for (const [user, { header, sum }] of counted) {
        const a = await rawRequest(world.url, {
          method: "GET",
          target: "/api/usage",
          headers: [["Authorization", `Bearer ${apiKey}`], ["X-User-Id", header]],
        });
        const count = a.status === 200 ? JSON.parse(a.text).usage.count : null;
        if (count !== sum) {
          problems.push({
            group: `exact counts (${when}): usage differs from the sum of 200s`,
            got: String(count),
            detail: `user ${JSON.stringify(user)}: ${sum} counted by 200s, GET /api/usage says ` +
              `${a.status} ${a.text.slice(0, 200)}`,
          });
        }
      }
    };
    if (exited === null) await checkCounts("after the generated requests");

    // Phase 2: a deliberate concurrent flood (large webhook bodies, oversize bodies, tenant calls):
    // 503 `unavailable` with Retry-After is allowed here, and counted.
    const flood: Spec[] = [];
    const big = (n: number) => bytes(`[${'{"a":1},'.repeat(Math.floor(n / 8) - 1)}{"a":1}]`);
    const stripeBig = big(500 * 1024);
    for (let i = 0; i < 240; i++) {
      const r = i % 6;
      const s: Spec = r === 0 || r === 1
        ? {
          kind: "flood: 500 KiB unsigned /webhook/stripe",
          method: "POST",
          target: "/webhook/stripe",
          headers: [["Stripe-Signature", "t=1,v1=00"], ["Content-Type", "application/json"]],
          body: stripeBig,
          expect: { statuses: [400, 503], why: "400 (or 503 busy) for an unsigned body" },
        }
        : r === 2
        ? {
          kind: "flood: oversize chunked /webhook/stripe",
          method: "POST",
          target: "/webhook/stripe",
          headers: [["Stripe-Signature", "t=1,v1=00"]],
          body: big(600 * 1024),
          chunked: true,
          expect: { statuses: [413, 503], why: "413 (or 503 busy) over the cap" },
        }
        : r === 3
        ? gen.hostile()
        : gen.validData();
      if (s.expect?.statuses.includes(200)) s.expect = { ...s.expect, statuses: [200, 503] };
      s.flood = true;
      flood.push(s);
    }
    const floodStatuses: (number | string)[] = [];
    const before = statuses.length;
    if (exited === null) await run(flood, 48);
    floodStatuses.push(...statuses.slice(before));
    await new Promise((r) => setTimeout(r, 200));

    // The process is alive and serving, and the counts are still exact.
    const peak = await peakRssKiB(server.pid);
    const health = exited === null ? await fetch(`${world.url}/health`).catch(() => null) : null;
    const healthText = await health?.text();
    const alive = exited === null && health?.status === 200;
    let finalData: { status: number; text: string } | null = null;
    if (alive) {
      const final = gen.validData("u-final");
      const a = await send(world.url, final, world.webhookSecret);
      record(final, a);
      finalData = { status: a.status, text: a.text };
      await checkCounts("after the flood");
    }

    // The summary.
    const groups = new Map<string, Problem[]>();
    // Once the process has died, requests without an answer are its consequence, not findings.
    const lost = (p: Problem) =>
      p.got !== undefined && !/^\d+$/.test(p.got) && (p.at ?? 0) >= diedAt;
    for (const p of problems.filter((p) => !lost(p))) {
      groups.set(p.group, [...groups.get(p.group) ?? [], p]);
    }
    const flood503 = floodStatuses.filter((s) => s === 503).length;
    console.log(
      [
        `hostile summary — seed ${SEED}`,
        `  requests ${statuses.length} (${specs.length} generated, ${probes.length} fixed probes, ` +
        `follow-ups, ${flood.length} ` +
        `in the flood) in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
        `(generated phase ${(phase1Ms / 1000).toFixed(1)} s)`,
        `  statuses ${statusHistogram(statuses)}`,
        `  flood statuses ${statusHistogram(floodStatuses)} (503 unavailable: ${flood503})`,
        `  end-users counted ${counted.size}, platform ${platformId}`,
        `  server ${exited === null ? "alive" : `exited ${exited}`}, /health ` +
        `${health?.status ?? "-"}, peak RSS ${peak ? (peak / 1024).toFixed(1) : "?"} MiB`,
        `  problems ${problems.length} in ${groups.size} groups`,
        ...(EXCLUDE ? [`  TRIAGE: ${excluded} requests matching /${EXCLUDE}/ were skipped`] : []),
      ].join("\n"),
    );
    const report = [...groups].sort(([, a], [, b]) => b.length - a.length).map(([group, list]) =>
      `\n× ${list.length}  ${group} (got ${statusHistogram(list.map((p) => p.got))})\n  e.g. ` +
      list.slice(0, 2).map((p) => p.detail).join("\n  e.g. ")
    ).join("\n");
    const serverErrors = server.output().split("\n").filter((l) =>
      /"level":"error"|Fatal|panicked/.test(l)
    );
    const errorsTail = serverErrors.length
      ? `\n\nserver error log (${serverErrors.length} lines, first 5 distinct):\n` +
        [...new Set(serverErrors.map((l) => squeeze(l).slice(0, 400)))].slice(0, 5).join("\n")
      : "";

    assert.ok(
      alive,
      `the server is not alive and serving at the end (exit ${exited}, /health ${health?.status} ` +
        `${healthText?.slice(0, 200)}); seed ${SEED}\nits last words: ${
          squeeze(server.output()).split("\n").filter((l) =>
            /unhandled error|Uncaught|Fatal|panicked/.test(l)
          ).slice(-2).join("\n  ")
        }\nsent last, without an answer:\n  ${
          (diedWith ?? []).join("\n  ")
        }\nserver output (tail):\n${
          squeeze(server.output()).slice(-2000)
        }\n\nother problems:${report}` +
        errorsTail,
    );
    assert.equal(finalData?.status, 200, `a valid POST /api/data at the end: ${finalData?.text}`);
    assert.equal(
      problems.length,
      0,
      `${problems.length} problems in ${groups.size} groups (seed ${SEED}; replay with ` +
        `HOSTILE_SEED=${SEED}):${report}${errorsTail}`,
    );
    assert.equal(await server.stop(), 0, "the server stops cleanly on SIGTERM");
  },
});

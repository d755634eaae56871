/**
 * X-User-Id and Idempotency-Key as they arrive on the wire: raw bytes over a TCP socket to the real
 * app under `Deno.serve`, and the typed client through `fetch`. Valid ids keep mapping to the same
 * usage key as before the stricter rule (the header's bytes, one character each).
 */
import assert from "node:assert/strict";
import { DreamApi } from "../../client/dream_api.ts";
import { keys } from "../../lib/kv/keys.ts";
import { countOf, type StoredCount } from "../../lib/kv/usage.ts";
import { json, seedPlatform, tenantHeaders, testApp } from "../_helpers/app.ts";

const enc = new TextEncoder();

/** Sends one HTTP/1.1 request whose `name` header is `value` (raw bytes) and reads the answer. */
async function rawRequest(
  port: number,
  head: string,
  name: string,
  value: Uint8Array,
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new Uint8Array([
      ...enc.encode(`${head}\r\nhost: localhost\r\nconnection: close\r\n${name}: `),
      ...value,
      ...enc.encode("\r\ncontent-length: 0\r\n\r\n"),
    ]);
    await conn.write(bytes);
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function served() {
  const t = await testApp();
  const { platformId, apiKey } = await seedPlatform(t.kv);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  return {
    t,
    platformId,
    apiKey,
    port: server.addr.port,
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

const REFUSED: [string, string][] = [
  ["U+202E right-to-left override", "user\u202e"],
  ["U+200B zero width space", "admin\u200b"],
  ["U+FEFF at the start", "\ufeffuser"],
  ["U+2028 line separator", "a\u2028b"],
  ["U+0085 (C1) as UTF-8", "a\u0085"],
];

Deno.test("POST /api/data and GET /api/usage answer 400 naming X-User-Id for UTF-8 control, format and separator characters on the wire", async () => {
  await using s = await served();
  const auth = `authorization: Bearer ${s.apiKey}`;
  const cases: [string, Uint8Array][] = [
    ...REFUSED.map(([name, text]): [string, Uint8Array] => [name, enc.encode(text)]),
    ["a C1 byte (0x85) alone", new Uint8Array([0x61, 0x85])],
    ["a soft hyphen byte (0xAD)", new Uint8Array([0x61, 0xad])],
    ["a tab inside", new Uint8Array([0x61, 0x09, 0x62])],
    ["a lone surrogate as bytes", new Uint8Array([0x61, 0xed, 0xa0, 0x80])],
  ];
  for (const [name, bytes] of cases) {
    for (
      const head of [`POST /api/data HTTP/1.1\r\n${auth}`, `GET /api/usage HTTP/1.1\r\n${auth}`]
    ) {
      const res = await rawRequest(s.port, head, "x-user-id", bytes);
      assert.equal(res.status, 400, `${name}: ${res.body}`);
      const body = JSON.parse(res.body);
      assert.equal(body.error.code, "invalid_request", `${name}: ${res.body}`);
      assert.match(body.error.message, /X-User-Id/, `${name}: ${res.body}`);
    }
  }
  // Nothing was counted for anyone.
  const counted = await Array.fromAsync(s.t.kv.list({ prefix: keys.usageAll(s.platformId) }));
  assert.deepEqual(counted, []);
});

Deno.test("POST /api/data answers 400 naming Idempotency-Key for a format character on the wire, and counts nothing", async () => {
  await using s = await served();
  const head = `POST /api/data HTTP/1.1\r\nauthorization: Bearer ${s.apiKey}\r\nx-user-id: u`;
  for (const [name, text] of REFUSED) {
    const res = await rawRequest(s.port, head, "idempotency-key", enc.encode(`order-1${text}`));
    assert.equal(res.status, 400, `${name}: ${res.body}`);
    const body = JSON.parse(res.body);
    assert.equal(body.error.code, "invalid_request", res.body);
    assert.match(body.error.message, /Idempotency-Key/, res.body);
  }
  const counted = await Array.fromAsync(s.t.kv.list({ prefix: keys.usageAll(s.platformId) }));
  assert.deepEqual(counted, []);
});

Deno.test("valid non-ASCII X-User-Ids are accepted and counted under the key they had before (the header's bytes)", async () => {
  await using s = await served();
  const head = `POST /api/data HTTP/1.1\r\nauthorization: Bearer ${s.apiKey}`;
  const period = "2026-11";
  const cases: [string, Uint8Array][] = [
    ["José as UTF-8", enc.encode("José")],
    ["José as Latin-1", new Uint8Array([0x4a, 0x6f, 0x73, 0xe9])],
    ["日本語 as UTF-8 (bytes 0x80–0x9F inside)", enc.encode("日本語")],
    ["😀 as UTF-8", enc.encode("😀")],
  ];
  for (const [name, bytes] of cases) {
    const res = await rawRequest(s.port, head, "x-user-id", bytes);
    assert.equal(res.status, 200, `${name}: ${res.body}`);
    assert.equal(JSON.parse(res.body).usage.count, 1, name);
    const asReceived = String.fromCharCode(...bytes);
    const stored = await s.t.kv.get<StoredCount>(keys.usage(s.platformId, period, asReceived));
    assert.equal(countOf(stored.value), 1, `${name}: counted under its bytes`);
  }
});

Deno.test("the typed client's ids reach the meter as before: 'José' (sent by fetch as Latin-1) counts under 'José'", async () => {
  await using s = await served();
  const dream = new DreamApi({ apiKey: s.apiKey, baseUrl: s.url, maxRetries: 0 });
  const first = await dream.track("José", { amount: 2 });
  assert.equal(first.usage.count, 2);
  assert.equal((await dream.usage("José")).usage.count, 2);
  const stored = await s.t.kv.get<StoredCount>(keys.usage(s.platformId, "2026-11", "José"));
  assert.equal(countOf(stored.value), 2);
  // The same id over app.request (Headers hold bytes too) is the same end-user.
  const res = await json(
    await s.t.app.request("/api/usage", { headers: tenantHeaders(s.apiKey, "José") }),
  );
  assert.equal(res.body.usage.count, 2, res.text);
});

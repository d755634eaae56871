import assert from "node:assert/strict";
import { UNAUTHORIZED_MESSAGE } from "../../lib/errors.ts";
import { isRequestId } from "../../lib/http/request_id.ts";
import { rotateApiKey } from "../../lib/kv/platforms.ts";
import { json, seedPlatform, tenantHeaders, testApp } from "../_helpers/app.ts";

async function expectError(res: Response, status: number, code: string, message?: RegExp) {
  const { body, text } = await json(res);
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  assert.equal(body.success, false, text);
  assert.equal(body.error.code, code, text);
  if (message) assert.match(body.error.message, message, text);
  assert.doesNotMatch(text, /\bat .*\.ts:\d+/, "no stack trace in a body");
  const requestId = res.headers.get("x-request-id");
  assert.ok(requestId && isRequestId(requestId), `X-Request-Id: ${requestId}`);
  assert.equal(body.error.requestId, requestId, `the envelope carries the request id: ${text}`);
  return body;
}

Deno.test("every tenant-API route answers the same 401 for every authentication failure", async () => {
  await using t = await testApp();
  const { platformId, apiKey } = await seedPlatform(t.kv);
  const { previousKeyHash: _ } = await rotateApiKey(t.kv, platformId);
  const cases: Record<string, Record<string, string>> = {
    "no header": { "x-user-id": "u" },
    "not bearer": { authorization: `Basic ${apiKey}`, "x-user-id": "u" },
    "malformed key": { authorization: "Bearer dk_live_short", "x-user-id": "u" },
    "publishable-looking key": {
      authorization: `Bearer pk_live_${"a".repeat(43)}`,
      "x-user-id": "u",
    },
    "unknown key": { authorization: `Bearer dk_live_${"A".repeat(43)}`, "x-user-id": "u" },
    "revoked key": { authorization: `Bearer ${apiKey}`, "x-user-id": "u" },
  };
  // Every method+path the app serves under /api (routes added later included).
  const served = t.app.routes
    .filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
    .map((r) => [r.method, r.path]);
  for (const path of ["/api/data", "/api/usage", "/api/create-checkout", "/api/customer-portal"]) {
    assert.ok(served.some(([, p]) => p === path), `${path} is served`);
  }
  for (const [name, headers] of Object.entries(cases)) {
    for (const [method, path] of served) {
      const body = await expectError(
        await t.app.request(path, { method, headers }),
        401,
        "unauthorized",
      );
      assert.equal(body.error.message, UNAUTHORIZED_MESSAGE, `${name} ${method} ${path}`);
    }
  }
});

Deno.test("bad input gets 400 invalid_request naming what is wrong, and nothing is counted", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const auth = { authorization: `Bearer ${apiKey}` };
  const cases: [string, Record<string, string>, string | undefined, RegExp][] = [
    ["missing X-User-Id", auth, undefined, /X-User-Id/],
    ["empty X-User-Id", { ...auth, "x-user-id": "" }, undefined, /X-User-Id/],
    ["long X-User-Id", { ...auth, "x-user-id": "x".repeat(257) }, undefined, /256/],
    ["control char", { ...auth, "x-user-id": "a\tb" }, undefined, /control/],
    ["unknown plan", { ...auth, "x-user-id": "u", "x-user-plan": "gold" }, undefined, /free, pro/],
    ["malformed JSON", { ...auth, "x-user-id": "u" }, "{amount", /JSON/],
    ["amount zero", { ...auth, "x-user-id": "u" }, '{"amount":0}', /amount/],
    ["amount float", { ...auth, "x-user-id": "u" }, '{"amount":1.5}', /amount/],
    ["amount too big", { ...auth, "x-user-id": "u" }, '{"amount":1000001}', /amount/],
    ["amount string", { ...auth, "x-user-id": "u" }, '{"amount":"5"}', /amount/],
    ["body not an object", { ...auth, "x-user-id": "u" }, "[1]", /object/i],
    [
      "empty idempotency key",
      { ...auth, "x-user-id": "u", "idempotency-key": "" },
      undefined,
      /Idempotency-Key/,
    ],
    [
      "long idempotency key",
      { ...auth, "x-user-id": "u", "idempotency-key": "k".repeat(256) },
      undefined,
      /255/,
    ],
  ];
  for (const [name, headers, body, message] of cases) {
    const res = await t.app.request("/api/data", { method: "POST", headers, body });
    await expectError(res, 400, "invalid_request", message).catch((e) => {
      throw new Error(`${name}: ${e.message}`);
    });
  }
  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
  );
  assert.equal(usage.body.usage.count, 0, usage.text);
  // The server keeps serving.
  assert.equal(
    (await t.app.request("/api/data", { method: "POST", headers: tenantHeaders(apiKey, "u") }))
      .status,
    200,
  );
});

Deno.test("a body over 16 KiB answers 413, with or without Content-Length", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const big = JSON.stringify({ amount: 1, pad: "x".repeat(17 * 1024) });
  await expectError(
    await t.app.request("/api/data", {
      method: "POST",
      headers: tenantHeaders(apiKey, "u", { "content-length": String(big.length) }),
      body: big,
    }),
    413,
    "payload_too_large",
  );
  const stream = new Blob([big]).stream();
  await expectError(
    await t.app.request("/api/data", {
      method: "POST",
      headers: tenantHeaders(apiKey, "u"),
      body: stream,
      // @ts-ignore: Deno's fetch Request needs duplex for a streamed body
      duplex: "half",
    }),
    413,
    "payload_too_large",
  );
  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
  );
  assert.equal(usage.body.usage.count, 0, usage.text);
});

Deno.test("a body without Content-Length, in many chunks, is read whole when it fits", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const bytes = new TextEncoder().encode(JSON.stringify({ amount: 7, pad: "é".repeat(5000) }));
  const chunked = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        // Splits inside a two-byte character too: decoding must see the whole body at once.
        for (let i = 0; i < bytes.length; i += 999) controller.enqueue(bytes.slice(i, i + 999));
        controller.close();
      },
    });
  const res = await json(
    await t.app.request("/api/data", {
      method: "POST",
      headers: tenantHeaders(apiKey, "u"),
      body: chunked(),
      // @ts-ignore: Deno's fetch Request needs duplex for a streamed body
      duplex: "half",
    }),
  );
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.usage.count, 7, res.text);
});

Deno.test("unknown routes answer 404 and wrong methods 405, in the envelope", async () => {
  await using t = await testApp();
  await expectError(await t.app.request("/api/nothing"), 404, "not_found");
  const res = await t.app.request("/api/data", { method: "GET" });
  await expectError(res, 405, "method_not_allowed", /POST/);
  assert.equal(res.headers.get("allow"), "POST");
  await expectError(
    await t.app.request("/api/usage", { method: "DELETE" }),
    405,
    "method_not_allowed",
  );
});

Deno.test("an unexpected failure answers 500 internal without details, and is logged", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const meter = t.deps.meter;
  const original = meter.read;
  meter.read = () => Promise.reject(new Error("disk on fire at secret.ts:12"));
  try {
    const body = await expectError(
      await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
      500,
      "internal",
    );
    assert.doesNotMatch(JSON.stringify(body), /disk on fire/);
    assert.ok(t.logs.some((l) => l.includes("disk on fire")), t.logs.join("\n"));
  } finally {
    meter.read = original;
  }
});

Deno.test("GET /health answers ok after reading KV", async () => {
  await using t = await testApp();
  const res = await t.app.request("/health");
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.deepEqual(body, { ok: true });
});

Deno.test("a 503 unavailable always says when to retry (Retry-After)", async () => {
  await using t = await testApp();
  // No STRIPE_WEBHOOK_SECRET in the test configuration: the founders' webhook cannot verify yet.
  const res = await t.app.request("/webhook/platform", {
    method: "POST",
    headers: { "stripe-signature": "t=1,v1=00", "content-type": "application/json" },
    body: "{}",
  });
  await expectError(res, 503, "unavailable");
  assert.match(res.headers.get("retry-after") ?? "", /^\d+$/, "Retry-After in seconds");
});

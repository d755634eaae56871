import assert from "node:assert/strict";
import { pathOf } from "../../lib/http/hot_routes.ts";
import { isRequestId } from "../../lib/http/request_id.ts";
import { seedPlatform, TEST_TIERS, type TestApp, testApp } from "../_helpers/app.ts";
import type { TierInput } from "../../lib/schemas/tiers.ts";

/** The test tiers with features: metered (own limit, own period), on/off, and one free lacks. */
const TIERS: TierInput[] = TEST_TIERS.map((tier) =>
  tier.id === "free"
    ? { ...tier, features: { exports: { limit: 2 }, sso: false } }
    : tier.id === "pro"
    ? {
      ...tier,
      features: { exports: { limit: null, period: "day" }, sso: true, reports: { limit: 5 } },
    }
    : tier
);

/** A request of the script below, for the key of the app it is sent to. */
type Step = (apiKey: string) => [string, RequestInit];

const auth = (apiKey: string, user = "user-1", extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${apiKey}`,
  "x-user-id": user,
  ...extra,
});
const post = (headers: Record<string, string>, body?: BodyInit): RequestInit => ({
  method: "POST",
  headers,
  body,
});
/** A body without a declared length (sent chunked). */
const stream = (bytes: number) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(" ".repeat(bytes)));
      controller.close();
    },
  });

/** Every outcome of the two metered routes, and requests next to them that Hono must decide. */
const SCRIPT: Step[] = [
  (k) => ["/api/data", post(auth(k))],
  (k) => ["/api/data", post(auth(k, "user-1", { "x-user-plan": "pro" }), '{"amount":250}')],
  (k) => ["/api/data", post(auth(k), '{"amount":99}')],
  (k) => ["/api/data", post(auth(k), '{"amount":1000001}')],
  (k) => ["/api/data", post(auth(k), '{"amount":')],
  (k) => ["/api/data", post(auth(k), "x".repeat(16 * 1024 + 1))],
  (k) => ["/api/data", post(auth(k), stream(16 * 1024 + 1))],
  (k) => ["/api/data", post(auth(k), stream(12))],
  (k) => ["/api/data", post(auth(k, "user-2", { "idempotency-key": "order-1" }), '{"amount":3}')],
  (k) => ["/api/data", post(auth(k, "user-2", { "idempotency-key": "order-1" }), '{"amount":3}')],
  (k) => ["/api/data", post(auth(k, "user-2", { "idempotency-key": "" }))],
  (k) => ["/api/data", post(auth(k, "user-3", { "x-user-plan": "gold" }))],
  (k) => ["/api/data", post({ authorization: `Bearer ${k}` })],
  (k) => ["/api/data", post({ ...auth(k), authorization: `Bearer ${k}x` })],
  () => ["/api/data", post({ "x-user-id": "user-1" })],
  (k) => ["/api/data", post(auth(k, "user-4", { "x-user-plan": "daily" }), '{"amount":5}')],
  (k) => ["/api/data", post(auth(k, "user-4", { "x-user-plan": "daily" }))],
  (k) => ["/api/usage", { headers: auth(k) }],
  (k) => ["/api/usage?verbose=1", { headers: auth(k, "user-4", { "x-user-plan": "daily" }) }],
  (k) => ["/api/usage", { headers: auth(k, "nobody") }],
  (k) => ["/api/usage", { method: "HEAD", headers: auth(k) }],
  (k) => ["/api/data", post(auth(k, "user-5", { "x-request-id": "trace-1.a:b_c" }))],
  (k) => ["/api/data", post(auth(k, "user-5", { "x-request-id": "no spaces" }))],
  (k) => ["/api/data", post(auth(k, "user-5", { "x-request-id": "x".repeat(129) }))],
  (k) => ["/api/data", post(auth(k, "user-4", { "x-request-id": "mine", "x-user-plan": "daily" }))],
  (k) => ["/api/usage", { headers: auth(k, "user-5", { "x-request-id": "r".repeat(128) }) }],
  () => ["/api/usage", { headers: { "x-request-id": "caller-id" } }],
  (k) => ["/api/%75sage", { headers: auth(k) }],
  (k) => ["/api/data/", post(auth(k))],
  (k) => ["/api/data", { method: "PUT", headers: auth(k) }],
  () => ["/api/usage", {}],
  // Features: counted, refused, not in the plan, unknown, on/off; read and checked.
  (k) => ["/api/data", post(auth(k, "user-6"), '{"feature":"exports"}')],
  (k) => ["/api/data", post(auth(k, "user-6"), '{"feature":"exports","amount":2}')],
  (k) => ["/api/data", post(auth(k, "user-6", { "x-user-plan": "pro" }), '{"feature":"exports"}')],
  (k) => ["/api/data", post(auth(k, "user-6"), '{"feature":"reports"}')],
  (k) => ["/api/data", post(auth(k, "user-6"), '{"feature":"teleport"}')],
  (k) => ["/api/data", post(auth(k, "user-6"), '{"feature":"sso"}')],
  (k) => ["/api/data", post(auth(k, "user-6"), '{"feature":7}')],
  (k) => ["/api/usage", { headers: auth(k, "user-6") }],
  (k) => ["/api/usage?feature=exports", { headers: auth(k, "user-6") }],
  (k) => ["/api/usage?feature=reports", { headers: auth(k, "user-6") }],
  (k) => ["/api/usage", { headers: auth(k, "user-6", { "x-user-plan": "pro" }) }],
  (k) => ["/api/check", { headers: auth(k, "user-6") }],
  (k) => ["/api/check?feature=exports&amount=1", { headers: auth(k, "user-6") }],
  (k) => ["/api/check?feature=sso", { headers: auth(k, "user-6", { "x-user-plan": "pro" }) }],
  (k) => ["/api/check?feature=reports", { headers: auth(k, "user-6") }],
  (k) => ["/api/check?amount=0", { headers: auth(k, "user-6") }],
  (k) => ["/api/check?feature=teleport", { headers: auth(k, "user-6") }],
  (k) => ["/api/check", { method: "POST", headers: auth(k, "user-6") }],
  () => ["/api/check", {}],
];

/**
 * The answers to the script, one line each: status, every header and the body. A request id the
 * caller sent must come back as it was; one the server made (its value differs per app) must be
 * well formed, the same in the header and the envelope, and is then written as `<generated>`.
 */
async function transcript(t: TestApp, apiKey: string): Promise<string[]> {
  const lines: string[] = [];
  for (const step of SCRIPT) {
    const [path, init] = step(apiKey);
    const res = await t.app.request(path, init);
    const sent = new Headers(init.headers).get("x-request-id");
    const id = res.headers.get("x-request-id");
    const where = `${init.method ?? "GET"} ${path} (x-request-id: ${sent})`;
    assert.ok(id !== null && isRequestId(id), `${where}: answered with X-Request-Id ${id}`);
    let text = await res.text();
    if (res.status >= 400 && init.method !== "HEAD") {
      assert.equal(JSON.parse(text).error.requestId, id, `${where}: the envelope's id: ${text}`);
    }
    const generated = id !== sent;
    if (sent !== null && isRequestId(sent)) assert.equal(id, sent, `${where}: the id is kept`);
    if (generated) text = text.replaceAll(`"requestId":"${id}"`, `"requestId":"<generated>"`);
    const headers = [...res.headers]
      .map(([name, value]) =>
        `${name}: ${name === "x-request-id" && generated ? "<generated>" : value}`
      )
      .sort();
    lines.push(`${init.method ?? "GET"} ${path} → ${res.status} ${headers.join("; ")} ${text}`);
  }
  return lines;
}

Deno.test("the hot routes answer every request exactly as their Hono mounts do", async () => {
  await using hot = await testApp();
  await using hono = await testApp({ hotRoutes: false });
  const expected = await transcript(hono, (await seedPlatform(hono.kv, TIERS)).apiKey);
  const actual = await transcript(hot, (await seedPlatform(hot.kv, TIERS)).apiKey);
  assert.equal(actual.length, SCRIPT.length);
  for (let i = 0; i < expected.length; i++) assert.equal(actual[i], expected[i], `step ${i}`);
  // The script reaches every outcome it means to: grants, refusals, each error, Hono's answers.
  const statuses = new Set(actual.map((line) => Number(line.split(" → ")[1].slice(0, 3))));
  assert.deepEqual([...statuses].sort(), [200, 400, 401, 403, 404, 405, 413, 429]);
});

Deno.test("the hot routes answer an unexpected failure with the 500 envelope and log it", async () => {
  const failing = new Error("KV is on fire");
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  t.deps.meter.count = () => Promise.reject(failing);
  const res = await t.app.request("/api/data", post(auth(apiKey)));
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("content-type"), "application/json");
  const requestId = res.headers.get("x-request-id");
  assert.ok(requestId && isRequestId(requestId), `X-Request-Id ${requestId}`);
  assert.deepEqual(await res.json(), {
    success: false,
    error: {
      code: "internal",
      message: "Something went wrong on our side. Please retry.",
      requestId,
    },
  });
  const logged = t.logs.map((line) => JSON.parse(line)).find((e) =>
    e.message === "unhandled error"
  );
  assert.ok(logged, t.logs.join("\n"));
  assert.equal(logged.path, "/api/data");
  assert.equal(logged.requestId, requestId, "the log line of the 500 carries its request id");
  assert.match(JSON.stringify(logged), /KV is on fire/);
});

Deno.test("pathOf takes the path of an absolute URL and leaves percent-escapes to Hono", () => {
  assert.equal(pathOf("http://localhost:8000/api/data"), "/api/data");
  assert.equal(pathOf("https://api.example.com/api/usage?x=1&y=/z"), "/api/usage");
  assert.equal(pathOf("http://localhost"), "/");
  assert.equal(pathOf("http://h/api/%64ata"), null);
});

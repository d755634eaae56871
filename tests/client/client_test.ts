/**
 * The typed client (`client/dream_api.ts`) against the real server: the app over a real
 * `:memory:` KV, served on a loopback port, with proxies that lose answers in between.
 */
import assert from "node:assert/strict";
import {
  DreamApi,
  DreamApiError,
  type DreamApiOptions,
  FeatureNotIncludedError,
  LimitExceededError,
} from "../../client/dream_api.ts";
import { FEATURE_TIERS } from "../api/_features.ts";
import { seedPlatform, testApp } from "../_helpers/app.ts";
import { evalInIsolatedDeno } from "../_helpers/isolated_deno.ts";
import { dropAnswersProxy, failingProxy } from "./_proxy.ts";

/** The real app on a loopback port, with a platform whose free tier allows 5 a month. */
async function served() {
  const t = await testApp();
  const { platformId, apiKey } = await seedPlatform(t.kv, [
    { id: "free", name: "Free", price: 0, limit: 5, period: "month" },
    { id: "pro", name: "Pro", price: 29, limit: 1000, period: "month" },
    { id: "unlimited", name: "Unlimited", price: 99, limit: null, period: "month" },
  ]);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    t,
    platformId,
    apiKey,
    url,
    client: (options: Partial<DreamApiOptions> = {}) =>
      new DreamApi({ apiKey, baseUrl: url, retryBaseMs: 1, retryMaxMs: 5, ...options }),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

async function rejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...a: never[]) => E,
) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    return error as E;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

Deno.test("track counts one unit by default and answers typed usage; usage() reads without counting", async () => {
  await using s = await served();
  const dream = s.client();
  const first = await dream.track("user_1");
  assert.deepEqual(first.usage, { count: 1, limit: 5, remaining: 4 });
  assert.equal(first.plan, "free");
  assert.equal(first.planSource, "default");
  assert.equal(first.period.start, "2026-11-01T00:00:00.000Z");
  assert.equal(first.period.end, "2026-12-01T00:00:00.000Z");
  assert.equal(first.replayed, false);
  assert.match(first.idempotencyKey, /^[0-9a-f-]{36}$/);
  assert.deepEqual(first.rateLimit, { limit: 5, remaining: 4, reset: 1339200 });

  const second = await dream.track("user_1", { amount: 3 });
  assert.deepEqual(second.usage, { count: 4, limit: 5, remaining: 1 });
  assert.notEqual(second.idempotencyKey, first.idempotencyKey, "a fresh key per call");

  const read = await dream.usage("user_1");
  assert.deepEqual(read.usage, { count: 4, limit: 5, remaining: 1 });
  assert.deepEqual((await dream.usage("user_1")).usage.count, 4, "reading counts nothing");
});

Deno.test("the plan option is sent as X-User-Plan; unlimited plans have null limits", async () => {
  await using s = await served();
  const dream = s.client();
  const pro = await dream.track("user_p", { plan: "pro", amount: 10 });
  assert.equal(pro.plan, "pro");
  assert.equal(pro.planSource, "header");
  assert.deepEqual(pro.usage, { count: 10, limit: 1000, remaining: 990 });
  const unlimited = await dream.usage("user_p", { plan: "unlimited" });
  assert.deepEqual(unlimited.usage, { count: 10, limit: null, remaining: null });
  assert.deepEqual(unlimited.rateLimit, { limit: null, remaining: null, reset: 1339200 });
});

Deno.test("track over the limit throws LimitExceededError with the usage, plan, period and retryAfter, and counts nothing", async () => {
  await using s = await served();
  const dream = s.client();
  await dream.track("user_l", { amount: 4 });
  const error = await rejection(dream.track("user_l", { amount: 2 }), LimitExceededError);
  assert.ok(error instanceof DreamApiError, "a LimitExceededError is a DreamApiError");
  assert.equal(error.status, 429);
  assert.equal(error.code, "limit_exceeded");
  assert.deepEqual(error.usage, { count: 4, limit: 5, remaining: 1 });
  assert.equal(error.plan, "free");
  assert.equal(error.planSource, "default");
  assert.equal(error.period.end, "2026-12-01T00:00:00.000Z");
  assert.equal(error.retryAfter, 1339200, "seconds from the app's clock to the period's end");
  assert.match(error.message, /limit/i);
  assert.equal((await dream.usage("user_l")).usage.count, 4);
});

Deno.test("4xx answers become DreamApiError with status, code and message, and are never retried", async () => {
  await using s = await served();
  await using proxy = failingProxy(new URL(s.url), 0);
  const bad = new DreamApi({ apiKey: `dk_test_${"A".repeat(43)}`, baseUrl: proxy.url });
  let error = await rejection(bad.track("u"), DreamApiError);
  assert.equal(error.status, 401);
  assert.equal(error.code, "unauthorized");
  assert.match(error.message, /API key/);
  assert.equal(proxy.seen(), 1, "one attempt");

  const dream = s.client({ baseUrl: proxy.url });
  error = await rejection(dream.track("u", { plan: "gold" }), DreamApiError);
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_request");
  assert.match(error.message, /free, pro/);
  error = await rejection(dream.track("u", { amount: 0 }), DreamApiError);
  assert.equal(error.code, "invalid_request");
  assert.match(error.message, /amount/);
  error = await rejection(dream.usage(""), DreamApiError);
  assert.equal(error.code, "invalid_request");
  assert.equal(proxy.seen(), 4, "no retries on 4xx");
});

Deno.test("an answer lost after the server counted is retried with the same Idempotency-Key and counted once", async () => {
  await using s = await served();
  await using proxy = dropAnswersProxy(new URL(s.url), 1);
  const dream = s.client({ baseUrl: proxy.url });
  const result = await dream.track("user_r", { amount: 2 });
  assert.equal(proxy.seen(), 2, "the first connection lost its answer; the retry got one");
  assert.equal(proxy.requests.length, 2);
  const keys = proxy.requests.map((r) => r.headers.get("idempotency-key"));
  assert.equal(keys[0], result.idempotencyKey);
  assert.equal(keys[1], result.idempotencyKey, "the retry carries the same key");
  assert.equal(result.replayed, true, "the server replayed its first answer");
  assert.deepEqual(result.usage, { count: 2, limit: 5, remaining: 3 });
  assert.equal((await s.client().usage("user_r")).usage.count, 2, "counted once, not twice");
});

Deno.test("a 5xx after the server counted is retried and counted once; the caller's own key is kept", async () => {
  await using s = await served();
  await using proxy = failingProxy(new URL(s.url), 2, { status: 502 });
  const dream = s.client({ baseUrl: proxy.url });
  const result = await dream.track("user_5", { idempotencyKey: "order-42" });
  assert.equal(proxy.seen(), 3);
  assert.deepEqual(
    proxy.requests.map((r) => r.headers.get("idempotency-key")),
    ["order-42", "order-42", "order-42"],
  );
  assert.equal(result.idempotencyKey, "order-42");
  assert.equal(result.replayed, true);
  assert.deepEqual(result.usage, { count: 1, limit: 5, remaining: 4 });
  assert.equal((await s.client().usage("user_5")).usage.count, 1);

  const again = await s.client().track("user_5", { idempotencyKey: "order-42" });
  assert.equal(again.replayed, true, "the same key later is a replay too");
  assert.equal((await s.client().usage("user_5")).usage.count, 1);
});

Deno.test("usage() is retried on 5xx; after maxRetries the last answer surfaces as DreamApiError", async () => {
  await using s = await served();
  await s.client().track("user_g", { amount: 2 });

  await using flaky = failingProxy(new URL(s.url), 2, { status: 503, forward: false });
  const read = await s.client({ baseUrl: flaky.url }).usage("user_g");
  assert.equal(read.usage.count, 2);
  assert.equal(flaky.seen(), 3);

  await using down = failingProxy(new URL(s.url), 100, { status: 502, forward: false });
  const error = await rejection(
    s.client({ baseUrl: down.url, maxRetries: 2 }).usage("user_g"),
    DreamApiError,
  );
  assert.equal(error.status, 502);
  assert.equal(error.code, "http_502", "not dream-api's JSON: the status names it");
  assert.equal(down.seen(), 3, "1 attempt + 2 retries");

  await using once = failingProxy(new URL(s.url), 100, { status: 502, forward: false });
  await rejection(s.client({ baseUrl: once.url, maxRetries: 0 }).track("user_g"), DreamApiError);
  assert.equal(once.seen(), 1, "maxRetries: 0 disables retries");
});

Deno.test("no answer at all becomes DreamApiError network_error (status 0) after the retries", async () => {
  await using s = await served();
  await using proxy = dropAnswersProxy(new URL(s.url), 100);
  const error = await rejection(
    s.client({ baseUrl: proxy.url, maxRetries: 2 }).track("user_n"),
    DreamApiError,
  );
  assert.equal(error.status, 0);
  assert.equal(error.code, "network_error");
  assert.equal(proxy.seen(), 3);
  assert.equal(proxy.requests.length, 3);
  const keys = new Set(proxy.requests.map((r) => r.headers.get("idempotency-key")));
  assert.equal(keys.size, 1, "every attempt carries the same key");
  // The server counted the first attempt only: the replays counted nothing.
  assert.equal((await s.client().usage("user_n")).usage.count, 1);
});

Deno.test("an aborted call rejects with the caller's reason and is not retried", async () => {
  await using s = await served();
  await using proxy = failingProxy(new URL(s.url), 0);
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assert.rejects(
    s.client({ baseUrl: proxy.url }).track("user_a", { signal: controller.signal }),
    /stop/,
  );
  assert.equal(proxy.seen(), 0);
  assert.equal((await s.client().usage("user_a")).usage.count, 0);
});

Deno.test("GET /client/dream_api.ts serves the client, and Deno imports it by URL from the server", async () => {
  await using s = await served();
  const res = await fetch(`${s.url}/client/dream_api.ts`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/typescript; charset=utf-8");
  assert.equal(
    text,
    await Deno.readTextFile(new URL("../../client/dream_api.ts", import.meta.url)),
  );

  // A separate Deno (own cache, no lockfile or config of ours) imports the module by URL.
  const run = await evalInIsolatedDeno(`
    const { DreamApi } = await import("${s.url}/client/dream_api.ts");
    const dream = new DreamApi({ apiKey: "${s.apiKey}", baseUrl: "${s.url}" });
    console.log(JSON.stringify((await dream.track("url_user", { amount: 3 })).usage));
  `);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { count: 3, limit: 5, remaining: 2 });
});

Deno.test("features: track({ feature }), usage() with features, check(), and the errors a feature brings", async () => {
  const t = await testApp();
  const { apiKey } = await seedPlatform(t.kv, FEATURE_TIERS);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  try {
    const dream = new DreamApi({ apiKey, baseUrl: `http://127.0.0.1:${server.addr.port}` });
    const tracked = await dream.track("u", { feature: "exports", amount: 4 });
    assert.equal(tracked.feature, "exports");
    assert.deepEqual(tracked.usage, { count: 4, limit: 5, remaining: 1 });
    assert.equal(tracked.rateLimit.limit, 5);

    const over = await rejection(
      dream.track("u", { feature: "exports", amount: 2 }),
      LimitExceededError,
    );
    assert.equal(over.feature, "exports");
    assert.deepEqual(over.usage, { count: 4, limit: 5, remaining: 1 });

    const lacking = await rejection(
      dream.track("u", { feature: "reports" }),
      FeatureNotIncludedError,
    );
    assert.ok(lacking instanceof DreamApiError);
    assert.equal(lacking.status, 403);
    assert.equal(lacking.code, "feature_not_included");
    assert.deepEqual([lacking.feature, lacking.plan, lacking.upgradeTo], [
      "reports",
      "free",
      "pro",
    ]);

    const all = await dream.usage("u");
    assert.deepEqual(all.usage, { count: 0, limit: 100, remaining: 100 });
    assert.equal(all.feature, undefined);
    assert.deepEqual(all.features, {
      exports: { count: 4, limit: 5, remaining: 1 },
      searches: { count: 0, limit: 3, remaining: 3 },
      sso: { enabled: false },
    });
    const one = await dream.usage("u", { feature: "exports" });
    assert.equal(one.feature, "exports");
    assert.deepEqual(one.usage, { count: 4, limit: 5, remaining: 1 });

    assert.deepEqual(await dream.check("u", { feature: "exports" }), {
      allowed: true,
      feature: "exports",
      plan: "free",
      usage: { count: 4, limit: 5, remaining: 1 },
    });
    assert.equal((await dream.check("u", { feature: "exports", amount: 2 })).allowed, false);
    assert.deepEqual(await dream.check("u", { feature: "sso", plan: "pro" }), {
      allowed: true,
      feature: "sso",
      plan: "pro",
    });
    assert.equal((await dream.check("u")).feature, null);
    const unknown = await rejection(dream.check("u", { feature: "teleport" }), DreamApiError);
    assert.equal(unknown.code, "invalid_request");
  } finally {
    await server.shutdown();
    await t[Symbol.asyncDispose]();
  }
});

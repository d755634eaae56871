/** Features per plan in the tenant API: POST /api/data with `feature`, GET /api/usage, GET /api/check. */
import assert from "node:assert/strict";
import { json, seedPlatform, tenantHeaders, type TestApp, testApp } from "../_helpers/app.ts";
import { eventsOf, outboxEvents } from "../usage/_outbox.ts";
import { FEATURE_TIERS } from "./_features.ts";

const NOV = { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" };
const NOV15 = { start: "2026-11-15T00:00:00.000Z", end: "2026-11-16T00:00:00.000Z" };

function track(t: TestApp, apiKey: string, userId: string, body?: unknown, extra = {}) {
  return t.app.request("/api/data", {
    method: "POST",
    headers: tenantHeaders(apiKey, userId, extra),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function get(t: TestApp, apiKey: string, path: string, userId = "u", extra = {}) {
  return t.app.request(path, { headers: tenantHeaders(apiKey, userId, extra) });
}

async function world() {
  const t = await testApp();
  const { apiKey, platformId } = await seedPlatform(t.kv, FEATURE_TIERS);
  return { t, apiKey, platformId, [Symbol.asyncDispose]: () => t[Symbol.asyncDispose]() };
}

Deno.test("POST /api/data with a metered feature counts it against the feature's limit and says which", async () => {
  await using w = await world();
  const res = await track(w.t, w.apiKey, "u", { feature: "exports", amount: 2 });
  const { status, body, text } = await json(res);
  assert.equal(status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(body, {
    success: true,
    usage: { count: 2, limit: 5, remaining: 3 },
    plan: "free",
    planSource: "default",
    period: NOV,
    feature: "exports",
  }, text);
  assert.equal(res.headers.get("ratelimit-limit"), "5");
  assert.equal(res.headers.get("ratelimit-remaining"), "3");
  const main = await json(await get(w.t, w.apiKey, "/api/usage"));
  assert.deepEqual(main.body.usage, { count: 0, limit: 100, remaining: 100 }, main.text);
});

Deno.test("POST /api/data without a feature answers exactly as before features, on a tier with features", async () => {
  await using w = await world();
  const { status, body, text } = await json(await track(w.t, w.apiKey, "u"));
  assert.equal(status, 200, text);
  assert.equal(
    text,
    JSON.stringify({
      success: true,
      usage: { count: 1, limit: 100, remaining: 99 },
      plan: "free",
      planSource: "default",
      period: NOV,
    }),
  );
  assert.equal(body.feature, undefined);
});

Deno.test("a feature with a daily period counts per UTC day and answers that day", async () => {
  await using w = await world();
  for (let i = 0; i < 3; i++) {
    assert.equal((await track(w.t, w.apiKey, "u", { feature: "searches" })).status, 200);
  }
  const refused = await track(w.t, w.apiKey, "u", { feature: "searches" });
  const { status, body, text } = await json(refused);
  assert.equal(status, 429, text);
  assert.deepEqual(body.period, NOV15);
  assert.equal(refused.headers.get("retry-after"), String(12 * 3600));
  w.t.setNow(new Date("2026-11-16T00:00:01Z"));
  assert.equal((await track(w.t, w.apiKey, "u", { feature: "searches" })).status, 200);
});

Deno.test("200 concurrent calls on a feature with limit 5 give exactly 5 × 200 and 195 × 429 limit_exceeded", async () => {
  await using w = await world();
  const answers = await Promise.all(
    Array.from({ length: 200 }, () => track(w.t, w.apiKey, "hot", { feature: "exports" })),
  );
  const by = (s: number) => answers.filter((r) => r.status === s);
  assert.equal(by(200).length, 5);
  assert.equal(by(429).length, 195);
  const refusal = by(429)[0];
  assert.equal(refusal.headers.get("ratelimit-limit"), "5");
  assert.equal(refusal.headers.get("ratelimit-remaining"), "0");
  assert.ok(Number(refusal.headers.get("retry-after")) > 0);
  const { body, text } = await json(refusal);
  assert.equal(body.error.code, "limit_exceeded", text);
  assert.equal(body.feature, "exports");
  assert.deepEqual(body.usage, { count: 5, limit: 5, remaining: 0 });
  assert.match(body.error.message, /feature 'exports'/);
  await Promise.all(answers.filter((r) => r !== refusal).map((r) => r.body?.cancel()));
  const usage = await json(await get(w.t, w.apiKey, "/api/usage?feature=exports", "hot"));
  assert.deepEqual(usage.body.usage, { count: 5, limit: 5, remaining: 0 }, usage.text);
});

Deno.test("50 concurrent calls across a feature's thresholds queue each founder event once, naming the feature", async () => {
  await using w = await world();
  const answers = await Promise.all(
    Array.from(
      { length: 50 },
      () => track(w.t, w.apiKey, "u", { feature: "exports" }, { "x-user-plan": "pro" }),
    ),
  );
  assert.equal(answers.filter((r) => r.status === 200).length, 50);
  await Promise.all(answers.map((r) => r.body?.cancel()));
  const events = await outboxEvents(w.t.kv);
  assert.deepEqual(eventsOf(events, "u", "exports"), [
    ["usage.near_limit", 40, 50],
    ["usage.limit_reached", 50, 50],
  ]);
  assert.equal(events[0].data.platformId, w.platformId);
  assert.equal(events[0].data.plan, "pro");
  assert.deepEqual(events[0].data.period, NOV);
});

Deno.test("a feature no tier defines is 400 invalid_request listing the platform's features", async () => {
  await using w = await world();
  for (
    const res of [
      await track(w.t, w.apiKey, "u", { feature: "teleport" }),
      await get(w.t, w.apiKey, "/api/usage?feature=teleport"),
      await get(w.t, w.apiKey, "/api/check?feature=teleport"),
    ]
  ) {
    const { status, body, text } = await json(res);
    assert.equal(status, 400, text);
    assert.equal(body.error.code, "invalid_request");
    assert.match(body.error.message, /'teleport'.*exports, reports, searches, sso/, text);
  }
  const bad = await json(await track(w.t, w.apiKey, "u", { feature: "Not A Slug" }));
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.body.error.message, /^feature: /);
});

Deno.test("a feature the end-user's tier lacks is 403 feature_not_included naming the cheapest tier that has it", async () => {
  await using w = await world();
  const res = await track(w.t, w.apiKey, "u", { feature: "reports" });
  const { status, body, text } = await json(res);
  assert.equal(status, 403, text);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(body.success, false);
  assert.equal(body.error.code, "feature_not_included");
  assert.deepEqual(body.error.details, { feature: "reports", plan: "free", upgradeTo: "pro" });
  const plain = await json(
    await track(w.t, w.apiKey, "u", { feature: "exports" }, { "x-user-plan": "plain" }),
  );
  assert.equal(plain.status, 403, plain.text);
  assert.deepEqual(plain.body.error.details, {
    feature: "exports",
    plan: "plain",
    upgradeTo: "free",
  });
  const read = await json(await get(w.t, w.apiKey, "/api/usage?feature=reports"));
  assert.equal(read.status, 403, read.text);
  // Nothing was counted anywhere.
  const usage = await json(await get(w.t, w.apiKey, "/api/usage", "u", { "x-user-plan": "pro" }));
  assert.deepEqual(usage.body.features.reports, { count: 0, limit: null, remaining: null });
});

Deno.test("an on/off feature cannot be counted: 400, whether the tier has it on or off", async () => {
  await using w = await world();
  for (const plan of ["free", "pro"]) {
    const res = await track(w.t, w.apiKey, "u", { feature: "sso" }, { "x-user-plan": plan });
    const { status, body, text } = await json(res);
    assert.equal(status, 400, text);
    assert.equal(body.error.code, "invalid_request");
    assert.match(body.error.message, /on\/off/);
  }
  assert.equal((await get(w.t, w.apiKey, "/api/usage?feature=sso")).status, 400);
});

Deno.test("Idempotency-Key with a feature: the same call replays, another feature or none is 409 conflict", async () => {
  await using w = await world();
  const key = { "idempotency-key": "order-7" };
  const first = await json(await track(w.t, w.apiKey, "u", { feature: "exports" }, key));
  assert.equal(first.status, 200, first.text);
  const again = await track(w.t, w.apiKey, "u", { feature: "exports" }, key);
  assert.equal(again.status, 200);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual((await json(again)).body, first.body);
  for (const body of [{}, { feature: "searches" }]) {
    const other = await json(await track(w.t, w.apiKey, "u", body, key));
    assert.equal(other.status, 409, other.text);
    assert.equal(other.body.error.code, "conflict");
  }
  const usage = await json(await get(w.t, w.apiKey, "/api/usage"));
  assert.deepEqual(usage.body.usage.count, 0);
  assert.deepEqual(usage.body.features.exports.count, 1);
  assert.deepEqual(usage.body.features.searches.count, 0);
});

Deno.test("GET /api/usage lists every feature of the end-user's tier; ?feature= makes usage that feature's", async () => {
  await using w = await world();
  await track(w.t, w.apiKey, "u", { amount: 7 });
  await track(w.t, w.apiKey, "u", { feature: "exports", amount: 4 });
  await track(w.t, w.apiKey, "u", { feature: "searches" });
  const all = await get(w.t, w.apiKey, "/api/usage");
  const { status, body, text } = await json(all);
  assert.equal(status, 200, text);
  assert.deepEqual(body, {
    success: true,
    usage: { count: 7, limit: 100, remaining: 93 },
    plan: "free",
    planSource: "default",
    period: NOV,
    features: {
      exports: { count: 4, limit: 5, remaining: 1 },
      searches: { count: 1, limit: 3, remaining: 2 },
      sso: { enabled: false },
    },
  }, text);
  const one = await get(w.t, w.apiKey, "/api/usage?feature=searches");
  const single = await json(one);
  assert.equal(single.status, 200, single.text);
  assert.deepEqual(single.body.usage, { count: 1, limit: 3, remaining: 2 });
  assert.deepEqual(single.body.period, NOV15);
  assert.equal(single.body.feature, "searches");
  assert.equal(one.headers.get("ratelimit-limit"), "3");
  const pro = await json(await get(w.t, w.apiKey, "/api/usage", "u", { "x-user-plan": "pro" }));
  assert.deepEqual(pro.body.features, {
    exports: { count: 4, limit: 50, remaining: 46 },
    reports: { count: 0, limit: null, remaining: null },
    sso: { enabled: true },
  });
  const plain = await json(await get(w.t, w.apiKey, "/api/usage", "u", { "x-user-plan": "plain" }));
  assert.equal(plain.body.features, undefined, "a tier without features answers as before");
});

Deno.test("GET /api/check answers whether a call would be allowed, 200 either way, counting nothing", async () => {
  await using w = await world();
  await track(w.t, w.apiKey, "u", { feature: "exports", amount: 4 });
  const check = async (query: string, plan = "free") => {
    const res = await get(w.t, w.apiKey, `/api/check${query}`, "u", { "x-user-plan": plan });
    const { status, body, text } = await json(res);
    assert.equal(status, 200, `${query}: ${text}`);
    assert.equal(res.headers.get("content-type"), "application/json");
    return body;
  };
  assert.deepEqual(await check(""), {
    success: true,
    allowed: true,
    feature: null,
    plan: "free",
    usage: { count: 0, limit: 100, remaining: 100 },
  });
  assert.deepEqual(await check("?feature=exports"), {
    success: true,
    allowed: true,
    feature: "exports",
    plan: "free",
    usage: { count: 4, limit: 5, remaining: 1 },
  });
  assert.equal((await check("?feature=exports&amount=2")).allowed, false);
  assert.equal((await check("?amount=101")).allowed, false);
  assert.deepEqual(await check("?feature=sso"), {
    success: true,
    allowed: false,
    feature: "sso",
    plan: "free",
  });
  assert.equal((await check("?feature=sso", "pro")).allowed, true);
  assert.deepEqual(await check("?feature=reports"), {
    success: true,
    allowed: false,
    feature: "reports",
    plan: "free",
  });
  assert.deepEqual((await check("?feature=reports", "pro")).usage, {
    count: 0,
    limit: null,
    remaining: null,
  });
  for (const query of ["?amount=0", "?amount=abc", "?amount=1.5", "?feature="]) {
    const bad = await json(await get(w.t, w.apiKey, `/api/check${query}`));
    assert.equal(bad.status, 400, `${query}: ${bad.text}`);
  }
  // Nothing was counted by the checks.
  const usage = await json(await get(w.t, w.apiKey, "/api/usage"));
  assert.equal(usage.body.usage.count, 0);
  assert.equal(usage.body.features.exports.count, 4);
});

Deno.test("GET /api/check needs the API key and an end-user, like every tenant route", async () => {
  await using w = await world();
  assert.equal((await w.t.app.request("/api/check")).status, 401);
  const res = await w.t.app.request("/api/check", {
    headers: { authorization: `Bearer ${w.apiKey}` },
  });
  assert.equal(res.status, 400);
});

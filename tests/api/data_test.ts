import assert from "node:assert/strict";
import { rotateApiKey } from "../../lib/kv/platforms.ts";
import { json, seedPlatform, tenantHeaders, testApp } from "../_helpers/app.ts";

function track(
  t: Awaited<ReturnType<typeof testApp>>,
  apiKey: string,
  userId: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  return t.app.request("/api/data", {
    method: "POST",
    headers: tenantHeaders(apiKey, userId, init.headers),
    body: init.body,
  });
}

Deno.test("POST /api/data counts one unit and answers usage, plan and period", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const res = await track(t, apiKey, "user-1");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  const { body, text } = await json(res);
  assert.deepEqual(body, {
    success: true,
    usage: { count: 1, limit: 100, remaining: 99 },
    plan: "free",
    planSource: "default",
    period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
  }, text);
  assert.equal(res.headers.get("ratelimit-limit"), "100");
  assert.equal(res.headers.get("ratelimit-remaining"), "99");
  // 2026-11-15T12:00Z → 2026-12-01T00:00Z is 15.5 days.
  assert.equal(res.headers.get("ratelimit-reset"), String(15.5 * 86400));
});

Deno.test("POST /api/data counts the JSON amount and uses X-User-Plan", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const res = await track(t, apiKey, "user-1", {
    body: JSON.stringify({ amount: 250 }),
    headers: { "x-user-plan": "pro", "content-type": "application/json" },
  });
  const { status, body, text } = await json(res);
  assert.equal(status, 200, text);
  assert.deepEqual(body.usage, { count: 250, limit: 1000, remaining: 750 });
  assert.equal(body.plan, "pro");
  assert.equal(body.planSource, "header");
});

Deno.test("POST /api/data answers 429 and counts nothing when the amount does not fit", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  assert.equal((await track(t, apiKey, "u", { body: '{"amount":95}' })).status, 200);
  const res = await track(t, apiKey, "u", { body: '{"amount":6}' });
  const { status, body, text } = await json(res);
  assert.equal(status, 429, text);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(body.success, false);
  assert.equal(body.error.code, "limit_exceeded");
  assert.match(body.error.message, /limit/);
  assert.deepEqual(body.usage, { count: 95, limit: 100, remaining: 5 });
  assert.equal(body.plan, "free");
  assert.equal(res.headers.get("retry-after"), String(15.5 * 86400));
  assert.equal(res.headers.get("ratelimit-remaining"), "5");
  // What still fits is granted.
  const rest = await json(await track(t, apiKey, "u", { body: '{"amount":5}' }));
  assert.equal(rest.status, 200, rest.text);
  assert.equal(rest.body.usage.count, 100);
});

Deno.test("an unlimited tier answers null limit and remaining", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const res = await track(t, apiKey, "u", {
    body: '{"amount":1000000}',
    headers: { "x-user-plan": "unlimited" },
  });
  const { status, body, text } = await json(res);
  assert.equal(status, 200, text);
  assert.deepEqual(body.usage, { count: 1_000_000, limit: null, remaining: null });
  assert.equal(res.headers.get("ratelimit-limit"), null);
});

Deno.test("GET /api/usage reads without counting", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  await track(t, apiKey, "u", { body: '{"amount":7}' });
  for (let i = 0; i < 3; i++) {
    const res = await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") });
    const { status, body, text } = await json(res);
    assert.equal(status, 200, text);
    assert.deepEqual(body.usage, { count: 7, limit: 100, remaining: 93 }, text);
    assert.equal(res.headers.get("ratelimit-remaining"), "93");
  }
});

Deno.test("exactness: 1,000 concurrent calls at limit 100 give exactly 100 × 200 and 900 × 429", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const responses = await Promise.all(
    Array.from({ length: 1000 }, () => track(t, apiKey, "hot-user")),
  );
  const statuses = responses.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 100);
  assert.equal(statuses.filter((s) => s === 429).length, 900);
  const counts = await Promise.all(
    responses.filter((r) => r.status === 200).map(async (r) => (await r.json()).usage.count),
  );
  assert.deepEqual(counts.sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "hot-user") }),
  );
  assert.equal(usage.body.usage.count, 100, usage.text);
});

Deno.test("exactness holds with mixed amounts across many users at once", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const calls = Array.from({ length: 600 }, (_, i) => ({ user: `u${i % 6}`, amount: 1 + (i % 7) }));
  const responses = await Promise.all(
    calls.map((c) => track(t, apiKey, c.user, { body: JSON.stringify({ amount: c.amount }) })),
  );
  for (let u = 0; u < 6; u++) {
    const granted = calls
      .filter((c, i) => c.user === `u${u}` && responses[i].status === 200)
      .reduce((sum, c) => sum + c.amount, 0);
    const usage = await json(
      await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, `u${u}`) }),
    );
    assert.equal(usage.body.usage.count, granted, `u${u}: ${usage.text}`);
    assert.ok(granted <= 100 && granted > 93, `u${u} granted ${granted}`);
  }
  assert.ok(responses.every((r) => r.status === 200 || r.status === 429));
});

Deno.test("isolation: the same X-User-Id under two platforms is counted separately", async () => {
  await using t = await testApp();
  const a = await seedPlatform(t.kv, undefined, "A");
  const b = await seedPlatform(t.kv, undefined, "B");
  await track(t, a.apiKey, "shared-id", { body: '{"amount":40}' });
  const resB = await json(await track(t, b.apiKey, "shared-id", { body: '{"amount":3}' }));
  assert.equal(resB.body.usage.count, 3, resB.text);
  const resA = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(a.apiKey, "shared-id") }),
  );
  assert.equal(resA.body.usage.count, 40, resA.text);
});

Deno.test("a rotated-away key gets 401 at once and the new key keeps the usage", async () => {
  await using t = await testApp();
  const { platformId, apiKey } = await seedPlatform(t.kv);
  await track(t, apiKey, "u"); // warms the tenant cache with the old key
  const { apiKey: fresh } = await rotateApiKey(t.kv, platformId);
  await t.deps.tenants.forget(platformId);
  const old = await json(await track(t, apiKey, "u"));
  assert.equal(old.status, 401, old.text);
  assert.equal(old.body.error.code, "unauthorized");
  const now = await json(await track(t, fresh, "u"));
  assert.equal(now.status, 200, now.text);
  assert.equal(now.body.usage.count, 2);
});

Deno.test("period reset: usage starts at 0 in a new month, and daily tiers reset each UTC day", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  t.setNow(new Date("2026-11-30T23:59:59.000Z"));
  await track(t, apiKey, "u", { body: '{"amount":100}' });
  assert.equal((await track(t, apiKey, "u")).status, 429);
  t.setNow(new Date("2026-12-01T00:00:00.000Z"));
  const dec = await json(await track(t, apiKey, "u"));
  assert.equal(dec.status, 200, dec.text);
  assert.equal(dec.body.usage.count, 1);
  assert.deepEqual(dec.body.period, {
    start: "2026-12-01T00:00:00.000Z",
    end: "2027-01-01T00:00:00.000Z",
  });

  const daily = { "x-user-plan": "daily" };
  for (let i = 0; i < 5; i++) await track(t, apiKey, "d", { headers: daily });
  const refused = await track(t, apiKey, "d", { headers: daily });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), String(86400));
  t.setNow(new Date("2026-12-02T08:00:00.000Z"));
  const next = await json(await track(t, apiKey, "d", { headers: daily }));
  assert.equal(next.status, 200, next.text);
  assert.equal(next.body.usage.count, 1);
  assert.equal(next.body.period.start, "2026-12-02T00:00:00.000Z");
});

Deno.test("Idempotency-Key: a repeat returns the first answer and counts nothing", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const headers = { "idempotency-key": "order-42" };
  const first = await json(await track(t, apiKey, "u", { body: '{"amount":3}', headers }));
  await track(t, apiKey, "u"); // another, unrelated call
  const again = await t.app.request("/api/data", {
    method: "POST",
    headers: tenantHeaders(apiKey, "u", headers),
    body: '{"amount":3}',
  });
  const repeat = await json(again);
  assert.equal(repeat.status, 200, repeat.text);
  assert.deepEqual(repeat.body, first.body);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
  );
  assert.equal(usage.body.usage.count, 4, usage.text);
  // The same key for another end-user is another operation.
  const other = await json(await track(t, apiKey, "v", { body: '{"amount":3}', headers }));
  assert.equal(other.body.usage.count, 3, other.text);
});

Deno.test("Idempotency-Key: 50 concurrent repeats count once and all see the same answer", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const responses = await Promise.all(
    Array.from(
      { length: 50 },
      () => track(t, apiKey, "u", { body: '{"amount":2}', headers: { "idempotency-key": "same" } }),
    ),
  );
  const bodies = await Promise.all(responses.map((r) => r.text()));
  assert.ok(responses.every((r) => r.status === 200), bodies.join("\n"));
  assert.equal(new Set(bodies).size, 1, "every repeat answers the first answer");
  assert.equal(JSON.parse(bodies[0]).usage.count, 2);
  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
  );
  assert.equal(usage.body.usage.count, 2, usage.text);
});

for (const hotRoutes of [true, false]) {
  const via = hotRoutes ? "" : " (through Hono)";
  Deno.test(`Idempotency-Key reused with another amount answers 409 conflict in the envelope and counts nothing${via}`, async () => {
    await using t = await testApp({ hotRoutes });
    const { apiKey } = await seedPlatform(t.kv);
    const headers = { "idempotency-key": "order-7", "content-type": "application/json" };
    const first = await json(await track(t, apiKey, "u", { body: '{"amount":3}', headers }));
    assert.equal(first.status, 200, first.text);

    for (const body of ['{"amount":4}', "", '{"amount":1}']) {
      const res = await track(t, apiKey, "u", { body, headers });
      const reused = await json(res);
      assert.equal(reused.status, 409, reused.text);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(reused.body.success, false, reused.text);
      assert.equal(reused.body.error.code, "conflict", reused.text);
      assert.match(reused.body.error.message, /Idempotency-Key/, reused.text);
      assert.equal(reused.body.usage, undefined, "a conflict reports no usage");
      assert.equal(res.headers.get("idempotent-replayed"), null);
    }
    // The same body still replays, and only the first call was counted.
    const again = await track(t, apiKey, "u", { body: '{"amount":3}', headers });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.deepEqual((await json(again)).body, first.body);
    const usage = await json(
      await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
    );
    assert.equal(usage.body.usage.count, 3, usage.text);
  });
}

Deno.test("Idempotency-Key: 40 concurrent calls with two amounts count one of them; the other amount gets 409", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const headers = { "idempotency-key": "racing" };
  const responses = await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) => track(t, apiKey, "u", { body: `{"amount":${i % 2 ? 5 : 2}}`, headers }),
    ),
  );
  const answers = await Promise.all(responses.map((r) => json(r)));
  const winner = answers.find((a) => a.status === 200 && a.body.usage.count > 0)!;
  const counted = winner.body.usage.count;
  assert.ok(counted === 2 || counted === 5, winner.text);
  answers.forEach((a, i) => {
    const amount = i % 2 ? 5 : 2;
    if (amount === counted) assert.deepEqual([a.status, a.body], [200, winner.body], a.text);
    else assert.deepEqual([a.status, a.body.error?.code], [409, "conflict"], a.text);
  });
  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "u") }),
  );
  assert.equal(usage.body.usage.count, counted, usage.text);
});

/** The founders' JSON API without Stripe: auth, the paid gate, platform, keys, tiers, CSRF. */
import assert from "node:assert/strict";
import { requireFounder } from "../../lib/middleware/founder.ts";
import { getTiers } from "../../lib/kv/tiers.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { TierConfig } from "../../lib/schemas/tiers.ts";
import {
  founderHeaders,
  json,
  payFounder,
  tenantHeaders,
  type TestApp,
  testApp,
} from "../_helpers/app.ts";

const ORIGIN = "http://localhost:8000";

/** Every route of the founders' API, with a body that would be valid. */
const PROTECTED: Array<{ method: string; path: string; body?: unknown; paid: boolean }> = [
  { method: "GET", path: "/dashboard/api/me", paid: false },
  { method: "POST", path: "/dashboard/api/subscribe", paid: false },
  { method: "POST", path: "/dashboard/api/billing-portal", paid: false },
  { method: "POST", path: "/dashboard/api/platform", body: {}, paid: true },
  { method: "POST", path: "/dashboard/api/keys", body: { graceSeconds: 0 }, paid: true },
  {
    method: "PUT",
    path: "/dashboard/api/tiers",
    body: { tiers: [{ id: "free", name: "Free", price: 0, limit: 10 }] },
    paid: true,
  },
  {
    method: "POST",
    path: "/dashboard/api/stripe",
    body: { secretKey: `sk_test_${"a".repeat(24)}` },
    paid: true,
  },
  { method: "POST", path: "/dashboard/api/stripe/sync", paid: true },
  { method: "GET", path: "/dashboard/api/webhooks", paid: true },
  {
    method: "PUT",
    path: "/dashboard/api/webhooks",
    body: { url: "http://127.0.0.1:9/hook" },
    paid: true,
  },
  { method: "DELETE", path: "/dashboard/api/webhooks", paid: true },
  { method: "POST", path: "/dashboard/api/webhooks/rotate", paid: true },
  { method: "POST", path: "/dashboard/api/webhooks/test", paid: true },
];

async function call(
  t: TestApp,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Response> {
  return await t.app.request(path, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function expectError(res: Response, status: number, code: string) {
  const { body, text } = await json(res);
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  assert.equal(body.success, false, text);
  assert.equal(body.error.code, code, text);
  return body;
}

Deno.test("auth suite: every founders' API route answers 401 unauthorized without a valid session", async () => {
  await using t = await testApp();
  const expired = await t.devSigner!.sign("user_a", { ttlSeconds: -60 });
  const cases: Record<string, Record<string, string>> = {
    "no credentials": {},
    "garbage bearer": { authorization: "Bearer not-a-jwt" },
    "basic auth": { authorization: "Basic dXNlcjpwYXNz" },
    "expired bearer": { authorization: `Bearer ${expired}` },
    "expired cookie": { cookie: `__session=${expired}`, origin: ORIGIN },
    "tenant API key": { authorization: `Bearer dk_live_${"A".repeat(43)}` },
  };
  // Every method+path the app serves under /dashboard/api (including routes added later), with a
  // valid body where we know one: authentication must come before anything else.
  const served = t.app.routes
    .filter((r) => r.path.startsWith("/dashboard/api/") && r.method !== "ALL")
    .map((r) => ({ method: r.method, path: r.path }));
  const known = new Set(PROTECTED.map((r) => `${r.method} ${r.path}`));
  for (const route of PROTECTED) {
    assert.ok(served.some((r) => `${r.method} ${r.path}` === `${route.method} ${route.path}`));
  }
  const all = [
    ...PROTECTED,
    ...served.filter((r) => !known.has(`${r.method} ${r.path}`)).map((r) => ({
      ...r,
      body: undefined,
    })),
  ];
  for (const route of all) {
    for (const [name, headers] of Object.entries(cases)) {
      const res = await call(t, route.method, route.path, headers, route.body);
      const body = await expectError(res, 401, "unauthorized");
      assert.match(body.error.message, /sign in/i, `${name} ${route.method} ${route.path}`);
    }
  }
});

Deno.test("paid gate: configuration answers 402 subscription_required unless active or trialing", async () => {
  await using t = await testApp();
  for (const status of ["none", "past_due", "canceled", "unpaid", "incomplete"] as const) {
    const user = `user_${status}`;
    if (status !== "none") await payFounder(t.kv, user, status);
    const token = await t.signIn(user);
    for (const route of PROTECTED.filter((r) => r.paid)) {
      const res = await call(t, route.method, route.path, founderHeaders(token), route.body);
      const body = await expectError(res, 402, "subscription_required");
      assert.match(body.error.message, new RegExp(status), `${status} ${route.path}`);
    }
    // Reading is always allowed: the dashboard must be able to lead to billing.
    const me = await json(await call(t, "GET", "/dashboard/api/me", founderHeaders(token)));
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.subscription.status, status);
  }
  for (const status of ["active", "trialing"] as const) {
    const user = `user_${status}`;
    await payFounder(t.kv, user, status);
    const res = await call(
      t,
      "POST",
      "/dashboard/api/platform",
      founderHeaders(await t.signIn(user)),
      {},
    );
    assert.equal(res.status, 201, await res.text());
  }
});

Deno.test("GET /dashboard/api/me describes a new founder: no subscription, no platform", async () => {
  await using t = await testApp();
  const res = await call(t, "GET", "/dashboard/api/me", founderHeaders(await t.signIn("user_new")));
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  assert.deepEqual(body, {
    user: { id: "user_new" },
    subscription: { status: "none" },
    platform: null,
  });
});

Deno.test("POST /dashboard/api/platform answers 201 with the key once, then 409 conflict", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_f");
  const headers = founderHeaders(await t.signIn("user_f"));
  const first = await json(await call(t, "POST", "/dashboard/api/platform", headers, {}));
  assert.equal(first.status, 201, first.text);
  assert.match(first.body.platformId, /^plt_[0-9a-z]{16}$/);
  assert.match(first.body.apiKey, /^dk_live_[A-Za-z0-9_-]{43}$/);

  const second = await call(t, "POST", "/dashboard/api/platform", headers, {});
  await expectError(second, 409, "conflict");

  const me = await json(await call(t, "GET", "/dashboard/api/me", headers));
  assert.equal(me.status, 200, me.text);
  assert.deepEqual(me.body.platform, {
    platformId: first.body.platformId,
    keyPrefix: first.body.apiKey.slice(0, 12) + "…",
    tiers: [{ id: "free", name: "Free", price: 0, limit: 100, period: "month" }],
    stripe: { connected: false },
  });
  assert.ok(!me.text.includes(first.body.apiKey), "the key is never shown again");

  // The key works on the tenant API at once.
  const usage = await t.app.request("/api/usage", {
    headers: tenantHeaders(first.body.apiKey, "end_user_1"),
  });
  assert.equal(usage.status, 200, await usage.text());
});

Deno.test("POST /dashboard/api/platform: ten concurrent calls make exactly one platform", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_race");
  const headers = founderHeaders(await t.signIn("user_race"));
  const results = await Promise.all(
    Array.from({ length: 10 }, () => call(t, "POST", "/dashboard/api/platform", headers, {})),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, ...Array(9).fill(409)]);
  let platforms = 0;
  for await (const _ of t.kv.list({ prefix: keys.platforms() })) platforms++;
  assert.equal(platforms, 1);
});

async function founderWithPlatform(t: TestApp, user = "user_k") {
  await payFounder(t.kv, user);
  const headers = founderHeaders(await t.signIn(user));
  const created = await json(await call(t, "POST", "/dashboard/api/platform", headers, {}));
  assert.equal(created.status, 201, created.text);
  return { headers, platformId: created.body.platformId as string, apiKey: created.body.apiKey };
}

async function usageStatus(t: TestApp, apiKey: string): Promise<number> {
  const res = await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "eu_1") });
  await res.body?.cancel();
  return res.status;
}

Deno.test("POST /dashboard/api/keys with graceSeconds: the old key works during the grace, then 401", async () => {
  await using t = await testApp();
  const { headers, apiKey: oldKey } = await founderWithPlatform(t);
  const start = new Date("2026-11-15T12:00:00.000Z");
  const rotated = await json(
    await call(t, "POST", "/dashboard/api/keys", headers, { graceSeconds: 600 }),
  );
  assert.equal(rotated.status, 201, rotated.text);
  assert.match(rotated.body.apiKey, /^dk_live_/);
  assert.notEqual(rotated.body.apiKey, oldKey);

  assert.equal(await usageStatus(t, rotated.body.apiKey), 200);
  assert.equal(await usageStatus(t, oldKey), 200, "old key during grace");
  t.setNow(new Date(start.getTime() + 599_000));
  assert.equal(await usageStatus(t, oldKey), 200, "old key 1 s before the end of grace");
  t.setNow(new Date(start.getTime() + 600_000));
  assert.equal(await usageStatus(t, oldKey), 401, "old key after grace");
  assert.equal(await usageStatus(t, rotated.body.apiKey), 200);

  const me = await json(await call(t, "GET", "/dashboard/api/me", headers));
  assert.equal(me.body.platform.keyPrefix, rotated.body.apiKey.slice(0, 12) + "…");
});

Deno.test("POST /dashboard/api/keys without grace: the old key stops at once (even when cached)", async () => {
  await using t = await testApp();
  const { headers, apiKey: oldKey } = await founderWithPlatform(t);
  assert.equal(await usageStatus(t, oldKey), 200, "warms the tenant cache");
  const rotated = await json(await call(t, "POST", "/dashboard/api/keys", headers));
  assert.equal(rotated.status, 201, rotated.text);
  assert.equal(await usageStatus(t, oldKey), 401);
  assert.equal(await usageStatus(t, rotated.body.apiKey), 200);
});

Deno.test("POST /dashboard/api/keys validates graceSeconds (0–86400) and needs a platform", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_np");
  const noPlatform = founderHeaders(await t.signIn("user_np"));
  await expectError(await call(t, "POST", "/dashboard/api/keys", noPlatform, {}), 404, "not_found");

  const { headers } = await founderWithPlatform(t);
  for (const graceSeconds of [-1, 86_401, 1.5, "60"]) {
    const body = await expectError(
      await call(t, "POST", "/dashboard/api/keys", headers, { graceSeconds }),
      400,
      "invalid_request",
    );
    assert.match(body.error.message, /graceSeconds/);
  }
});

Deno.test("PUT /dashboard/api/tiers saves valid tiers and the tenant API uses them at once", async () => {
  await using t = await testApp();
  const { headers, apiKey } = await founderWithPlatform(t);
  assert.equal(await usageStatus(t, apiKey), 200, "warms the tenant cache with the old tiers");
  const tiers = [
    { id: "free", name: "Free", price: 0, limit: 3, period: "month" },
    { id: "pro", name: "Pro", price: 19, limit: 1000, period: "month" },
  ];
  const res = await json(await call(t, "PUT", "/dashboard/api/tiers", headers, { tiers }));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { tiers });

  const usage = await json(
    await t.app.request("/api/usage", { headers: tenantHeaders(apiKey, "eu_1") }),
  );
  assert.equal(usage.body.usage.limit, 3, usage.text);
});

Deno.test("PUT /dashboard/api/tiers answers 400 invalid_request with field-level details", async () => {
  await using t = await testApp();
  const { headers } = await founderWithPlatform(t);
  const cases: Array<[unknown, string]> = [
    [{ tiers: [] }, "tiers"],
    [{ tiers: [{ id: "Bad Id", name: "X", price: 0, limit: 1 }] }, "tiers.0.id"],
    [{ tiers: [{ id: "free", name: "", price: 0, limit: 1 }] }, "tiers.0.name"],
    [{ tiers: [{ id: "pro", name: "Pro", price: 9, limit: 1 }] }, "tiers"],
    [{ tiers: [{ id: "free", name: "F", price: 0, limit: -1 }] }, "tiers.0.limit"],
    [{
      tiers: [
        { id: "free", name: "F", price: 0, limit: 1 },
        { id: "free", name: "G", price: 0, limit: 2 },
      ],
    }, "tiers.1.id"],
    [{}, "tiers"],
  ];
  for (const [body, path] of cases) {
    const error = await expectError(
      await call(t, "PUT", "/dashboard/api/tiers", headers, body),
      400,
      "invalid_request",
    );
    const paths = (error.error.details as Array<{ path: string }>).map((d) => d.path);
    assert.ok(paths.includes(path), `${JSON.stringify(body)} → ${JSON.stringify(paths)}`);
  }
  const malformed = await t.app.request("/dashboard/api/tiers", {
    method: "PUT",
    headers: { ...headers, "content-type": "application/json" },
    body: "{not json",
  });
  await expectError(malformed, 400, "invalid_request");
});

Deno.test("PUT /dashboard/api/tiers keeps a synced stripePriceId while the price is unchanged and ignores client ones", async () => {
  await using t = await testApp();
  const { headers, platformId } = await founderWithPlatform(t);
  const synced: TierConfig = {
    tiers: [
      { id: "free", name: "Free", price: 0, limit: 100, period: "month" },
      { id: "pro", name: "Pro", price: 29, limit: 1000, period: "month", stripePriceId: "price_A" },
      { id: "max", name: "Max", price: 99, limit: null, period: "month", stripePriceId: "price_B" },
    ],
    updatedAt: new Date().toISOString(),
  };
  await t.kv.set(keys.tiers(platformId), synced);
  const res = await json(
    await call(t, "PUT", "/dashboard/api/tiers", headers, {
      tiers: [
        { id: "free", name: "Free", price: 0, limit: 50, stripePriceId: "price_forged" },
        { id: "pro", name: "Pro plan", price: 29, limit: 2000 },
        { id: "max", name: "Max", price: 149, limit: null },
      ],
    }),
  );
  assert.equal(res.status, 200, res.text);
  const stored = (await getTiers(t.kv, platformId))!.tiers;
  assert.deepEqual(stored.map((x) => [x.id, x.stripePriceId]), [
    ["free", undefined],
    ["pro", "price_A"],
    ["max", undefined],
  ]);
  assert.deepEqual(res.body.tiers, stored);
});

Deno.test("CSRF: cookie-authenticated mutations need our Origin (or Sec-Fetch-Site same-origin); Bearer needs none", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_c");
  const token = await t.signIn("user_c");
  const cookie = { cookie: `__session=${token}` };
  const refused: Record<string, Record<string, string>> = {
    "no Origin, no Sec-Fetch-Site": cookie,
    "another site": { ...cookie, origin: "https://evil.example" },
    "a sibling subdomain": { ...cookie, origin: "http://evil.localhost:8000" },
    "opaque origin": { ...cookie, origin: "null" },
    "same-site fetch": { ...cookie, "sec-fetch-site": "same-site" },
    "cross-site fetch": { ...cookie, "sec-fetch-site": "cross-site" },
  };
  for (const [name, headers] of Object.entries(refused)) {
    const body = await expectError(
      await call(t, "POST", "/dashboard/api/platform", headers, {}),
      403,
      "forbidden",
    );
    assert.match(body.error.message, /CSRF/, name);
  }
  assert.equal(await getTiers(t.kv, "none"), null);
  const me = await json(await call(t, "GET", "/dashboard/api/me", cookie));
  assert.equal(me.body.platform, null, "no refused request created anything");
  assert.equal(me.status, 200, "reads need no Origin");

  const sameOrigin = await call(t, "POST", "/dashboard/api/platform", {
    ...cookie,
    "sec-fetch-site": "same-origin",
  }, {});
  assert.equal(sameOrigin.status, 201, await sameOrigin.text());
  const withOrigin = await call(t, "POST", "/dashboard/api/keys", { ...cookie, origin: ORIGIN });
  assert.equal(withOrigin.status, 201, await withOrigin.text());
  const bearer = await call(t, "POST", "/dashboard/api/keys", founderHeaders(token));
  assert.equal(bearer.status, 201, await bearer.text());
});

Deno.test("POST /sign-in/dev sets an HttpOnly SameSite=Lax __session cookie and 303s to /dashboard", async () => {
  await using t = await testApp();
  const res = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: ORIGIN },
    body: new URLSearchParams({ email: "Ada@Example.com" }),
  });
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get("location"), "/dashboard");
  const setCookie = res.headers.get("set-cookie") ?? "";
  assert.match(setCookie, /^__session=[\w-]+\.[\w-]+\.[\w-]+;/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Lax/);
  assert.match(setCookie, /Path=\//);
  assert.doesNotMatch(setCookie, /Secure/, "http PUBLIC_URL: no Secure flag");

  const token = /^__session=([^;]+)/.exec(setCookie)![1];
  const me = await json(
    await call(t, "GET", "/dashboard/api/me", { cookie: `__session=${token}` }),
  );
  assert.equal(me.status, 200, me.text);
  assert.match(me.body.user.id, /^user_dev_[0-9a-f]{24}$/);

  // The same email (any case) is the same account.
  const again = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: ORIGIN },
    body: new URLSearchParams({ email: "ada@example.com" }),
  });
  const token2 = /^__session=([^;]+)/.exec(again.headers.get("set-cookie") ?? "")![1];
  const me2 = await json(await call(t, "GET", "/dashboard/api/me", founderHeaders(token2)));
  assert.equal(me2.body.user.id, me.body.user.id);
});

Deno.test("POST /sign-in/dev: Secure cookie on https, 400 without a name, 403 cross-site", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: "https://dash.example.com" } });
  const ok = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: "https://dash.example.com" },
    body: new URLSearchParams({ name: "Ada" }),
  });
  assert.equal(ok.status, 303, await ok.text());
  assert.match(ok.headers.get("set-cookie") ?? "", /; Secure/);

  await expectError(
    await t.app.request("/sign-in/dev", {
      method: "POST",
      headers: { origin: "https://dash.example.com" },
      body: new URLSearchParams({ email: "  " }),
    }),
    400,
    "invalid_request",
  );
  const cross = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: "https://evil.example" },
    body: new URLSearchParams({ email: "victim@example.com" }),
  });
  await expectError(cross, 403, "forbidden");
  assert.equal(cross.headers.get("set-cookie"), null);
});

Deno.test("POST /sign-in/dev answers 404 when Clerk is configured (development sign-in off)", async () => {
  await using t = await testApp({
    env: { CLERK_JWT_KEY: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" },
  });
  assert.equal(t.devSigner, null);
  const res = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: ORIGIN },
    body: new URLSearchParams({ email: "a@example.com" }),
  });
  await expectError(res, 404, "not_found");
  assert.equal(res.headers.get("set-cookie"), null);
});

Deno.test("POST /sign-out clears the session cookie and 303s home", async () => {
  await using t = await testApp();
  const res = await t.app.request("/sign-out", {
    method: "POST",
    headers: { origin: ORIGIN, cookie: `__session=${await t.signIn("user_o")}` },
  });
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get("location"), "/");
  assert.match(res.headers.get("set-cookie") ?? "", /^__session=; Max-Age=0; Path=\//);
  await expectError(
    await t.app.request("/sign-out", {
      method: "POST",
      headers: { origin: "https://evil.example" },
    }),
    403,
    "forbidden",
  );
});

Deno.test("requireFounder({ page: true }) redirects signed-out visitors to /sign-in", async () => {
  await using t = await testApp();
  t.app.get("/_test/page", requireFounder({ page: true }), (c) => c.text(c.get("founder").userId));
  const out = await t.app.request("/_test/page");
  assert.equal(out.status, 302);
  assert.equal(out.headers.get("location"), "/sign-in");
  const expired = await t.devSigner!.sign("user_p", { ttlSeconds: -60 });
  const stale = await t.app.request("/_test/page", { headers: { cookie: `__session=${expired}` } });
  assert.equal(stale.status, 302);
  const signedIn = await t.app.request("/_test/page", {
    headers: { cookie: `__session=${await t.signIn("user_p")}` },
  });
  assert.equal(signedIn.status, 200);
  assert.equal(await signedIn.text(), "user_p");
});

Deno.test("a session refusal is logged with its reason but never with the token", async () => {
  await using t = await testApp();
  const expired = await t.devSigner!.sign("user_l", { ttlSeconds: -60 });
  await (await call(t, "GET", "/dashboard/api/me", founderHeaders(expired))).body?.cancel();
  const logs = t.logs.join("\n");
  assert.match(logs, /"reason":"expired"/);
  assert.ok(!logs.includes(expired.split(".")[2]), "no token in logs");
});

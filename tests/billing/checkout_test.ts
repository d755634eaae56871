/**
 * POST /api/create-checkout and POST /api/customer-portal: sessions in the founder's own Stripe,
 * their errors, and the Stripe `Idempotency-Key` that keeps a retried call from opening two.
 */
import assert from "node:assert/strict";
import { UNAUTHORIZED_MESSAGE } from "../../lib/errors.ts";
import { getStripeConnection } from "../../lib/kv/platform_stripe.ts";
import { json, seedPlatform, tenantHeaders } from "../_helpers/app.ts";
import { type Answer, startWorld, subscribe, type World } from "./_world.ts";

const KEY = "sk_test_checkoutFounder0000001";
const URLS = { successUrl: "https://app.example.com/ok", cancelUrl: "https://app.example.com/no" };

function assertError(res: Answer, status: number, code: string, message?: RegExp) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.success, false, res.text);
  assert.equal(res.body.error.code, code, res.text);
  if (message) assert.match(res.body.error.message, message, res.text);
}

/** The Idempotency-Keys our calls sent to the founder's Stripe account (not the SDK's own). */
async function ourStripeKeys(world: World, platformId: string, kind: string): Promise<string[]> {
  const connection = await getStripeConnection(world.t.kv, platformId);
  const account = world.stripe.store.accounts[connection!.accountId];
  return Object.keys(account.idempotency).filter((k) => k.startsWith(`dream-${kind}-`));
}

Deno.test("POST /api/create-checkout opens a subscription Checkout Session in the founder's Stripe", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_checkout", KEY);
  const res = await world.api(founder, "POST", "/api/create-checkout", "eu_1", {
    tier: "pro",
    ...URLS,
    email: "eu1@example.com",
  });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(Object.keys(res.body).sort(), ["sessionId", "url"]);

  const session = await founder.stripe.checkout.sessions.retrieve(res.body.sessionId);
  assert.equal(session.mode, "subscription");
  assert.equal(session.status, "open");
  assert.equal(session.url, res.body.url);
  assert.equal(session.success_url, URLS.successUrl);
  assert.equal(session.cancel_url, URLS.cancelUrl);
  assert.equal(session.customer, null, "no customer known yet");
  assert.equal(session.customer_email, "eu1@example.com");
  assert.equal(session.client_reference_id, "eu_1");
  assert.deepEqual(session.metadata, {
    platformId: founder.platformId,
    userId: "eu_1",
    tier: "pro",
  });
  const items = await founder.stripe.checkout.sessions.listLineItems(session.id);
  assert.deepEqual(items.data.map((i) => [i.price?.id, i.quantity]), [[founder.prices.pro, 1]]);
  assert.equal((await ourStripeKeys(world, founder.platformId, "checkout")).length, 1);
});

Deno.test("create-checkout and customer-portal answer the same 401 as the tenant API without a valid key", async () => {
  await using world = await startWorld();
  for (const path of ["/api/create-checkout", "/api/customer-portal"]) {
    for (
      const headers of [
        { "x-user-id": "u" } as Record<string, string>,
        { authorization: `Bearer dk_live_${"A".repeat(43)}`, "x-user-id": "u" },
      ]
    ) {
      const res = await json(
        await world.t.app.request(path, { method: "POST", headers, body: "{}" }),
      );
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body.error.message, UNAUTHORIZED_MESSAGE);
    }
    const get = await json(await world.t.app.request(path));
    assert.equal(get.status, 405, get.text);
  }
});

Deno.test("create-checkout refuses: unknown, free and unsynced tiers, bad URLs and emails (400), unconnected Stripe (409)", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_errors", KEY, [
    { id: "free", name: "Free", price: 0, limit: 3 },
    { id: "pro", name: "Pro", price: 29, limit: 10 },
  ]);
  // A tier added after sync has no Stripe price yet.
  const token = await world.t.signIn("f_errors");
  const put = await fetch(`${world.url}/dashboard/api/tiers`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      tiers: [
        { id: "free", name: "Free", price: 0, limit: 3 },
        { id: "pro", name: "Pro", price: 29, limit: 10 },
        { id: "gold", name: "Gold", price: 49, limit: 50 },
      ],
    }),
  });
  assert.equal(put.status, 200, await put.text());

  const cases: [string, unknown, RegExp][] = [
    ["unknown tier", { tier: "platinum", ...URLS }, /platinum.*valid: free, pro, gold/],
    ["free tier", { tier: "free", ...URLS }, /free/],
    ["tier without a price", { tier: "gold", ...URLS }, /sync/],
    ["missing tier", { ...URLS }, /tier/],
    ["ftp successUrl", { tier: "pro", ...URLS, successUrl: "ftp://x.example.com/" }, /successUrl/],
    [
      "javascript cancelUrl",
      { tier: "pro", ...URLS, cancelUrl: "javascript:alert(1)" },
      /cancelUrl/,
    ],
    ["relative successUrl", { tier: "pro", ...URLS, successUrl: "/ok" }, /successUrl/],
    ["missing cancelUrl", { tier: "pro", successUrl: URLS.successUrl }, /cancelUrl/],
    ["bad email", { tier: "pro", ...URLS, email: "not-an-email" }, /email/],
  ];
  for (const [name, body, message] of cases) {
    const res = await world.api(founder, "POST", "/api/create-checkout", "eu_1", body);
    assertError(res, 400, "invalid_request", message);
    assert.ok(res.status === 400, name);
  }
  assert.equal((await ourStripeKeys(world, founder.platformId, "checkout")).length, 0);

  // A platform that never connected Stripe.
  const { apiKey } = await seedPlatform(world.t.kv);
  const unconnected = await json(
    await world.t.app.request("/api/create-checkout", {
      method: "POST",
      headers: tenantHeaders(apiKey, "eu_1", { "content-type": "application/json" }),
      body: JSON.stringify({ tier: "pro", ...URLS }),
    }),
  );
  assertError(unconnected, 409, "stripe_not_connected");
  const portal = await json(
    await world.t.app.request("/api/customer-portal", {
      method: "POST",
      headers: tenantHeaders(apiKey, "eu_1"),
      body: JSON.stringify({ returnUrl: "https://app.example.com/" }),
    }),
  );
  assertError(portal, 409, "stripe_not_connected");
});

Deno.test("create-checkout answers 502 stripe_error with Stripe's message when Stripe refuses", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_refused", KEY);
  // The founder archived the price in their Stripe dashboard.
  await founder.stripe.prices.update(founder.prices.pro, { active: false });
  const res = await world.api(founder, "POST", "/api/create-checkout", "eu_1", {
    tier: "pro",
    ...URLS,
  });
  assertError(res, 502, "stripe_error", /price specified is inactive/);
  assert.doesNotMatch(res.text, /sk_test_/);
});

Deno.test("create-checkout answers 409 conflict when the end-user already pays; they go to the portal", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_paying", KEY);
  await subscribe(world, founder, "eu_1");
  const res = await world.api(founder, "POST", "/api/create-checkout", "eu_1", {
    tier: "max",
    ...URLS,
  });
  assertError(res, 409, "conflict", /customer-portal/);
});

Deno.test("a retried create-checkout returns the same session: derived key per 5 minutes, or the client's Idempotency-Key", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_idem", KEY);
  const call = (body: unknown, headers: Record<string, string> = {}) =>
    world.api(founder, "POST", "/api/create-checkout", "eu_1", body, headers);
  const body = { tier: "pro", ...URLS };

  const first = await call(body);
  const retry = await call(body);
  assert.equal(first.status, 200, first.text);
  assert.equal(retry.body.sessionId, first.body.sessionId);
  assert.equal(retry.body.url, first.body.url);

  // Five at once: still one session (Stripe answers 409 to concurrent uses; the SDK retries).
  const burst = await Promise.all(Array.from({ length: 5 }, () => call(body)));
  assert.deepEqual(new Set(burst.map((r) => r.body.sessionId)), new Set([first.body.sessionId]));

  // Other parameters: another session.
  const other = await call({ ...body, successUrl: "https://app.example.com/other" });
  assert.notEqual(other.body.sessionId, first.body.sessionId);

  // Five minutes later a new attempt opens a fresh session.
  world.t.setNow(new Date(world.t.deps.now().getTime() + 5 * 60 * 1000));
  const later = await call(body);
  assert.equal(later.status, 200, later.text);
  assert.notEqual(later.body.sessionId, first.body.sessionId);

  // The client's own Idempotency-Key decides instead of the time.
  const k1 = await call(body, { "idempotency-key": "checkout-attempt-1" });
  world.t.setNow(new Date(world.t.deps.now().getTime() + 60 * 60 * 1000));
  const k1Again = await call(body, { "idempotency-key": "checkout-attempt-1" });
  const k2 = await call(body, { "idempotency-key": "checkout-attempt-2" });
  assert.equal(k1Again.body.sessionId, k1.body.sessionId);
  assert.notEqual(k2.body.sessionId, k1.body.sessionId);
  // The same client key with another body: refused rather than answering for the first body.
  const reused = await call({ ...body, tier: "max" }, { "idempotency-key": "checkout-attempt-1" });
  assertError(reused, 409, "conflict", /Idempotency-Key/);

  const sessions = await founder.stripe.checkout.sessions.list({ limit: 100 });
  assert.equal(sessions.data.length, 5, "first, other, later, k1, k2");
  assert.equal((await ourStripeKeys(world, founder.platformId, "checkout")).length, 5);
});

Deno.test("POST /api/customer-portal: 404 without a Stripe customer, then a portal URL, the same on retry", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_portal", KEY);
  const call = (body: unknown) => world.api(founder, "POST", "/api/customer-portal", "eu_1", body);
  const returnUrl = "https://app.example.com/account";

  assertError(await call({ returnUrl }), 404, "not_found", /create-checkout/);
  await subscribe(world, founder, "eu_1");
  assertError(
    await call({ returnUrl: "mailto:x@example.com" }),
    400,
    "invalid_request",
    /returnUrl/,
  );
  assertError(await call({}), 400, "invalid_request", /returnUrl/);

  const portal = await call({ returnUrl });
  assert.equal(portal.status, 200, portal.text);
  assert.match(portal.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(Object.keys(portal.body), ["url"]);
  assert.match(portal.body.url, /\/portal\/bps_/);
  const retry = await call({ returnUrl });
  assert.equal(retry.body.url, portal.body.url);
  assert.equal((await ourStripeKeys(world, founder.platformId, "portal")).length, 1);

  // Another end-user of the same platform has no customer: still 404.
  const other = await world.api(founder, "POST", "/api/customer-portal", "eu_2", { returnUrl });
  assertError(other, 404, "not_found");
});

Deno.test("return URLs a parser would repair are refused with 400 and reach no Stripe; accepted ones reach Stripe as the parser serialises them", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_urls", KEY);
  const refused: [string, string][] = [
    ["successUrl", "https:evil.example"],
    ["successUrl", "https:/evil.example/ok"],
    ["cancelUrl", "https://a@evil.example"],
    ["cancelUrl", "https://app.example.com/no\r\nLocation: https://evil.example"],
    ["successUrl", "https:\\\\evil.example"],
    ["successUrl", " https://app.example.com/ok"],
    ["cancelUrl", "https://app.example.com/no\t"],
  ];
  for (const [field, url] of refused) {
    const res = await world.api(founder, "POST", "/api/create-checkout", "eu_1", {
      tier: "pro",
      ...URLS,
      [field]: url,
    });
    assertError(res, 400, "invalid_request", new RegExp(`^${field}: `));
  }
  assert.equal((await ourStripeKeys(world, founder.platformId, "checkout")).length, 0);
  assert.equal((await founder.stripe.checkout.sessions.list({ limit: 100 })).data.length, 0);

  const res = await world.api(founder, "POST", "/api/create-checkout", "eu_1", {
    tier: "pro",
    successUrl: "HTTPS://App.Example.COM:443/billing/../done?s={CHECKOUT_SESSION_ID}",
    cancelUrl: "https://bücher.example/zurück",
  });
  assert.equal(res.status, 200, res.text);
  const session = await founder.stripe.checkout.sessions.retrieve(res.body.sessionId);
  assert.equal(session.success_url, "https://app.example.com/done?s={CHECKOUT_SESSION_ID}");
  assert.equal(session.cancel_url, "https://xn--bcher-kva.example/zur%C3%BCck");

  // The portal's returnUrl: the same rules.
  await subscribe(world, founder, "eu_2");
  const portal = (returnUrl: string) =>
    world.api(founder, "POST", "/api/customer-portal", "eu_2", { returnUrl });
  for (
    const url of [
      "https:evil.example",
      "https://user:pw@app.example.com/",
      "https://app.example.com/\n",
    ]
  ) {
    assertError(await portal(url), 400, "invalid_request", /^returnUrl: /);
  }
  assert.equal((await ourStripeKeys(world, founder.platformId, "portal")).length, 0);
  const ok = await portal("https://APP.example.com/account/./settings");
  assert.equal(ok.status, 200, ok.text);
  const connection = await getStripeConnection(world.t.kv, founder.platformId);
  const sessions = Object.values(world.stripe.store.accounts[connection!.accountId].objects)
    .filter((o) => o.object === "billing_portal.session") as unknown as { return_url: string }[];
  assert.deepEqual(sessions.map((s) => s.return_url), ["https://app.example.com/account/settings"]);
});

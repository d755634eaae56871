/**
 * Stripe Connect, dream-api's side: the authorize redirect and its single-use state, the callback
 * (every way it can end), the account index, the Connect webhook path, and disconnecting, against
 * the local Stripe's OAuth application, consent step and Connect endpoint (its `/_test/faults`
 * make Stripe fail on demand), through the real SDK.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { CONTROLLED_BY_ANOTHER_PLATFORM } from "../../dev/stripe/mod.ts";
import { webhookCrypto } from "../../lib/billing/stripe_client.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getStripeConnection } from "../../lib/kv/platform_stripe.ts";
import { getTiers } from "../../lib/kv/tiers.ts";
import { founderHeaders, json, payFounder, tenantHeaders } from "../_helpers/app.ts";
import { OWN_STRIPE_KEY, type StripeTestApp, stripeTestApp } from "../_helpers/stripe.ts";

const TIERS = [
  { id: "free", name: "Free", price: 0, limit: 2 },
  { id: "pro", name: "Pro", price: 29, limit: 1000 },
];

const CHECKOUT = {
  tier: "pro",
  successUrl: "https://app.example.com/ok",
  cancelUrl: "https://app.example.com/no",
};

async function world(env: Record<string, string> = {}): Promise<StripeTestApp> {
  return await stripeTestApp({ connect: true, env });
}

/** A paid founder with a platform and a paid tier; pages with the cookie, the API with Bearer. */
async function founder(f: StripeTestApp, userId = "user_connect") {
  const { t } = f;
  await payFounder(t.kv, userId);
  const token = await t.signIn(userId);
  const api = async (method: string, path: string, body?: unknown) =>
    await json(
      await t.app.request(path, {
        method,
        headers: { ...founderHeaders(token), "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  const page = (path: string) =>
    t.app.request(path, { headers: { cookie: `__session=${token}`, accept: "text/html" } });
  const created = await api("POST", "/dashboard/api/platform", {});
  assert.equal(created.status, 201, created.text);
  const tiers = await api("PUT", "/dashboard/api/tiers", { tiers: TIERS });
  assert.equal(tiers.status, 200, tiers.text);
  const self = {
    userId,
    api,
    page,
    platformId: created.body.platformId as string,
    apiKey: created.body.apiKey as string,
    /** "Connect with Stripe": the authorize URL it redirects to. */
    async authorizeUrl(): Promise<string> {
      const res = await page("/dashboard/stripe/connect");
      assert.equal(res.status, 302, await res.text());
      return res.headers.get("location")!;
    },
    /** The state of a fresh attempt. */
    async start(): Promise<string> {
      return new URL(await self.authorizeUrl()).searchParams.get("state")!;
    },
    callback: (query: Record<string, string>) =>
      page(`/dashboard/stripe/callback?${new URLSearchParams(query)}`),
    /** Stripe's redirect back, followed to dream-api's callback. */
    back: (url: URL) => page(`${url.pathname}${url.search}`),
    /** The whole consent: approve on the local Stripe's page, come back; the callback's answer. */
    async connect(choice: { account: string } | { newAccountName: string }) {
      const back = await f.local.approveConnect(await self.authorizeUrl(), choice);
      return await self.back(back);
    },
    /** The code of an approved consent, without coming back yet. */
    async code(choice: { account: string } | { newAccountName: string }, state: string) {
      const url = new URL(await self.authorizeUrl());
      url.searchParams.set("state", state);
      const back = await f.local.approveConnect(url.toString(), choice);
      return back.searchParams.get("code")!;
    },
  };
  return self;
}

/** The account id the platform is connected to (after a successful callback). */
async function accountOf(f: StripeTestApp, platformId: string): Promise<string> {
  const connection = await getStripeConnection(f.t.kv, platformId);
  assert.ok(connection, "connected");
  return connection.accountId;
}

/** Every Connect record of KV: connections, account index. Equal means nothing written. */
async function connectSnapshot(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of ["platform_stripe", "platform_by_stripe_account"]) {
    for await (const e of kv.list({ prefix: [prefix] })) {
      out.push(`${JSON.stringify(e.key)} ${JSON.stringify(e.value)}`);
    }
  }
  return out;
}

async function signedConnectEvent(
  f: StripeTestApp,
  event: Record<string, unknown>,
  secret = f.connectWebhookSecret!,
) {
  const payload = JSON.stringify({
    object: "event",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    ...event,
  });
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    cryptoProvider: webhookCrypto,
  });
  return await json(
    await f.t.app.request("/webhook/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    }),
  );
}

async function checkout(f: StripeTestApp, apiKey: string, userId: string) {
  return await json(
    await f.t.app.request("/api/create-checkout", {
      method: "POST",
      headers: { ...tenantHeaders(apiKey, userId), "content-type": "application/json" },
      body: JSON.stringify(CHECKOUT),
    }),
  );
}

Deno.test("GET /dashboard/stripe/connect redirects to Stripe's authorize URL with a state bound to the founder", async () => {
  await using f = await world();
  const a = await founder(f);
  const location = new URL(await a.authorizeUrl());
  assert.equal(`${location.origin}${location.pathname}`, `${f.local.url}/oauth/authorize`);
  const q = location.searchParams;
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("client_id"), f.connectClientId);
  assert.equal(q.get("scope"), "read_write");
  assert.equal(q.get("redirect_uri"), "http://localhost:8000/dashboard/stripe/callback");
  const state = q.get("state")!;
  assert.match(state, /^[A-Za-z0-9_-]{43}$/);
  const stored = await f.t.kv.get<{ userId: string; platformId: string }>(
    keys.connectState(state),
  );
  assert.equal(stored.value?.userId, a.userId);
  assert.equal(stored.value?.platformId, a.platformId);
  // Each attempt its own state.
  assert.notEqual(await a.start(), state);
});

Deno.test("approving on Stripe's consent page connects: Connected with the account id and name, synced in that account, no secret stored", async () => {
  await using f = await world();
  const a = await founder(f);
  const res = await a.connect({ newAccountName: "Acme Studio" });
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get("location"), "/dashboard/settings?stripe=connected#stripe");
  const accountId = await accountOf(f, a.platformId);
  assert.match(accountId, /^acct_/);

  const view = await a.api("GET", "/dashboard/api/stripe");
  assert.equal(view.status, 200, view.text);
  assert.deepEqual(view.body, {
    connected: true,
    mode: "connect",
    accountId,
    displayName: "Acme Studio",
    livemode: false,
  });
  const me = await a.api("GET", "/dashboard/api/me");
  assert.deepEqual(me.body.platform.stripe, view.body);

  const connection = await getStripeConnection(f.t.kv, a.platformId);
  assert.equal(connection?.secretKey, undefined);
  assert.equal(connection?.keyLast4, undefined);
  assert.equal(connection?.webhook, null, "no endpoint in a connected account");
  assert.doesNotMatch(JSON.stringify(connection), /sk_test_|rt_/, "no token is kept");
  assert.equal((await f.t.kv.get(keys.platformByStripeAccount(accountId))).value, a.platformId);

  // Synced in the connected account, not in dream-api's own.
  const priceId = (await getTiers(f.t.kv, a.platformId))!.tiers.find((t) => t.id === "pro")!
    .stripePriceId!;
  const own = f.stripe(OWN_STRIPE_KEY);
  const price = await own.prices.retrieve(priceId, {}, { stripeAccount: accountId });
  assert.equal(price.unit_amount, 2900);
  await assert.rejects(own.prices.retrieve(priceId), /No such price/);
  const endpoints = await own.webhookEndpoints.list({}, { stripeAccount: accountId });
  assert.deepEqual(endpoints.data, [], "its events come through the Connect endpoint");

  const settings = await a.page("/dashboard/settings?stripe=connected");
  const html = await settings.text();
  assert.equal(settings.status, 200);
  assert.match(html, /data-testid="connect-return"/);
  assert.match(html, /Connected with Stripe/);
  assert.ok(html.includes(accountId) && html.includes("Acme Studio"), "account id and name");

  // The overview's Stripe card says how it is connected, and to which account.
  const overview = await (await a.page("/dashboard")).text();
  const card = overview.slice(overview.indexOf('data-testid="stripe-card"'));
  assert.match(card, /Connected by<\/dt><dd[^>]*>Stripe Connect</, card.slice(0, 2000));
  assert.ok(card.includes("Acme Studio") && card.includes(accountId), card.slice(0, 2000));
});

Deno.test("a forged, reused, expired or another founder's state is 400 and stores nothing", async () => {
  await using f = await world();
  const a = await founder(f, "user_a");
  const b = await founder(f, "user_b");
  const before = await connectSnapshot(f.t.kv);
  const tokenCalls = async () => (await f.local.deliveries()).length; // unchanged below

  // Forged: never issued (well-formed or not), or missing.
  const calls = await tokenCalls();
  for (const state of ["x".repeat(43), "not-a-state", ""]) {
    const code = await a.code({ newAccountName: "Forged" }, state || "s");
    const res = await a.callback(state ? { code, state } : { code });
    assert.equal(res.status, 400, `state '${state}'`);
    assert.match(await res.text(), /not valid/);
  }

  // Another founder's: refused for b (and not spent: a can still use it once).
  const aState = await a.start();
  const aCode = await a.code({ newAccountName: "Acme" }, aState);
  const stolen = await b.callback({ code: aCode, state: aState });
  assert.equal(stolen.status, 400);
  await stolen.body?.cancel();

  // Expired: 10 minutes and a second later.
  const late = await a.start();
  const lateCode = await a.code({ newAccountName: "Late" }, late);
  f.t.setNow(new Date(f.t.deps.now().getTime() + 10 * 60 * 1000 + 1000));
  const expired = await a.callback({ code: lateCode, state: late });
  assert.equal(expired.status, 400);
  assert.match(await expired.text(), /expired/);
  f.t.setNow(new Date("2026-11-15T12:00:00.000Z"));

  assert.deepEqual(await connectSnapshot(f.t.kv), before);
  assert.equal(await tokenCalls(), calls);

  // a's own state, once: it connects; the same state again is refused.
  const own = await a.callback({ code: aCode, state: aState });
  assert.equal(own.status, 303, await own.text());
  const accountId = await accountOf(f, a.platformId);
  const again = await a.callback({
    code: await a.code({ newAccountName: "Other" }, aState),
    state: aState,
  });
  assert.equal(again.status, 400);
  await again.body?.cancel();
  assert.equal(await accountOf(f, a.platformId), accountId);
});

Deno.test("two callbacks racing with one state: exactly one connects", async () => {
  await using f = await world();
  const a = await founder(f);
  const state = await a.start();
  const codes = [
    await a.code({ newAccountName: "One" }, state),
    await a.code({ newAccountName: "Two" }, state),
  ];
  const answers = await Promise.all(codes.map((code) => a.callback({ code, state })));
  const statuses = answers.map((r) => r.status).sort();
  for (const r of answers) await r.body?.cancel();
  assert.deepEqual(statuses, [303, 400]);
  assert.equal((await connectSnapshot(f.t.kv)).length, 2, "one connection, one index entry");
});

Deno.test("a denied consent comes back as a clear page and stores nothing", async () => {
  await using f = await world();
  const a = await founder(f);
  const before = await connectSnapshot(f.t.kv);
  const back = await f.local.denyConnect(await a.authorizeUrl());
  assert.equal(back.searchParams.get("error"), "access_denied");
  const res = await a.back(back);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /data-reason="denied"/);
  assert.match(html, /You declined the connection in Stripe, so nothing was connected/);
  assert.match(html, /href="\/dashboard\/stripe\/connect"/, "offers to try again");
  assert.deepEqual(await connectSnapshot(f.t.kv), before);
});

Deno.test("Stripe down or failing at the token exchange: 503 with a clear page, nothing stored", async () => {
  await using f = await world();
  const a = await founder(f);
  const before = await connectSnapshot(f.t.kv);

  await f.local.injectFault({ path: "/oauth/token", down: true });
  const down = await a.connect({ newAccountName: "Acme" });
  assert.equal(down.status, 503);
  assert.ok(down.headers.get("retry-after"));
  assert.match(await down.text(), /Stripe could not be reached/);

  await f.local.clearFaults();
  await f.local.injectFault({ path: "/oauth/token", status: 500 });
  const failing = await a.connect({ newAccountName: "Acme" });
  assert.equal(failing.status, 503);
  assert.match(await failing.text(), /Stripe answered 500/);
  assert.deepEqual(await connectSnapshot(f.t.kv), before);

  // Nothing listens on the Connect URL at all.
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using g = await world({ STRIPE_CONNECT_URL: `http://127.0.0.1:${port}` });
  const c = await founder(g);
  const nowhere = await c.callback({ code: "ac_1", state: await c.start() });
  assert.equal(nowhere.status, 503);
  await nowhere.body?.cancel();
  assert.equal(await getStripeConnection(g.t.kv, c.platformId), null);
});

Deno.test("Stripe refusing to connect shows Stripe's reason and offers the pasted key", async () => {
  await using f = await world();
  const a = await founder(f);
  // The token step refusing (e.g. an account another platform controls, Stripe's 2021 rule).
  await f.local.injectFault({
    path: "/oauth/token",
    status: 400,
    body: { error: "invalid_grant", error_description: CONTROLLED_BY_ANOTHER_PLATFORM },
  });
  const res = await a.connect({ newAccountName: "Acme" });
  assert.equal(res.status, 422);
  const html = await res.text();
  assert.ok(html.includes(CONTROLLED_BY_ANOTHER_PLATFORM), html);
  assert.match(html, /restricted key/);
  assert.match(html, /href="\/dashboard\/settings#stripe"/);
  await f.local.clearFaults();

  // The same refusal on the redirect back (any error but access_denied) reads the same way.
  const direct = await a.callback({
    error: "invalid_request",
    error_description: CONTROLLED_BY_ANOTHER_PLATFORM,
    state: await a.start(),
  });
  assert.equal(direct.status, 422);
  assert.ok((await direct.text()).includes(CONTROLLED_BY_ANOTHER_PLATFORM));
  assert.equal(await getStripeConnection(f.t.kv, a.platformId), null);
});

Deno.test("two founders connecting the same Stripe account: the second is refused with a clear message", async () => {
  await using f = await world();
  const a = await founder(f, "user_a");
  const b = await founder(f, "user_b");
  assert.equal((await a.connect({ newAccountName: "Shared" })).status, 303);
  const accountId = await accountOf(f, a.platformId);
  const res = await b.connect({ account: accountId });
  assert.equal(res.status, 409);
  assert.match(await res.text(), /already connected to another dream-api platform/);
  assert.equal(await getStripeConnection(f.t.kv, b.platformId), null);
  assert.equal((await f.t.kv.get(keys.platformByStripeAccount(accountId))).value, a.platformId);
  assert.equal(await accountOf(f, a.platformId), accountId);
  assert.ok(await f.local.connection(accountId), "the first founder's grant is not revoked");
});

Deno.test("switching from a pasted key to Connect deletes the key and the webhook endpoint it made", async () => {
  await using f = await world();
  const a = await founder(f);
  const key = "sk_test_founder_switching";
  assert.equal((await a.api("POST", "/dashboard/api/stripe", { secretKey: key })).status, 200);
  const synced = await a.api("POST", "/dashboard/api/stripe/sync");
  assert.equal(synced.status, 200, synced.text);
  const endpointId = synced.body.webhook.id as string;
  const byKey = f.stripe(key);
  assert.equal((await byKey.webhookEndpoints.retrieve(endpointId)).id, endpointId);

  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const connection = await getStripeConnection(f.t.kv, a.platformId);
  assert.equal(connection?.mode, "connect");
  assert.equal(connection?.secretKey, undefined);
  assert.equal(connection?.keyLast4, undefined);
  await assert.rejects(byKey.webhookEndpoints.retrieve(endpointId), /No such webhook_endpoint/);

  // While connected with Connect, pasting a key is refused: disconnect first.
  const paste = await a.api("POST", "/dashboard/api/stripe", { secretKey: key });
  assert.equal(paste.status, 409, paste.text);
  assert.equal(paste.body.error.code, "conflict");
});

Deno.test("a connected platform's checkout is made in the connected account with dream-api's key and Stripe-Account", async () => {
  await using f = await world();
  const a = await founder(f);
  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const accountId = await accountOf(f, a.platformId);
  const made: Array<{ key: string; account?: string }> = [];
  const real = f.t.deps.stripeFor;
  f.t.deps.stripeFor = (key, options) => {
    made.push({ key, account: options?.stripeAccount });
    return real(key, options);
  };
  const res = await checkout(f, a.apiKey, "end_user_1");
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(made, [{ key: OWN_STRIPE_KEY, account: accountId }]);
  const own = f.stripe(OWN_STRIPE_KEY);
  const session = await own.checkout.sessions.retrieve(res.body.sessionId, {}, {
    stripeAccount: accountId,
  });
  assert.equal(session.metadata?.userId, "end_user_1");
  await assert.rejects(own.checkout.sessions.retrieve(res.body.sessionId), /No such/);
});

Deno.test("POST /webhook/stripe: a Connect event for an account no platform connected is acknowledged and ignored", async () => {
  await using f = await world();
  const a = await founder(f);
  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const before = await connectSnapshot(f.t.kv);
  for (const account of ["acct_1Stranger", undefined]) {
    const res = await signedConnectEvent(f, {
      id: `evt_unknown_${account}`,
      type: "customer.subscription.updated",
      ...(account && { account }),
      data: { object: { id: "sub_1", object: "subscription" } },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { received: true, outcome: "unknown_account" });
  }
  assert.deepEqual(await connectSnapshot(f.t.kv), before);
});

Deno.test("POST /webhook/stripe without ?platform=: a signature that is not the Connect secret's falls back to the old lookup (400 here)", async () => {
  await using f = await world();
  const a = await founder(f);
  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const accountId = await accountOf(f, a.platformId);
  const res = await signedConnectEvent(f, {
    id: "evt_forged",
    type: "account.application.deauthorized",
    account: accountId,
    data: { object: { id: f.connectClientId, object: "application" } },
  }, "whsec_not_the_connect_secret");
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.error.code, "invalid_request");
  assert.equal(await accountOf(f, a.platformId), accountId);
});

Deno.test("revoked in Stripe (account.application.deauthorized): disconnected, billing answers 409 stripe_not_connected, counting goes on", async () => {
  await using f = await world();
  const a = await founder(f);
  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const accountId = await accountOf(f, a.platformId);

  const revoked = await f.local.revokeConnection(accountId);
  const delivery = revoked.deliveries.find((d) => d.url === "http://localhost:8000/webhook/stripe");
  assert.ok(delivery, JSON.stringify(revoked.deliveries));
  assert.equal(delivery.status, 200, delivery.response);
  assert.match(delivery.response, /"outcome":"disconnected"/);
  assert.equal(await getStripeConnection(f.t.kv, a.platformId), null);
  assert.equal((await f.t.kv.get(keys.platformByStripeAccount(accountId))).value, null);
  const tiers = await getTiers(f.t.kv, a.platformId);
  assert.ok(tiers!.tiers.every((t) => !t.stripePriceId), "the prices were the old account's");
  assert.deepEqual((await a.api("GET", "/dashboard/api/stripe")).body, { connected: false });

  // A redelivery: the account is no one's now.
  const again = await f.local.redeliverEvent(revoked.events[0].id);
  assert.match(again[0].response, /"outcome":"unknown_account"/);

  const refused = await checkout(f, a.apiKey, "end_user_1");
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.error.code, "stripe_not_connected");
  const counted = await json(
    await f.t.app.request("/api/data", {
      method: "POST",
      headers: tenantHeaders(a.apiKey, "end_user_1"),
    }),
  );
  assert.equal(counted.status, 200, counted.text);
});

Deno.test("the Disconnect button: Connect is revoked at Stripe, a pasted key and its endpoint are deleted", async () => {
  await using f = await world();
  const a = await founder(f);
  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const accountId = await accountOf(f, a.platformId);

  // Stripe down: nothing changes, and the founder is told to retry.
  await f.local.injectFault({ path: "/oauth/deauthorize", status: 503 });
  const down = await a.api("POST", "/dashboard/api/stripe/disconnect");
  assert.equal(down.status, 503, down.text);
  assert.equal(down.body.error.code, "unavailable");
  assert.equal(await accountOf(f, a.platformId), accountId);
  await f.local.clearFaults();

  const res = await a.api("POST", "/dashboard/api/stripe/disconnect");
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { connected: false });
  assert.equal(await f.local.connection(accountId), null, "revoked at Stripe");
  assert.equal(await getStripeConnection(f.t.kv, a.platformId), null);
  assert.equal((await f.t.kv.get(keys.platformByStripeAccount(accountId))).value, null);
  const nothing = await a.api("POST", "/dashboard/api/stripe/disconnect");
  assert.equal(nothing.status, 409, nothing.text);
  assert.equal(nothing.body.error.code, "stripe_not_connected");

  // A pasted key: the key and the endpoint it made are deleted.
  const key = "sk_test_founder_leaving";
  assert.equal((await a.api("POST", "/dashboard/api/stripe", { secretKey: key })).status, 200);
  const synced = await a.api("POST", "/dashboard/api/stripe/sync");
  const endpointId = synced.body.webhook.id as string;
  const byKey = await a.api("POST", "/dashboard/api/stripe/disconnect");
  assert.equal(byKey.status, 200, byKey.text);
  assert.equal(await getStripeConnection(f.t.kv, a.platformId), null);
  await assert.rejects(
    f.stripe(key).webhookEndpoints.retrieve(endpointId),
    /No such webhook_endpoint/,
  );
});

Deno.test("the Connect button shows only where Connect is configured", async () => {
  {
    await using f = await world();
    const a = await founder(f);
    const html = await (await a.page("/dashboard/settings")).text();
    assert.match(html, /Connect with Stripe/);
    assert.match(html, /href="\/dashboard\/stripe\/connect"/);
    assert.match(html, /Webhook Endpoints <strong>Write<\/strong>/, "the key's permissions");
  }
  {
    await using f = await stripeTestApp();
    const a = await founder(f);
    const html = await (await a.page("/dashboard/settings")).text();
    assert.doesNotMatch(html, /href="\/dashboard\/stripe\/connect"/);
    assert.match(html, /restricted key/);
    const start = await a.page("/dashboard/stripe/connect");
    assert.equal(start.status, 404);
    assert.match(await start.text(), /not configured on this server/);
  }
});

Deno.test("a connected account's subscription events reach dream-api through the Connect endpoint: the plan rises, a redelivery is a duplicate, the portal opens in that account", async () => {
  await using f = await world();
  const a = await founder(f);
  assert.equal((await a.connect({ newAccountName: "Acme" })).status, 303);
  const accountId = await accountOf(f, a.platformId);
  const started = await checkout(f, a.apiKey, "reader_1");
  assert.equal(started.status, 200, started.text);
  const paid = await f.local.payCheckout(started.body.sessionId);
  const connectDeliveries = paid.deliveries.filter((d) =>
    d.url === "http://localhost:8000/webhook/stripe"
  );
  assert.ok(connectDeliveries.length >= 2, JSON.stringify(paid.deliveries));
  for (const d of connectDeliveries) {
    assert.equal(d.status, 200, `${d.type}: ${d.response}`);
    assert.equal(d.account, accountId);
  }
  assert.ok(connectDeliveries.some((d) => /"outcome":"applied"/.test(d.response)));

  const usage = await json(
    await f.t.app.request("/api/usage", { headers: tenantHeaders(a.apiKey, "reader_1") }),
  );
  assert.equal(usage.body.plan, "pro", usage.text);
  assert.equal(usage.body.planSource, "subscription", usage.text);

  const again = await f.local.redeliverEvent(connectDeliveries[0].event);
  assert.match(again[0].response, /"outcome":"duplicate"/);

  const portal = await json(
    await f.t.app.request("/api/customer-portal", {
      method: "POST",
      headers: { ...tenantHeaders(a.apiKey, "reader_1"), "content-type": "application/json" },
      body: JSON.stringify({ returnUrl: "https://app.example.com/account" }),
    }),
  );
  assert.equal(portal.status, 200, portal.text);
});

/**
 * Stripe Connect, dream-api's side: the authorize redirect and its single-use state, the callback
 * (every way it can end), the account index, the Connect webhook path, and disconnecting. Stripe's
 * OAuth endpoints are a small double (tests/dashboard/_oauth_double.ts) where a case needs a
 * failure on demand; the API is the local Stripe, through the real SDK.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { webhookCrypto } from "../../lib/billing/stripe_client.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getStripeConnection } from "../../lib/kv/platform_stripe.ts";
import { getTiers } from "../../lib/kv/tiers.ts";
import { founderHeaders, json, payFounder, tenantHeaders } from "../_helpers/app.ts";
import { type StripeTestApp, stripeTestApp } from "../_helpers/stripe.ts";
import { type OAuthDouble, startOAuthDouble } from "./_oauth_double.ts";

const CLIENT_ID = "ca_dreamapi_tests";
const CONNECT_SECRET = "whsec_connect_tests";
const ACCOUNT = "acct_1ConnectedAcme";

const TIERS = [
  { id: "free", name: "Free", price: 0, limit: 2 },
  { id: "pro", name: "Pro", price: 29, limit: 1000 },
];

interface World extends AsyncDisposable {
  f: StripeTestApp;
  oauth: OAuthDouble;
}

async function world(env: Record<string, string> = {}): Promise<World> {
  const oauth = startOAuthDouble();
  const f = await stripeTestApp({
    env: {
      STRIPE_CONNECT_CLIENT_ID: CLIENT_ID,
      STRIPE_CONNECT_WEBHOOK_SECRET: CONNECT_SECRET,
      STRIPE_CONNECT_URL: oauth.url,
      ...env,
    },
  });
  return {
    f,
    oauth,
    async [Symbol.asyncDispose]() {
      await f[Symbol.asyncDispose]();
      await oauth[Symbol.asyncDispose]();
    },
  };
}

/** A paid founder with a platform and a paid tier; pages with the cookie, the API with Bearer. */
async function founder(w: World, userId = "user_connect") {
  const { t } = w.f;
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
  return {
    userId,
    api,
    page,
    platformId: created.body.platformId as string,
    apiKey: created.body.apiKey as string,
    /** "Connect with Stripe": the state in the authorize URL. */
    async start(): Promise<string> {
      const res = await page("/dashboard/stripe/connect");
      assert.equal(res.status, 302, await res.text());
      return new URL(res.headers.get("location")!).searchParams.get("state")!;
    },
    callback: (query: Record<string, string>) =>
      page(`/dashboard/stripe/callback?${new URLSearchParams(query)}`),
  };
}

/** Every Connect record of KV: connections, account index, states. Equal means nothing written. */
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
  w: World,
  event: Record<string, unknown>,
  secret = CONNECT_SECRET,
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
    await w.f.t.app.request("/webhook/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    }),
  );
}

Deno.test("GET /dashboard/stripe/connect redirects to Stripe's authorize URL with a state bound to the founder", async () => {
  await using w = await world();
  const a = await founder(w);
  const res = await a.page("/dashboard/stripe/connect");
  assert.equal(res.status, 302);
  const location = new URL(res.headers.get("location")!);
  assert.equal(`${location.origin}${location.pathname}`, `${w.oauth.url}/oauth/authorize`);
  const q = location.searchParams;
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("client_id"), CLIENT_ID);
  assert.equal(q.get("scope"), "read_write");
  assert.equal(q.get("redirect_uri"), "http://localhost:8000/dashboard/stripe/callback");
  const state = q.get("state")!;
  assert.match(state, /^[A-Za-z0-9_-]{43}$/);
  const stored = await w.f.t.kv.get<{ userId: string; platformId: string }>(
    keys.connectState(state),
  );
  assert.equal(stored.value?.userId, a.userId);
  assert.equal(stored.value?.platformId, a.platformId);
  // Each attempt its own state.
  assert.notEqual(await a.start(), state);
});

Deno.test("the callback with a code connects: Connected with the account id and name, synced, no secret stored", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_good", { accountId: ACCOUNT });
  const res = await a.callback({ code: "ac_good", state: await a.start() });
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get("location"), "/dashboard/settings?stripe=connected#stripe");

  const token = w.oauth.calls.find((c) => c.path === "/oauth/token")!;
  assert.equal(token.authorization, `Bearer ${w.f.t.deps.config.stripe.secretKey}`);
  assert.deepEqual(token.form, { grant_type: "authorization_code", code: "ac_good" });

  const view = await a.api("GET", "/dashboard/api/stripe");
  assert.equal(view.status, 200, view.text);
  assert.equal(view.body.connected, true, view.text);
  assert.equal(view.body.mode, "connect", view.text);
  assert.equal(view.body.accountId, ACCOUNT, view.text);
  assert.equal(view.body.keyLast4, undefined, view.text);
  const me = await a.api("GET", "/dashboard/api/me");
  assert.deepEqual(me.body.platform.stripe, view.body);

  const connection = await getStripeConnection(w.f.t.kv, a.platformId);
  assert.equal(connection?.mode, "connect");
  assert.equal(connection?.secretKey, undefined);
  assert.equal(connection?.webhook, null, "no endpoint in a connected account");
  assert.ok(!JSON.stringify(connection).includes("sk_test_access_not_kept"));
  assert.ok(!JSON.stringify(connection).includes("rt_not_kept"));
  const index = await w.f.t.kv.get(keys.platformByStripeAccount(ACCOUNT));
  assert.equal(index.value, a.platformId);
  const tiers = await getTiers(w.f.t.kv, a.platformId);
  assert.match(tiers!.tiers.find((t) => t.id === "pro")!.stripePriceId ?? "", /^price_/);

  const settings = await a.page("/dashboard/settings?stripe=connected");
  const html = await settings.text();
  assert.equal(settings.status, 200);
  assert.match(html, /data-testid="connect-return"/);
  assert.match(html, /Connected with Stripe/);
  assert.ok(html.includes(ACCOUNT), "the account id is shown");
});

Deno.test("a forged, reused, expired or another founder's state is 400 and stores nothing", async () => {
  await using w = await world();
  const a = await founder(w, "user_a");
  const b = await founder(w, "user_b");
  const before = await connectSnapshot(w.f.t.kv);

  // Forged: never issued (well-formed or not), or missing.
  for (
    const state of ["x".repeat(43), "not-a-state", ""]
  ) {
    w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
    const res = await a.callback(state ? { code: "ac_1", state } : { code: "ac_1" });
    assert.equal(res.status, 400, `state '${state}'`);
    assert.match(await res.text(), /not valid/);
  }

  // Another founder's: refused for b, still usable once by a.
  const aState = await a.start();
  const stolen = await b.callback({ code: "ac_1", state: aState });
  assert.equal(stolen.status, 400);
  await stolen.body?.cancel();

  // Expired: 10 minutes and a second later.
  const late = await a.start();
  w.f.t.setNow(new Date(w.f.t.deps.now().getTime() + 10 * 60 * 1000 + 1000));
  const expired = await a.callback({ code: "ac_1", state: late });
  assert.equal(expired.status, 400);
  assert.match(await expired.text(), /expired/);

  assert.deepEqual(await connectSnapshot(w.f.t.kv), before);
  assert.equal(w.oauth.calls.length, 0, "Stripe is never called for a refused state");

  // Reused: the first use connects, the second is refused.
  w.f.t.setNow(new Date("2026-11-15T12:00:00.000Z"));
  const fresh = await a.start();
  const first = await a.callback({ code: "ac_1", state: fresh });
  assert.equal(first.status, 303);
  w.oauth.codes.set("ac_2", { accountId: "acct_1Other" });
  const again = await a.callback({ code: "ac_2", state: fresh });
  assert.equal(again.status, 400);
  await again.body?.cancel();
  assert.equal((await getStripeConnection(w.f.t.kv, a.platformId))?.accountId, ACCOUNT);
  // b's refused attempt did not spend a's state: a's own callback still works (once).
  w.oauth.codes.set("ac_3", { accountId: ACCOUNT });
  const own = await a.callback({ code: "ac_3", state: aState });
  assert.equal(own.status, 303);
});

Deno.test("two callbacks racing with one state: exactly one connects", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_x", { accountId: ACCOUNT });
  w.oauth.codes.set("ac_y", { accountId: ACCOUNT });
  const state = await a.start();
  const answers = await Promise.all([
    a.callback({ code: "ac_x", state }),
    a.callback({ code: "ac_y", state }),
  ]);
  const statuses = answers.map((r) => r.status).sort();
  for (const r of answers) await r.body?.cancel();
  assert.deepEqual(statuses, [303, 400]);
  assert.equal(w.oauth.calls.filter((c) => c.path === "/oauth/token").length, 1);
});

Deno.test("a denied consent comes back as a clear page and stores nothing", async () => {
  await using w = await world();
  const a = await founder(w);
  const before = await connectSnapshot(w.f.t.kv);
  const res = await a.callback({
    error: "access_denied",
    error_description: "The user denied your request",
    state: await a.start(),
  });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /data-reason="denied"/);
  assert.match(html, /You declined the connection in Stripe, so nothing was connected/);
  assert.match(html, /href="\/dashboard\/stripe\/connect"/, "offers to try again");
  assert.deepEqual(await connectSnapshot(w.f.t.kv), before);
  assert.equal(w.oauth.calls.length, 0);
});

Deno.test("Stripe down at the token exchange: 503 with a clear page, nothing stored", async () => {
  // Nothing listens on the Connect URL at all.
  const closed = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using w = await world({ STRIPE_CONNECT_URL: `http://127.0.0.1:${port}` });
  const a = await founder(w);
  const before = await connectSnapshot(w.f.t.kv);
  const down = await a.callback({ code: "ac_1", state: await a.start() });
  assert.equal(down.status, 503);
  assert.ok(down.headers.get("retry-after"));
  assert.match(await down.text(), /Stripe could not be reached/);
  assert.deepEqual(await connectSnapshot(w.f.t.kv), before);
});

Deno.test("Stripe failing with a 5xx at the token exchange: 503, nothing stored", async () => {
  await using w = await world();
  const a = await founder(w);
  const before = await connectSnapshot(w.f.t.kv);
  w.oauth.failing = 500;
  w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
  const res = await a.callback({ code: "ac_1", state: await a.start() });
  assert.equal(res.status, 503);
  assert.match(await res.text(), /Stripe answered 500/);
  assert.deepEqual(await connectSnapshot(w.f.t.kv), before);
});

Deno.test("Stripe refusing the account (controlled by another platform) shows Stripe's reason and offers the pasted key", async () => {
  await using w = await world();
  const a = await founder(w);
  const reason = "You cannot connect this account: it is already controlled by another platform.";
  w.oauth.codes.set("ac_owned", { status: 400, error: "invalid_request", description: reason });
  const res = await a.callback({ code: "ac_owned", state: await a.start() });
  assert.equal(res.status, 422);
  const html = await res.text();
  assert.ok(html.includes(reason.replace(":", ":")), html);
  assert.match(html, /restricted key/);
  assert.match(html, /href="\/dashboard\/settings#stripe"/);

  // The same refusal straight on the redirect (Stripe's authorize step) reads the same way.
  const direct = await a.callback({
    error: "invalid_request",
    error_description: reason,
    state: await a.start(),
  });
  assert.equal(direct.status, 422);
  assert.ok((await direct.text()).includes(reason));
  assert.equal(await getStripeConnection(w.f.t.kv, a.platformId), null);
});

Deno.test("two founders connecting the same Stripe account: the second is refused with a clear message", async () => {
  await using w = await world();
  const a = await founder(w, "user_a");
  const b = await founder(w, "user_b");
  w.oauth.codes.set("ac_a", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_a", state: await a.start() })).status, 303);
  w.oauth.codes.set("ac_b", { accountId: ACCOUNT });
  const res = await b.callback({ code: "ac_b", state: await b.start() });
  assert.equal(res.status, 409);
  assert.match(await res.text(), /already connected to another dream-api platform/);
  assert.equal(await getStripeConnection(w.f.t.kv, b.platformId), null);
  assert.equal((await w.f.t.kv.get(keys.platformByStripeAccount(ACCOUNT))).value, a.platformId);
  assert.equal((await getStripeConnection(w.f.t.kv, a.platformId))?.accountId, ACCOUNT);
  assert.ok(
    !w.oauth.calls.some((c) => c.path === "/oauth/deauthorize"),
    "the first founder's grant is not revoked",
  );
});

Deno.test("switching from a pasted key to Connect deletes the key and the webhook endpoint it made", async () => {
  await using w = await world();
  const a = await founder(w);
  const key = "sk_test_founder_switching";
  assert.equal((await a.api("POST", "/dashboard/api/stripe", { secretKey: key })).status, 200);
  const synced = await a.api("POST", "/dashboard/api/stripe/sync");
  assert.equal(synced.status, 200, synced.text);
  const endpointId = synced.body.webhook.id as string;
  const own = w.f.stripe(key);
  assert.equal((await own.webhookEndpoints.retrieve(endpointId)).id, endpointId);

  w.oauth.codes.set("ac_switch", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_switch", state: await a.start() })).status, 303);
  const connection = await getStripeConnection(w.f.t.kv, a.platformId);
  assert.equal(connection?.mode, "connect");
  assert.equal(connection?.secretKey, undefined);
  assert.equal(connection?.keyLast4, undefined);
  await assert.rejects(own.webhookEndpoints.retrieve(endpointId), /No such webhook_endpoint/);

  // While connected with Connect, pasting a key is refused: disconnect first.
  const paste = await a.api("POST", "/dashboard/api/stripe", { secretKey: key });
  assert.equal(paste.status, 409, paste.text);
  assert.equal(paste.body.error.code, "conflict");
});

Deno.test("a connected platform's checkout is made with dream-api's key and Stripe-Account", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_1", state: await a.start() })).status, 303);
  const made: Array<{ key: string; account?: string }> = [];
  const real = w.f.t.deps.stripeFor;
  w.f.t.deps.stripeFor = (key, options) => {
    made.push({ key, account: options?.stripeAccount });
    return real(key, options);
  };
  const res = await json(
    await w.f.t.app.request("/api/create-checkout", {
      method: "POST",
      headers: { ...tenantHeaders(a.apiKey, "end_user_1"), "content-type": "application/json" },
      body: JSON.stringify({
        tier: "pro",
        successUrl: "https://app.example.com/ok",
        cancelUrl: "https://app.example.com/no",
      }),
    }),
  );
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(made, [{ key: w.f.t.deps.config.stripe.secretKey!, account: ACCOUNT }]);
});

Deno.test("POST /webhook/stripe: a Connect event for an account no platform connected is acknowledged and ignored", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_1", state: await a.start() })).status, 303);
  const before = await connectSnapshot(w.f.t.kv);
  for (const account of ["acct_1Stranger", undefined]) {
    const res = await signedConnectEvent(w, {
      id: `evt_unknown_${account}`,
      type: "customer.subscription.updated",
      ...(account && { account }),
      data: { object: { id: "sub_1", object: "subscription" } },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { received: true, outcome: "unknown_account" });
  }
  assert.deepEqual(await connectSnapshot(w.f.t.kv), before);
});

Deno.test("POST /webhook/stripe without ?platform=: a signature that is not the Connect secret's falls back to the old lookup (400 here)", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_1", state: await a.start() })).status, 303);
  const res = await signedConnectEvent(w, {
    id: "evt_forged",
    type: "account.application.deauthorized",
    account: ACCOUNT,
    data: { object: { id: CLIENT_ID, object: "application" } },
  }, "whsec_not_the_connect_secret");
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.error.code, "invalid_request");
  assert.equal((await getStripeConnection(w.f.t.kv, a.platformId))?.accountId, ACCOUNT);
});

Deno.test("account.application.deauthorized disconnects the platform: billing answers 409 stripe_not_connected, counting goes on", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_1", state: await a.start() })).status, 303);
  const event = {
    id: "evt_deauth_1",
    type: "account.application.deauthorized",
    account: ACCOUNT,
    data: { object: { id: CLIENT_ID, object: "application", name: "dream-api" } },
  };
  const res = await signedConnectEvent(w, event);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { received: true, outcome: "disconnected" });
  assert.equal(await getStripeConnection(w.f.t.kv, a.platformId), null);
  assert.equal((await w.f.t.kv.get(keys.platformByStripeAccount(ACCOUNT))).value, null);
  const tiers = await getTiers(w.f.t.kv, a.platformId);
  assert.ok(tiers!.tiers.every((t) => !t.stripePriceId), "the prices were the old account's");
  assert.deepEqual((await a.api("GET", "/dashboard/api/stripe")).body, { connected: false });

  // A redelivery: the account is no one's now.
  const again = await signedConnectEvent(w, event);
  assert.equal(again.body.outcome, "unknown_account");

  const checkout = await json(
    await w.f.t.app.request("/api/create-checkout", {
      method: "POST",
      headers: { ...tenantHeaders(a.apiKey, "end_user_1"), "content-type": "application/json" },
      body: JSON.stringify({
        tier: "pro",
        successUrl: "https://app.example.com/ok",
        cancelUrl: "https://app.example.com/no",
      }),
    }),
  );
  assert.equal(checkout.status, 409, checkout.text);
  assert.equal(checkout.body.error.code, "stripe_not_connected");
  const counted = await json(
    await w.f.t.app.request("/api/data", {
      method: "POST",
      headers: tenantHeaders(a.apiKey, "end_user_1"),
    }),
  );
  assert.equal(counted.status, 200, counted.text);
});

Deno.test("the Disconnect button: Connect is revoked at Stripe, a pasted key and its endpoint are deleted", async () => {
  await using w = await world();
  const a = await founder(w);
  w.oauth.codes.set("ac_1", { accountId: ACCOUNT });
  assert.equal((await a.callback({ code: "ac_1", state: await a.start() })).status, 303);

  // Stripe down: nothing changes, and the founder is told to retry.
  w.oauth.failing = 503;
  const down = await a.api("POST", "/dashboard/api/stripe/disconnect");
  assert.equal(down.status, 503, down.text);
  assert.equal(down.body.error.code, "unavailable");
  assert.equal((await getStripeConnection(w.f.t.kv, a.platformId))?.accountId, ACCOUNT);
  w.oauth.failing = null;

  const res = await a.api("POST", "/dashboard/api/stripe/disconnect");
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { connected: false });
  const revoke = w.oauth.calls.filter((c) => c.path === "/oauth/deauthorize").at(-1)!;
  assert.deepEqual(revoke.form, { client_id: CLIENT_ID, stripe_user_id: ACCOUNT });
  assert.equal(revoke.authorization, `Bearer ${w.f.t.deps.config.stripe.secretKey}`);
  assert.equal(await getStripeConnection(w.f.t.kv, a.platformId), null);
  assert.equal((await w.f.t.kv.get(keys.platformByStripeAccount(ACCOUNT))).value, null);
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
  assert.equal(await getStripeConnection(w.f.t.kv, a.platformId), null);
  await assert.rejects(
    w.f.stripe(key).webhookEndpoints.retrieve(endpointId),
    /No such webhook_endpoint/,
  );
});

Deno.test("the Connect button shows only where Connect is configured", async () => {
  {
    await using w = await world();
    const a = await founder(w);
    const html = await (await a.page("/dashboard/settings")).text();
    assert.match(html, /Connect with Stripe/);
    assert.match(html, /href="\/dashboard\/stripe\/connect"/);
    assert.match(html, /Webhook Endpoints <strong>Write<\/strong>/, "the key's permissions");
  }
  {
    await using f = await stripeTestApp();
    await payFounder(f.t.kv, "user_plain");
    const token = await f.t.signIn("user_plain");
    await f.t.app.request("/dashboard/api/platform", {
      method: "POST",
      headers: { ...founderHeaders(token), "content-type": "application/json" },
      body: "{}",
    });
    const page = await f.t.app.request("/dashboard/settings", {
      headers: { cookie: `__session=${token}` },
    });
    const html = await page.text();
    assert.doesNotMatch(html, /href="\/dashboard\/stripe\/connect"/);
    assert.match(html, /restricted key/);
    const start = await f.t.app.request("/dashboard/stripe/connect", {
      headers: { cookie: `__session=${token}` },
    });
    assert.equal(start.status, 404);
    assert.match(await start.text(), /not configured on this server/);
  }
});

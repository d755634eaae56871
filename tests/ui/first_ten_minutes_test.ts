/**
 * The first ten minutes, server side: the founder's email travels from the sign-in (or Clerk's
 * `email` claim) to the pages, the API and Checkout; the start-up lines; LOCAL_STRIPE_PORT; the
 * snippets' key; the settings page's local-Stripe hint; words instead of "≈".
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../fresh.config.ts";
import { sessionEmail } from "../../lib/auth/clerk.ts";
import { devUserId } from "../../lib/founders/session.ts";
import { portInUseMessage, startupMessage } from "../../lib/startup.ts";
import { quickStartSnippets } from "../../lib/ui/snippets.ts";
import { founderHeaders, json, payFounder, seedPaidFounder, testApp } from "../_helpers/app.ts";
import { OWN_STRIPE_KEY, stripeTestApp } from "../_helpers/stripe.ts";

const ORIGIN = "http://localhost:8000";

async function devSignIn(t: Awaited<ReturnType<typeof testApp>>, email: string): Promise<string> {
  const res = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: ORIGIN },
    body: new URLSearchParams({ email }),
  });
  assert.equal(res.status, 303, await res.text());
  return /^__session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1];
}

async function page(t: Awaited<ReturnType<typeof testApp>>, path: string, token: string) {
  const res = await t.app.request(path, { headers: founderHeaders(token, { via: "cookie" }) });
  const html = await res.text();
  assert.equal(res.status, 200, html.slice(0, 300));
  return html;
}

Deno.test("the development sign-in puts the email in the session: /me, the header and the account card show it", async () => {
  await using t = await testApp();
  const token = await devSignIn(t, "ada@example.com");
  const me = await json(
    await t.app.request("/dashboard/api/me", { headers: founderHeaders(token) }),
  );
  assert.equal(me.status, 200, me.text);
  assert.deepEqual(me.body.user, { id: devUserId("ada@example.com"), email: "ada@example.com" });

  await seedPaidFounder(t.kv, devUserId("ada@example.com"));
  const html = await page(t, "/dashboard/settings", token);
  assert.match(html, /data-testid="account-name"[^>]*>ada@example\.com</, "header");
  assert.match(html, /data-testid="account-email">ada@example\.com</, "account card");
});

Deno.test("a session without an email claim shows the user id (Clerk without the README's claim)", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_2clerk");
  const token = await t.signIn("user_2clerk");
  const me = await json(
    await t.app.request("/dashboard/api/me", { headers: founderHeaders(token) }),
  );
  assert.deepEqual(me.body.user, { id: "user_2clerk" });
  const html = await page(t, "/dashboard", token);
  assert.match(html, /data-testid="account-name"[^>]*>user_2clerk</);
});

Deno.test("sessionEmail takes a plausible `email` claim and ignores anything else", () => {
  assert.equal(sessionEmail({ email: "ada@example.com" }), "ada@example.com");
  for (const email of [undefined, "", "ada", "a b@example.com", 42, "<x>@y.z", "ada@localhost"]) {
    assert.equal(sessionEmail({ email }), undefined, String(email));
  }
});

Deno.test("a Clerk-style token with an email claim shows the email; a name sign-in shows the id", async () => {
  await using t = await testApp();
  const token = await t.devSigner!.sign("user_2clerk", { claims: { email: "bo@example.com" } });
  const me = await json(
    await t.app.request("/dashboard/api/me", { headers: founderHeaders(token) }),
  );
  assert.deepEqual(me.body.user, { id: "user_2clerk", email: "bo@example.com" });
  const res = await t.app.request("/sign-in/dev", {
    method: "POST",
    headers: { origin: ORIGIN },
    body: new URLSearchParams({ name: "Bo" }),
  });
  const named = /^__session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1];
  const me2 = await json(
    await t.app.request("/dashboard/api/me", { headers: founderHeaders(named) }),
  );
  assert.deepEqual(me2.body.user, { id: devUserId("Bo") });
});

Deno.test("Checkout for the $29 plan opens with the founder's email filled in", async () => {
  await using f = await stripeTestApp();
  const token = await f.t.devSigner!.sign("user_mail", { claims: { email: "ada@example.com" } });
  const res = await json(
    await f.t.app.request("/dashboard/api/subscribe", {
      method: "POST",
      headers: founderHeaders(token),
    }),
  );
  assert.equal(res.status, 200, res.text);
  const sessionId = new URL(res.body.url).pathname.split("/").pop()!;
  const session = await f.stripe(OWN_STRIPE_KEY).checkout.sessions.retrieve(sessionId);
  assert.equal(session.customer_email, "ada@example.com");
  assert.equal(session.client_reference_id, "user_mail");
});

Deno.test("LOCAL_STRIPE_PORT defaults to 12111 and is validated like PORT", () => {
  assert.equal(parseConfig({}).localStripePort, 12111);
  assert.equal(parseConfig({ LOCAL_STRIPE_PORT: "12112" }).localStripePort, 12112);
  assert.throws(() => parseConfig({ LOCAL_STRIPE_PORT: "70000" }), /LOCAL_STRIPE_PORT/);
});

Deno.test("start-up says where to go and how to sign in; a taken port says what to set", () => {
  const dev = startupMessage({
    url: "http://localhost:8000",
    devSignIn: true,
    localStripeUrl: "http://127.0.0.1:12111",
  });
  assert.match(dev, /^dream-api is running: open http:\/\/localhost:8000$/m);
  assert.match(dev, /any email/);
  assert.match(dev, /Stripe runs locally/);
  const prod = startupMessage({ url: "https://api.example.com", devSignIn: false });
  assert.equal(prod, "dream-api is running: open https://api.example.com");
  assert.equal(
    portInUseMessage("server", 8000),
    "Port 8000 (dream-api) is already in use: set PORT to a free port, e.g. PORT=8001 deno task dev",
  );
  assert.match(portInUseMessage("localStripe", 12111), /LOCAL_STRIPE_PORT=12112/);
});

Deno.test("the overview's snippet names its key a prefix; the one-time snippet has the whole key", () => {
  const input = {
    baseUrl: "https://api.example.com",
    platformId: "plt_abc",
    keyPrefix: "dk_live_AbC1…",
    tiers: [],
  };
  const overview = quickStartSnippets(input).track;
  assert.match(overview, /shows only your key's prefix/);
  const full = "dk_live_AbC1" + "x".repeat(39);
  const once = quickStartSnippets({ ...input, apiKey: full }).track;
  assert.ok(once.includes(`export DREAM_API_KEY="${full}"`), once);
  assert.ok(!once.includes("…"), once);
});

Deno.test("settings explains the local Stripe outside production; the overview says its key is a prefix", async () => {
  await using t = await testApp({ env: { STRIPE_API_URL: "http://127.0.0.1:12111" } });
  await seedPaidFounder(t.kv, "user_local");
  const token = await t.signIn("user_local");
  const settings = await page(t, "/dashboard/settings", token);
  assert.match(settings, /data-testid="local-stripe-hint"/);
  assert.match(settings, /sk_test_/);
  assert.match(settings, /http:\/\/127\.0\.0\.1:12111/);

  assert.match(
    await page(t, "/dashboard", token),
    /data-testid="quick-start-key-note"[^]*only its prefix/,
  );

  // Real Stripe (no STRIPE_API_URL): no such hint.
  await using real = await testApp();
  await seedPaidFounder(real.kv, "user_real");
  const html = await page(real, "/dashboard/settings", await real.signIn("user_real"));
  assert.match(html, /data-testid="stripe-settings"/);
  assert.doesNotMatch(html, /local-stripe-hint/);
});

Deno.test("analytics: the busiest day of active end-users is said in words, not '≈ 4'", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPaidFounder(t.kv, "user_words");
  for (const user of ["a", "b", "c"]) {
    const res = await t.app.request("/api/data", {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "x-user-id": user },
    });
    await res.body?.cancel();
  }
  const html = await page(t, "/dashboard/analytics", await t.signIn("user_words"));
  assert.match(html, /about 3 end-users on the busiest day/);
  assert.doesNotMatch(html, /≈/);
});

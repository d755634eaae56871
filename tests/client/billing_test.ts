/**
 * The client's billing calls against the real server and the local Stripe-compatible server:
 * checkout, payment, the plan switching to the paid tier, the portal, and their typed errors.
 */
import assert from "node:assert/strict";
import { DreamApi, DreamApiError } from "../../client/dream_api.ts";
import { seedPlatform } from "../_helpers/app.ts";
import { startWorld } from "../billing/_world.ts";
import { failingProxy } from "./_proxy.ts";

const URLS = { successUrl: "https://app.example.com/ok", cancelUrl: "https://app.example.com/no" };

Deno.test("createCheckout → paid → track counts under the paid tier → customerPortal", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_client", "sk_test_clientFounder0000001");
  const dream = new DreamApi({ apiKey: founder.apiKey, baseUrl: world.url, retryBaseMs: 1 });

  const portalBefore = await dream.customerPortal("client_user", { returnUrl: URLS.successUrl })
    .then(() => null, (error) => error);
  assert.ok(portalBefore instanceof DreamApiError, String(portalBefore));
  assert.equal(portalBefore.status, 404);
  assert.equal(portalBefore.code, "not_found");

  const checkout = await dream.createCheckout("client_user", {
    tier: "pro",
    ...URLS,
    email: "ada@example.com",
  });
  assert.match(checkout.sessionId, /^cs_test_/);
  assert.equal(checkout.url, `${world.stripe.url}/checkout/${checkout.sessionId}`);
  const session = await founder.stripe.checkout.sessions.retrieve(checkout.sessionId);
  assert.equal(session.metadata?.userId, "client_user");
  await world.stripe.payCheckout(checkout.sessionId);

  const tracked = await dream.track("client_user");
  assert.equal(tracked.plan, "pro");
  assert.equal(tracked.planSource, "subscription");
  assert.deepEqual(tracked.usage, { count: 1, limit: 10, remaining: 9 });

  const portal = await dream.customerPortal("client_user", { returnUrl: URLS.successUrl });
  assert.match(portal.url, /^http/);

  const error = await dream.createCheckout("client_user", { tier: "free", ...URLS })
    .then(() => null, (e) => e);
  assert.ok(error instanceof DreamApiError, String(error));
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_request");
  assert.match(error.message, /free/);
});

Deno.test("a createCheckout retried after a 502 returns the same Checkout Session, not a second one", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_retry", "sk_test_retryFounder00000001");
  await using proxy = failingProxy(new URL(world.url), 1, { status: 502 });
  const dream = new DreamApi({ apiKey: founder.apiKey, baseUrl: proxy.url, retryBaseMs: 1 });
  const checkout = await dream.createCheckout("retry_user", { tier: "pro", ...URLS });
  assert.equal(proxy.seen(), 2, "the first answer was lost, the retry got one");
  const [first, second] = proxy.requests.map((r) => r.headers.get("idempotency-key"));
  assert.ok(first && first === second, "both attempts carry the same Idempotency-Key");
  const sessions = await founder.stripe.checkout.sessions.list({ limit: 10 });
  const mine = sessions.data.filter((s) => s.metadata?.userId === "retry_user");
  assert.deepEqual(mine.map((s) => s.id), [checkout.sessionId], "one session in Stripe");
});

Deno.test("a platform without Stripe gets DreamApiError stripe_not_connected (409)", async () => {
  await using world = await startWorld();
  const { apiKey } = await seedPlatform(world.t.kv); // never connected Stripe
  const dream = new DreamApi({ apiKey, baseUrl: world.url });
  for (
    const call of [
      () => dream.createCheckout("u", { tier: "pro", ...URLS }),
      () => dream.customerPortal("u", { returnUrl: URLS.successUrl }),
    ]
  ) {
    const error = await call().then(() => null, (e) => e);
    assert.ok(error instanceof DreamApiError, String(error));
    assert.equal(error.status, 409);
    assert.equal(error.code, "stripe_not_connected");
  }
});

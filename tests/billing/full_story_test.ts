/**
 * The whole end-user billing story over real HTTP: the app listens on a port, the local Stripe
 * delivers its signed webhooks to it, and the real stripe SDK does every Stripe call.
 */
import assert from "node:assert/strict";
import { getEndUserBilling } from "../../lib/kv/end_users.ts";
import { startWorld, subscribe } from "./_world.ts";

Deno.test("full story: free user hits 429 → checkout → paid → pro limit without reset → portal → canceled → free limits again", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_story", "sk_test_storyFounder000000001");
  const user = "end_user_1";

  // Free: 3 a month.
  for (let i = 1; i <= 3; i++) {
    const ok = await world.api(founder, "POST", "/api/data", user, { amount: 1 });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.plan, "free");
    assert.equal(ok.body.planSource, "default");
  }
  const refused = await world.api(founder, "POST", "/api/data", user, { amount: 1 });
  assert.equal(refused.status, 429, refused.text);
  assert.match(refused.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(refused.body.error.code, "limit_exceeded");
  assert.equal(refused.body.usage.count, 3);

  // Checkout in the founder's Stripe, paid there; Stripe's signed events reach /webhook/stripe.
  const checkout = await world.api(founder, "POST", "/api/create-checkout", user, {
    tier: "pro",
    successUrl: "https://app.example.com/billing/ok?session={CHECKOUT_SESSION_ID}",
    cancelUrl: "https://app.example.com/billing",
    email: "ada@example.com",
  });
  assert.equal(checkout.status, 200, checkout.text);
  assert.match(checkout.headers.get("content-type") ?? "", /^application\/json/);
  assert.match(checkout.body.sessionId, /^cs_test_/);
  assert.equal(checkout.body.url, `${world.stripe.url}/checkout/${checkout.body.sessionId}`);
  const session = await founder.stripe.checkout.sessions.retrieve(checkout.body.sessionId);
  assert.equal(session.mode, "subscription");
  assert.deepEqual(session.metadata, { platformId: founder.platformId, userId: user, tier: "pro" });

  const paid = await world.stripe.payCheckout(checkout.body.sessionId);
  const received = paid.deliveries.map((d) => `${d.type} ${d.status}`);
  assert.deepEqual(received, [
    "customer.subscription.created 200",
    "invoice.paid 200",
    "checkout.session.completed 200",
  ]);
  assert.deepEqual(paid.subscription.metadata, {
    platformId: founder.platformId,
    userId: user,
    tier: "pro",
  });

  // The same call now passes under pro (10), and the count went on from 3: no reset.
  const passes = await world.api(founder, "POST", "/api/data", user, { amount: 1 });
  assert.equal(passes.status, 200, passes.text);
  assert.equal(passes.body.plan, "pro");
  assert.equal(passes.body.planSource, "subscription");
  assert.deepEqual(passes.body.usage, { count: 4, limit: 10, remaining: 6 });
  const usage = await world.api(founder, "GET", "/api/usage", user);
  assert.equal(usage.status, 200, usage.text);
  assert.equal(usage.body.planSource, "subscription");
  assert.equal(usage.body.usage.count, 4);

  // Even an X-User-Plan saying free cannot take the paid tier away.
  const header = await world.api(founder, "GET", "/api/usage", user, undefined, {
    "x-user-plan": "free",
  });
  assert.equal(header.body.plan, "pro", header.text);

  const record = await getEndUserBilling(world.t.kv, founder.platformId, user);
  assert.equal(record?.status, "active");
  assert.equal(record?.customerId, paid.customer.id);
  assert.equal(record?.subscriptionId, paid.subscription.id);
  assert.equal(record?.tier, "pro");
  assert.equal(record?.priceId, founder.prices.pro);
  assert.ok(record?.currentPeriodEnd && Date.parse(record.currentPeriodEnd) > Date.now());

  // The customer portal for this end-user's Stripe customer.
  const portal = await world.api(founder, "POST", "/api/customer-portal", user, {
    returnUrl: "https://app.example.com/account",
  });
  assert.equal(portal.status, 200, portal.text);
  assert.match(portal.body.url, new RegExp(`^${world.stripe.url}/portal/bps_`));

  // Canceled in the portal: customer.subscription.deleted → back to the free limit, count kept.
  const canceled = await world.stripe.cancelSubscription(paid.subscription.id);
  assert.deepEqual(canceled.deliveries.map((d) => `${d.type} ${d.status}`), [
    "customer.subscription.deleted 200",
  ]);
  const back = await world.api(founder, "POST", "/api/data", user, { amount: 1 });
  assert.equal(back.status, 429, back.text);
  assert.equal(back.body.plan, "free");
  assert.equal(back.body.planSource, "default");
  assert.deepEqual(back.body.usage, { count: 4, limit: 3, remaining: 0 });
  assert.equal((await getEndUserBilling(world.t.kv, founder.platformId, user))?.status, "canceled");

  // A new checkout reuses the end-user's Stripe customer.
  const again = await world.api(founder, "POST", "/api/create-checkout", user, {
    tier: "max",
    successUrl: "https://app.example.com/ok",
    cancelUrl: "https://app.example.com/cancel",
  });
  assert.equal(again.status, 200, again.text);
  const second = await founder.stripe.checkout.sessions.retrieve(again.body.sessionId);
  assert.equal(second.customer, paid.customer.id);
});

Deno.test("subscribe helper smoke: a second end-user of the same platform is independent", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_two", "sk_test_twoUsersFounder00000001");
  await subscribe(world, founder, "u_paid");
  const paid = await world.api(founder, "GET", "/api/usage", "u_paid");
  const free = await world.api(founder, "GET", "/api/usage", "u_free");
  assert.equal(paid.body.plan, "pro", paid.text);
  assert.equal(free.body.plan, "free", free.text);
  assert.equal(free.body.planSource, "default");
});

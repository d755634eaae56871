/**
 * POST /webhook/stripe: one URL for every founder's Stripe account. Verification per platform,
 * scoping after verification, refusals that change nothing, duplicates, unhandled types.
 */
import assert from "node:assert/strict";
import type Stripe from "stripe";
import { WEBHOOK_MAX_BYTES } from "../../routes/webhook/stripe.ts";
import { findCustomerOwner, getEndUserBilling } from "../../lib/kv/end_users.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getStripeConnection } from "../../lib/kv/platform_stripe.ts";
import {
  type Answer,
  billingSnapshot,
  type Founder,
  pauseWebhook,
  startWorld,
  subscribe,
  type World,
} from "./_world.ts";

const KEY_A = "sk_test_platformAlpha000000001";
const KEY_B = "sk_test_platformBravo000000002";

function assertRefused(res: Answer, status = 400, code = "invalid_request") {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.success, false, res.text);
  assert.equal(res.body.error.code, code, res.text);
}

/** An end-user of `founder` with an active pro subscription, whose cancellation has not reached us. */
async function canceledBehindOurBack(world: World, founder: Founder, user: string) {
  const paid = await subscribe(world, founder, user);
  await pauseWebhook(world, founder);
  const canceled = await world.stripe.cancelSubscription(paid.subscription.id);
  assert.equal(canceled.deliveries.length, 0, "the paused endpoint got nothing");
  await pauseWebhook(world, founder, false);
  const event = canceled.events.find((e) => e.type === "customer.subscription.deleted")!;
  return { paid, event, payload: JSON.stringify(event, null, 2) };
}

Deno.test("two platforms at one URL: each account's events change only its own end-users", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const b = await world.founder("founder_b", KEY_B);
  const connA = await getStripeConnection(world.t.kv, a.platformId);
  const connB = await getStripeConnection(world.t.kv, b.platformId);
  assert.notEqual(connA!.accountId, connB!.accountId);
  // One route for both accounts; the query names whose secret verifies the body.
  const urlA = new URL(connA!.webhook!.url);
  const urlB = new URL(connB!.webhook!.url);
  assert.equal(urlA.pathname, urlB.pathname, "one route for both accounts");
  assert.equal(urlA.searchParams.get("platform"), a.platformId);
  assert.equal(urlB.searchParams.get("platform"), b.platformId);

  // The same end-user id in both platforms: they are different people.
  const paidA = await subscribe(world, a, "u1", "pro");
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");
  assert.equal((await world.api(b, "GET", "/api/usage", "u1")).body.plan, "free");
  assert.equal(await getEndUserBilling(world.t.kv, b.platformId, "u1"), null);

  const paidB = await subscribe(world, b, "u1", "max");
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");
  assert.equal((await world.api(b, "GET", "/api/usage", "u1")).body.plan, "max");
  assert.deepEqual(await findCustomerOwner(world.t.kv, paidA.customer.id), {
    platformId: a.platformId,
    userId: "u1",
  });
  assert.deepEqual(await findCustomerOwner(world.t.kv, paidB.customer.id), {
    platformId: b.platformId,
    userId: "u1",
  });

  // B's cancellation reaches the same URL and changes only B's end-user.
  await world.stripe.cancelSubscription(paidB.subscription.id);
  assert.equal((await world.api(b, "GET", "/api/usage", "u1")).body.plan, "free");
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");
  assert.equal((await getEndUserBilling(world.t.kv, a.platformId, "u1"))?.status, "active");
});

Deno.test("a payload of platform A signed with B's secret answers 400 and changes nothing; A's own secret works", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const b = await world.founder("founder_b", KEY_B);
  const { payload } = await canceledBehindOurBack(world, a, "u1");
  const before = await billingSnapshot(world.t.kv);

  assertRefused(await world.deliver(payload, b.webhookSecret));
  assert.deepEqual(await billingSnapshot(world.t.kv), before);
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");

  const ok = await world.deliver(payload, a.webhookSecret);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { received: true, outcome: "applied" });
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "free");
});

Deno.test("an event signed by A that names B's customer and subscription changes nothing of B's", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const b = await world.founder("founder_b", KEY_B);
  const paidB = await subscribe(world, b, "victim");
  const recordB = await getEndUserBilling(world.t.kv, b.platformId, "victim");
  const forged = (type: string, object: Record<string, unknown>) =>
    JSON.stringify({
      id: `evt_forged_${crypto.randomUUID().slice(0, 8)}`,
      object: "event",
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object },
    });
  const deleted = {
    ...paidB.subscription,
    status: "canceled",
    metadata: { platformId: a.platformId, userId: "victim", tier: "pro" },
  };

  // Claims A in its metadata: verified as A's, then scoped to A, where B's objects do not exist.
  for (
    const [type, object, outcome] of [
      ["customer.subscription.deleted", deleted, "unknown_subscription"],
      ["invoice.payment_failed", {
        id: "in_forged",
        object: "invoice",
        customer: paidB.customer.id,
        parent: {
          type: "subscription_details",
          subscription_details: {
            subscription: paidB.subscription.id,
            metadata: { platformId: a.platformId, userId: "victim" },
          },
        },
      }, "unknown_subscription"],
      ["checkout.session.completed", {
        ...paidB.session,
        metadata: { platformId: a.platformId, userId: "victim", tier: "pro" },
      }, "unknown_checkout_session"],
    ] as const
  ) {
    // A's Stripe does not know B's objects: acknowledged with that reason, nothing written.
    const res = await world.deliver(forged(type, object), a.webhookSecret);
    assert.equal(res.status, 200, `${type}: ${res.text}`);
    assert.equal(res.body.outcome, outcome, `${type}: ${res.text}`);
  }
  assert.equal(await getEndUserBilling(world.t.kv, a.platformId, "victim"), null);

  // Names B (metadata, or only B's customer) but is signed with A's secret: refused.
  assertRefused(
    await world.deliver(
      forged("customer.subscription.deleted", {
        ...deleted,
        metadata: { platformId: b.platformId, userId: "victim" },
      }),
      a.webhookSecret,
    ),
  );
  assertRefused(
    await world.deliver(
      forged("customer.subscription.deleted", { ...deleted, metadata: {} }),
      a.webhookSecret,
    ),
  );

  assert.deepEqual(await getEndUserBilling(world.t.kv, b.platformId, "victim"), recordB);
  assert.deepEqual(await findCustomerOwner(world.t.kv, paidB.customer.id), {
    platformId: b.platformId,
    userId: "victim",
  });
  assert.equal((await world.api(b, "GET", "/api/usage", "victim")).body.plan, "pro");
});

Deno.test("refusals change nothing: missing header, tampered body, old replay, garbage JSON, unknown platform, 1 MiB", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const { payload } = await canceledBehindOurBack(world, a, "u1");
  const before = await billingSnapshot(world.t.kv);
  const post = async (body: BodyInit, headers: Record<string, string> = {}) => {
    const res = await fetch(`${world.url}/webhook/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text), text };
  };

  // No Stripe-Signature at all.
  const missing = await post(payload);
  assertRefused(missing);
  assert.match(missing.body.error.message, /Stripe-Signature/);

  // Signed, then changed by one character.
  const { default: Stripe } = await import("stripe");
  const { webhookCrypto } = await import("../../lib/billing/stripe_client.ts");
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: a.webhookSecret,
    cryptoProvider: webhookCrypto,
  });
  assertRefused(
    await post(payload.replace('"canceled"', '"active"'), { "stripe-signature": signature }),
  );
  assertRefused(await post(payload, { "stripe-signature": "t=1,v1=deadbeef" }));

  // A genuine signature older than the 300 s tolerance (a replay).
  assertRefused(
    await world.deliver(payload, a.webhookSecret, {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    }),
  );

  // Garbage, even correctly signed.
  assertRefused(await world.deliver("{not json", a.webhookSecret));
  assertRefused(await world.deliver("null", a.webhookSecret));

  // A platform nobody knows.
  const unknown = JSON.parse(payload);
  unknown.data.object.metadata = { platformId: "plt_nobody", userId: "u1" };
  unknown.data.object.customer = "cus_nobody";
  assertRefused(await world.deliver(JSON.stringify(unknown), a.webhookSecret));

  // 1 MiB: over the webhook's body limit, with or without Content-Length.
  const huge = JSON.stringify({ ...JSON.parse(payload), padding: "x".repeat(1024 * 1024) });
  assert.ok(huge.length > WEBHOOK_MAX_BYTES);
  const hugeSignature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload: huge,
    secret: a.webhookSecret,
    cryptoProvider: webhookCrypto,
  });
  assertRefused(await post(huge, { "stripe-signature": hugeSignature }), 413, "payload_too_large");
  const stream = new Blob([huge]).stream();
  assertRefused(
    await post(stream, { "stripe-signature": hugeSignature }),
    413,
    "payload_too_large",
  );

  assert.deepEqual(await billingSnapshot(world.t.kv), before, "no refusal wrote anything");
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");

  // The genuine delivery still works afterwards.
  const ok = await world.deliver(payload, a.webhookSecret);
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "free");
});

Deno.test("a platform connected but never synced has no webhook secret: its events answer 400", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const { payload } = await canceledBehindOurBack(world, a, "u1");
  await world.t.kv.set(keys.platformStripe(a.platformId), {
    ...(await getStripeConnection(world.t.kv, a.platformId))!,
    webhook: null,
  });
  assertRefused(await world.deliver(payload, a.webhookSecret));
  assert.equal((await getEndUserBilling(world.t.kv, a.platformId, "u1"))?.status, "active");
});

Deno.test("the same event delivered 10 times at once is applied once; later redeliveries answer 200 duplicate", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const { event, payload } = await canceledBehindOurBack(world, a, "u1");

  // At the URL sync creates (the old-style one admits only 2 lookups at once: see legacyLookups).
  const answers = await Promise.all(
    Array.from(
      { length: 10 },
      () => world.deliver(payload, a.webhookSecret, { platformId: a.platformId }),
    ),
  );
  assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
  const outcomes = answers.map((r) => r.body.outcome).sort();
  assert.deepEqual(outcomes, ["applied", ...Array(9).fill("duplicate")], JSON.stringify(outcomes));
  const record = await getEndUserBilling(world.t.kv, a.platformId, "u1");
  assert.equal(record?.status, "canceled");
  assert.equal(record?.lastEvent?.id, event.id);
  const marker = await world.t.kv.get(keys.stripeEvent(a.platformId, event.id));
  assert.notEqual(marker.versionstamp, null, "the event id is recorded");

  // Stripe's retry of the same event (same id and body, fresh signature): 200, nothing written.
  const snapshot = await billingSnapshot(world.t.kv);
  const [redelivery] = await world.stripe.redeliverEvent(event.id);
  assert.equal(redelivery.status, 200, redelivery.response);
  assert.equal(JSON.parse(redelivery.response).outcome, "duplicate");
  assert.deepEqual(await billingSnapshot(world.t.kv), snapshot);
});

Deno.test("event ids are per platform: the same id from two accounts is processed by each", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const b = await world.founder("founder_b", KEY_B);
  const subA = (await subscribe(world, a, "ua")).subscription;
  const subB = (await subscribe(world, b, "ub")).subscription;
  const event = (subscription: Stripe.Subscription) =>
    JSON.stringify({
      id: "evt_same_id_in_two_accounts",
      object: "event",
      type: "customer.subscription.updated",
      created: Math.floor(Date.now() / 1000),
      data: { object: subscription },
    });
  const resA = await world.deliver(event(subA), a.webhookSecret);
  const resB = await world.deliver(event(subB), b.webhookSecret);
  assert.equal(resA.body.outcome, "applied", resA.text);
  assert.equal(resB.body.outcome, "applied", resB.text);
  assert.equal((await world.deliver(event(subA), a.webhookSecret)).body.outcome, "duplicate");
});

Deno.test("verified events of types we do not handle answer 200 and write nothing", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const paid = await subscribe(world, a, "u1");
  const before = await billingSnapshot(world.t.kv);
  for (const type of ["customer.created", "invoice.payment_succeeded", "price.updated"]) {
    const res = await world.deliver(
      JSON.stringify({
        id: `evt_${type}`,
        object: "event",
        type,
        created: Math.floor(Date.now() / 1000),
        data: { object: { ...paid.customer, metadata: { platformId: a.platformId } } },
      }),
      a.webhookSecret,
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { received: true, outcome: "ignored" });
  }
  assert.deepEqual(await billingSnapshot(world.t.kv), before);
});

Deno.test("a Connect-style event with only `account` finds its platform and re-fetches the subscription", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const paid = await subscribe(world, a, "u1");
  await pauseWebhook(world, a);
  await world.stripe.changeSubscriptionPrice(paid.subscription.id, a.prices.max);
  await pauseWebhook(world, a, false);
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");

  const connection = await getStripeConnection(world.t.kv, a.platformId);
  const res = await world.deliver(
    JSON.stringify({
      id: "evt_thin_connect",
      object: "event",
      account: connection!.accountId,
      type: "customer.subscription.updated",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: paid.subscription.id, object: "subscription" } },
    }),
    a.webhookSecret,
  );
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.outcome, "applied");
  const usage = await world.api(a, "GET", "/api/usage", "u1");
  assert.equal(usage.body.plan, "max", usage.text);
  assert.equal(usage.body.planSource, "subscription");
});

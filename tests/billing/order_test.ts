/**
 * Stripe does not promise event order. Every order of the upgrade lifecycle and of the cancel
 * lifecycle, delivered with real signatures, must end in the same state: what Stripe says now.
 */
import assert from "node:assert/strict";
import type Stripe from "stripe";
import {
  type EndUserBilling,
  findCustomerOwner,
  getEndUserBilling,
} from "../../lib/kv/end_users.ts";
import { keys } from "../../lib/kv/keys.ts";
import { type Founder, pauseWebhook, startWorld, subscribe, type World } from "./_world.ts";

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

/** Forgets every end-user record, index entry and event marker: a fresh start for one order. */
async function resetBilling(world: World, founder: Founder, userId: string) {
  for (
    const prefix of [
      keys.endUserBilling("", "")[0],
      keys.endUserByCustomer("")[0],
      keys.stripeEvent("", "")[0],
    ]
  ) {
    for await (const entry of world.t.kv.list({ prefix: [prefix] })) {
      await world.t.kv.delete(entry.key);
    }
  }
  await world.t.deps.endUserPlans.forget(founder.platformId, userId);
}

/** The state an order ends in, without what legitimately differs (which event came last). */
function settled(record: EndUserBilling | null) {
  if (!record) return null;
  const { lastEvent: _e, updatedAt: _u, ...rest } = record;
  return rest;
}

async function playEveryOrder(
  world: World,
  founder: Founder,
  userId: string,
  events: Stripe.Event[],
) {
  const orders = permutations(events);
  const endings = new Map<string, string[]>();
  for (const order of orders) {
    await resetBilling(world, founder, userId);
    for (const event of order) {
      const res = await world.deliver(JSON.stringify(event), founder.webhookSecret);
      assert.equal(res.status, 200, `${event.type}: ${res.text}`);
    }
    const record = await getEndUserBilling(world.t.kv, founder.platformId, userId);
    const usage = await world.api(founder, "GET", "/api/usage", userId);
    const owner = record?.customerId
      ? await findCustomerOwner(world.t.kv, record.customerId)
      : null;
    const ending = JSON.stringify({
      record: settled(record),
      owner,
      plan: usage.body.plan,
      planSource: usage.body.planSource,
    });
    endings.set(ending, [...endings.get(ending) ?? [], order.map((e) => e.type).join(" → ")]);
  }
  return { orders: orders.length, endings };
}

function pick(events: Stripe.Event[], type: string): Stripe.Event {
  const event = events.find((e) => e.type === type);
  assert.ok(event, `no ${type} among ${events.map((e) => e.type).join(", ")}`);
  return event;
}

Deno.test("every order of the upgrade lifecycle (completed, created, updated, invoice.paid) ends active on the new tier", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_order", "sk_test_orderFounder0000000001");
  const user = "u_upgrade";
  await pauseWebhook(world, founder);
  const paid = await subscribe(world, founder, user, "pro");
  const upgraded = await world.stripe.changeSubscriptionPrice(
    paid.subscription.id,
    founder.prices.max,
  );
  await pauseWebhook(world, founder, false);
  const events = [
    pick(paid.events, "checkout.session.completed"),
    pick(paid.events, "customer.subscription.created"),
    pick(upgraded.events, "customer.subscription.updated"),
    pick(paid.events, "invoice.paid"),
  ];

  const { orders, endings } = await playEveryOrder(world, founder, user, events);
  assert.equal(orders, 24);
  assert.equal(
    endings.size,
    1,
    [...endings].map(([e, o]) => `${e}\n  ${o.join("\n  ")}`).join("\n"),
  );
  const [ending] = [...endings.keys()].map((e) => JSON.parse(e));
  assert.equal(ending.record.status, "active");
  assert.equal(ending.record.tier, "max");
  assert.equal(ending.record.priceId, founder.prices.max);
  assert.equal(ending.record.subscriptionId, paid.subscription.id);
  assert.equal(ending.record.customerId, paid.customer.id);
  assert.deepEqual(ending.owner, { platformId: founder.platformId, userId: user });
  assert.equal(ending.plan, "max");
  assert.equal(ending.planSource, "subscription");
});

Deno.test("every order of the cancel lifecycle (created, completed, payment_failed, updated past_due, deleted) ends canceled on the free tier", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_order", "sk_test_orderFounder0000000001");
  const user = "u_cancel";
  await pauseWebhook(world, founder);
  const paid = await subscribe(world, founder, user, "pro");
  const failed = await world.stripe.failPayment(paid.subscription.id);
  const canceled = await world.stripe.cancelSubscription(paid.subscription.id);
  await pauseWebhook(world, founder, false);
  const events = [
    pick(paid.events, "customer.subscription.created"),
    pick(paid.events, "checkout.session.completed"),
    pick(failed.events, "invoice.payment_failed"),
    pick(failed.events, "customer.subscription.updated"),
    pick(canceled.events, "customer.subscription.deleted"),
  ];
  assert.equal(
    (events[3].data.object as Stripe.Subscription).status,
    "past_due",
    "the updated event itself says past_due",
  );

  const { orders, endings } = await playEveryOrder(world, founder, user, events);
  assert.equal(orders, 120);
  assert.equal(
    endings.size,
    1,
    [...endings].map(([e, o]) => `${e}\n  ${o.join("\n  ")}`).join("\n"),
  );
  const [ending] = [...endings.keys()].map((e) => JSON.parse(e));
  assert.equal(ending.record.status, "canceled");
  assert.equal(ending.record.subscriptionId, paid.subscription.id);
  assert.equal(ending.plan, "free");
  assert.equal(ending.planSource, "default");
});

Deno.test("past_due keeps the paid tier while Stripe retries; a successful retry keeps it active", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_due", "sk_test_pastDueFounder00000001");
  const paid = await subscribe(world, founder, "u1", "pro");
  await world.stripe.failPayment(paid.subscription.id);
  assert.equal((await getEndUserBilling(world.t.kv, founder.platformId, "u1"))?.status, "past_due");
  const due = await world.api(founder, "GET", "/api/usage", "u1");
  assert.equal(due.body.plan, "pro", due.text);
  assert.equal(due.body.planSource, "subscription");

  await world.stripe.renewSubscription(paid.subscription.id);
  assert.equal((await getEndUserBilling(world.t.kv, founder.platformId, "u1"))?.status, "active");
});

Deno.test("a late event about the end-user's old, canceled subscription does not cancel their new one", async () => {
  await using world = await startWorld();
  const founder = await world.founder("founder_late", "sk_test_lateEventFounder000001");
  const first = await subscribe(world, founder, "u1", "pro");
  await world.stripe.cancelSubscription(first.subscription.id);
  const second = await subscribe(world, founder, "u1", "max");
  assert.equal(second.customer.id, first.customer.id, "the checkout reused the customer");

  const late = await world.deliver(
    JSON.stringify({
      id: "evt_late_about_first",
      object: "event",
      type: "customer.subscription.updated",
      created: first.subscription.created,
      data: { object: first.subscription },
    }),
    founder.webhookSecret,
  );
  assert.equal(late.status, 200, late.text);
  assert.equal(late.body.outcome, "stale");
  const record = await getEndUserBilling(world.t.kv, founder.platformId, "u1");
  assert.equal(record?.subscriptionId, second.subscription.id);
  assert.equal(record?.status, "active");
  assert.equal((await world.api(founder, "GET", "/api/usage", "u1")).body.plan, "max");
});

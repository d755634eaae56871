/**
 * Founders paying dream-api: POST /dashboard/api/subscribe and POST /webhook/platform, against the
 * local Stripe-compatible server through the real stripe SDK, with real signatures.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { keys } from "../../lib/kv/keys.ts";
import { OWN_STRIPE_SCOPE } from "../../lib/kv/stripe_events.ts";
import {
  type FounderSubscription,
  getFounderSubscription,
  type SubscriptionSnapshot,
} from "../../lib/kv/founder_subscriptions.ts";
import { supersedes } from "../../lib/kv/supersedes.ts";
import { founderHeaders, json } from "../_helpers/app.ts";
import { OWN_STRIPE_KEY, type StripeTestApp, stripeTestApp } from "../_helpers/stripe.ts";

async function subscribe(f: StripeTestApp, userId: string) {
  const headers = founderHeaders(await f.t.signIn(userId));
  const res = await json(
    await f.t.app.request("/dashboard/api/subscribe", { method: "POST", headers }),
  );
  assert.equal(res.status, 200, res.text);
  const sessionId = new URL(res.body.url).pathname.split("/").pop()!;
  return { headers, url: res.body.url as string, sessionId };
}

async function status(f: StripeTestApp, userId: string): Promise<string> {
  return (await getFounderSubscription(f.t.kv, userId))?.status ?? "none";
}

async function webhook(f: StripeTestApp, body: string, signature?: string): Promise<Response> {
  return await f.t.app.request("/webhook/platform", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature !== undefined && { "stripe-signature": signature }),
    },
    body,
  });
}

async function sign(f: StripeTestApp, payload: string, timestamp?: number): Promise<string> {
  return await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: f.webhookSecret,
    timestamp,
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });
}

Deno.test("POST /dashboard/api/subscribe opens a subscription Checkout for STRIPE_PRICE_ID with the founder as client_reference_id", async () => {
  await using f = await stripeTestApp();
  const { url, sessionId } = await subscribe(f, "user_sub");
  assert.ok(url.startsWith(f.local.url), url);
  const session = await f.stripe(OWN_STRIPE_KEY).checkout.sessions.retrieve(sessionId);
  assert.equal(session.mode, "subscription");
  assert.equal(session.client_reference_id, "user_sub");
  assert.equal(session.success_url?.startsWith("http://localhost:8000/dashboard/billing"), true);
  assert.equal(session.cancel_url?.startsWith("http://localhost:8000/dashboard/billing"), true);
  const items = await f.stripe(OWN_STRIPE_KEY).checkout.sessions.listLineItems(sessionId);
  assert.deepEqual(items.data.map((i) => i.price?.id), [f.priceId]);
});

Deno.test("paying Checkout makes the founder active at once, and configuration opens", async () => {
  await using f = await stripeTestApp();
  const { headers, sessionId } = await subscribe(f, "user_pay");
  assert.equal(
    (await f.t.app.request("/dashboard/api/platform", { method: "POST", headers })).status,
    402,
  );
  const paid = await f.local.payCheckout(sessionId);
  assert.ok(paid.deliveries.length > 0);
  for (const d of paid.deliveries) assert.equal(d.status, 200, `${d.type}: ${d.response}`);
  assert.equal(await status(f, "user_pay"), "active");
  const record = await getFounderSubscription(f.t.kv, "user_pay");
  assert.equal(record?.subscriptionId, paid.subscription.id);
  assert.equal(record?.customerId, paid.customer.id);

  const me = await json(await f.t.app.request("/dashboard/api/me", { headers }));
  assert.equal(me.body.subscription.status, "active", me.text);
  const created = await f.t.app.request("/dashboard/api/platform", { method: "POST", headers });
  assert.equal(created.status, 201, await created.text());
  // Subscribing again while active is refused.
  const again = await json(
    await f.t.app.request("/dashboard/api/subscribe", { method: "POST", headers }),
  );
  assert.equal(again.status, 409, again.text);
  assert.equal(again.body.error.code, "conflict");
});

Deno.test("subscription events keep the status current: past_due, active again, canceled (then 402)", async () => {
  await using f = await stripeTestApp();
  const { headers, sessionId } = await subscribe(f, "user_life");
  const { subscription } = await f.local.payCheckout(sessionId);
  assert.equal(await status(f, "user_life"), "active");

  await f.local.failPayment(subscription.id);
  assert.equal(await status(f, "user_life"), "past_due");
  const gated = await json(
    await f.t.app.request("/dashboard/api/platform", { method: "POST", headers }),
  );
  assert.equal(gated.status, 402, gated.text);
  assert.equal(gated.body.error.code, "subscription_required");
  // Past due, the subscription lives on: no second checkout, the portal fixes the card.
  const second = await json(
    await f.t.app.request("/dashboard/api/subscribe", { method: "POST", headers }),
  );
  assert.equal(second.status, 409, second.text);
  assert.match(second.body.error.message, /billing portal/);

  await f.local.renewSubscription(subscription.id);
  assert.equal(await status(f, "user_life"), "active");

  await f.local.cancelSubscription(subscription.id);
  assert.equal(await status(f, "user_life"), "canceled");
});

Deno.test("POST /dashboard/api/billing-portal: a paying founder cancels in Stripe's portal, and configuration closes", async () => {
  await using f = await stripeTestApp();
  const { headers, sessionId } = await subscribe(f, "user_portal");
  const { subscription } = await f.local.payCheckout(sessionId);
  assert.equal(await status(f, "user_portal"), "active");

  const portal = await json(
    await f.t.app.request("/dashboard/api/billing-portal", { method: "POST", headers }),
  );
  assert.equal(portal.status, 200, portal.text);
  assert.match(portal.body.url, new RegExp(`^${f.local.url}/portal/bps_`));
  // The page Stripe hosts offers this founder's subscription, and its Cancel is the real one.
  const page = await (await fetch(portal.body.url)).text();
  assert.match(page, new RegExp(subscription.id));
  const canceled = await fetch(`${portal.body.url}/cancel`, {
    method: "POST",
    body: new URLSearchParams({ subscription: subscription.id }),
    redirect: "manual",
  });
  await canceled.body?.cancel();
  assert.ok(canceled.status < 400, `portal cancel answered ${canceled.status}`);
  assert.equal(await status(f, "user_portal"), "canceled");
  const gated = await f.t.app.request("/dashboard/api/platform", { method: "POST", headers });
  assert.equal(gated.status, 402, await gated.text());
});

Deno.test("POST /dashboard/api/billing-portal answers 409 before the founder's first checkout", async () => {
  await using f = await stripeTestApp();
  const headers = founderHeaders(await f.t.signIn("user_never_paid"));
  const res = await json(
    await f.t.app.request("/dashboard/api/billing-portal", { method: "POST", headers }),
  );
  assert.equal(res.status, 409, res.text);
  assert.equal(res.body.error.code, "conflict");
  assert.match(res.body.error.message, /subscribe first/);
});

Deno.test("a duplicate delivery changes nothing twice (also ten at once)", async () => {
  await using f = await stripeTestApp();
  const { sessionId } = await subscribe(f, "user_dup");
  const { subscription, events } = await f.local.payCheckout(sessionId);
  const before = await f.t.kv.get(keys.founderSubscription("user_dup"));
  const completed = events.find((e) => e.type === "checkout.session.completed")!;

  const again = await f.local.redeliverEvent(completed.id);
  assert.equal(again[0].status, 200);
  assert.match(again[0].response, /"outcome":"duplicate"/);
  const after = await f.t.kv.get(keys.founderSubscription("user_dup"));
  assert.equal(after.versionstamp, before.versionstamp, "the record was not written again");

  // The subscription is canceled; ten concurrent copies of its deleted event apply once.
  f.delivering = false;
  const { events: cancelEvents } = await f.local.cancelSubscription(subscription.id);
  f.delivering = true;
  const deleted = cancelEvents.find((e) => e.type === "customer.subscription.deleted")!;
  const results = await Promise.all(
    Array.from({ length: 10 }, () => f.local.redeliverEvent(deleted.id)),
  );
  const outcomes = results.map((r) => /"outcome":"(\w+)"/.exec(r[0].response)?.[1]).sort();
  assert.deepEqual(outcomes, ["applied", ...Array(9).fill("duplicate")]);
  assert.equal(await status(f, "user_dup"), "canceled");
});

Deno.test("order-proof: the events of pay-then-cancel delivered newest first still end canceled", async () => {
  await using f = await stripeTestApp();
  const { sessionId } = await subscribe(f, "user_order");
  f.delivering = false;
  const paid = await f.local.payCheckout(sessionId);
  const canceled = await f.local.cancelSubscription(paid.subscription.id);
  f.delivering = true;
  assert.equal(await status(f, "user_order"), "none", "nothing was delivered yet");

  const all = [...paid.events, ...canceled.events].reverse();
  for (const event of all) {
    const [delivery] = await f.local.redeliverEvent(event.id);
    if (delivery) assert.equal(delivery.status, 200, `${event.type}: ${delivery.response}`);
  }
  assert.equal(await status(f, "user_order"), "canceled");
});

Deno.test("order-proof: a failed payment's events arriving after the recovery's do not leave past_due", async () => {
  await using f = await stripeTestApp();
  const { sessionId } = await subscribe(f, "user_recover");
  const { subscription } = await f.local.payCheckout(sessionId);
  f.delivering = false;
  const failed = await f.local.failPayment(subscription.id);
  const renewed = await f.local.renewSubscription(subscription.id);
  f.delivering = true;
  // Same-second events: their `created` cannot order them; only Stripe's current state can.
  for (const event of [...renewed.events, ...failed.events]) {
    await f.local.redeliverEvent(event.id);
  }
  assert.equal(await status(f, "user_recover"), "active");
});

Deno.test("order-proof: every order of the upgrade events ends active", async () => {
  await using f = await stripeTestApp();
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  for (const [i, order] of orders.entries()) {
    const user = `user_perm_${i}`;
    const { sessionId } = await subscribe(f, user);
    f.delivering = false;
    const { events } = await f.local.payCheckout(sessionId);
    f.delivering = true;
    const relevant = events.filter((e) =>
      ["checkout.session.completed", "customer.subscription.created", "invoice.paid"].includes(
        e.type,
      )
    );
    assert.equal(relevant.length, 3, events.map((e) => e.type).join());
    for (const index of order) await f.local.redeliverEvent(relevant[index].id);
    assert.equal(await status(f, user), "active", `order ${order}`);
  }
});

Deno.test("POST /webhook/platform refuses a bad, missing, stale or tampered signature with 400 and changes nothing", async () => {
  await using f = await stripeTestApp();
  const { sessionId } = await subscribe(f, "user_sig");
  f.delivering = false;
  const { events } = await f.local.payCheckout(sessionId);
  f.delivering = true;
  const completed = events.find((e) => e.type === "checkout.session.completed")!;
  const payload = JSON.stringify(completed);
  const now = Math.floor(Date.now() / 1000);

  const cases: Record<string, [string, string | undefined]> = {
    "missing header": [payload, undefined],
    "garbage header": [payload, "nonsense"],
    "another secret": [
      payload,
      await Stripe.webhooks.generateTestHeaderStringAsync({
        payload,
        secret: "whsec_not_the_right_one",
        cryptoProvider: Stripe.createSubtleCryptoProvider(),
      }),
    ],
    "older than 300 s": [payload, await sign(f, payload, now - 301)],
    "tampered body": [
      payload.replace('"user_sig"', '"user_evil"'),
      await sign(f, payload),
    ],
  };
  for (const [name, [body, signature]] of Object.entries(cases)) {
    const res = await json(await webhook(f, body, signature));
    assert.equal(res.status, 400, `${name}: ${res.text}`);
    assert.equal(res.body.error.code, "invalid_request", name);
  }
  assert.equal(await status(f, "user_sig"), "none");
  assert.equal(await status(f, "user_evil"), "none");

  const ok = await json(await webhook(f, payload, await sign(f, payload, now - 200)));
  assert.equal(ok.status, 200, ok.text);
  assert.equal(await status(f, "user_sig"), "active");
});

Deno.test("POST /webhook/platform acknowledges unknown event types and events about no founder with 200", async () => {
  await using f = await stripeTestApp();
  const unknown = JSON.stringify({
    id: "evt_unknown_1",
    object: "event",
    type: "charge.refunded",
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: "ch_1", object: "charge" } },
  });
  const res = await json(await webhook(f, unknown, await sign(f, unknown)));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, { received: true, outcome: "ignored" });

  const stranger = JSON.stringify({
    id: "evt_stranger_1",
    object: "event",
    type: "customer.subscription.updated",
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: "sub_x", object: "subscription", customer: "cus_x", metadata: {} } },
  });
  const res2 = await json(await webhook(f, stranger, await sign(f, stranger)));
  assert.equal(res2.status, 200, res2.text);
  assert.equal(res2.body.outcome, "ignored");
});

Deno.test("when Stripe cannot be reached the webhook answers 5xx (Stripe retries) and marks nothing", async () => {
  await using f = await stripeTestApp();
  const { sessionId } = await subscribe(f, "user_down");
  f.delivering = false;
  const { events } = await f.local.payCheckout(sessionId);
  f.delivering = true;
  const completed = events.find((e) => e.type === "checkout.session.completed")!;
  const payload = JSON.stringify(completed);
  await f.local.close();
  const res = await json(await webhook(f, payload, await sign(f, payload)));
  assert.ok(res.status >= 500, res.text);
  assert.equal(await status(f, "user_down"), "none");
  const marker = await f.t.kv.get(keys.stripeEvent(OWN_STRIPE_SCOPE, completed.id));
  assert.equal(marker.versionstamp, null, "a failed event is not marked processed");
});

function snapshot(over: Partial<SubscriptionSnapshot>): SubscriptionSnapshot {
  return {
    subscriptionId: "sub_1",
    customerId: "cus_1",
    status: "active",
    created: 100,
    eventId: "evt_x",
    eventCreated: 200,
    ...over,
  };
}

function record(over: Partial<FounderSubscription>): FounderSubscription {
  return {
    userId: "u",
    status: "active",
    customerId: "cus_1",
    subscriptionId: "sub_1",
    subscriptionCreated: 100,
    eventCreated: 200,
    eventId: "evt_y",
    updatedAt: "",
    ...over,
  };
}

/** Founders' snapshots are settled by event time. */
const shouldApply = (current: FounderSubscription | null, next: SubscriptionSnapshot) =>
  supersedes(current, next, "event");

Deno.test("supersedes (founders' snapshots): a canceled subscription never comes back, and a late end of an old subscription never cancels a new one", () => {
  assert.equal(shouldApply(null, snapshot({})), true);
  assert.equal(shouldApply(record({ status: "canceled" }), snapshot({ status: "active" })), false);
  assert.equal(shouldApply(record({}), snapshot({ status: "canceled", eventCreated: 10 })), true);
  assert.equal(shouldApply(record({}), snapshot({ status: "past_due", eventCreated: 199 })), false);
  assert.equal(shouldApply(record({}), snapshot({ status: "past_due", eventCreated: 201 })), true);
  // The founder re-subscribed (sub_2); the old sub_1's deletion arrives late.
  const renewed = record({ subscriptionId: "sub_2", subscriptionCreated: 500 });
  assert.equal(shouldApply(renewed, snapshot({ status: "canceled", eventCreated: 900 })), false);
  // An old canceled record gives way to a new live subscription.
  assert.equal(
    shouldApply(
      record({ status: "canceled" }),
      snapshot({ subscriptionId: "sub_2", created: 500 }),
    ),
    true,
  );
  // Two live subscriptions: the newer one wins.
  assert.equal(
    shouldApply(renewed, snapshot({ subscriptionId: "sub_1", created: 100, eventCreated: 999 })),
    false,
  );
});

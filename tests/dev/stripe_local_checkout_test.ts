/**
 * The local Stripe's money flows: hosted Checkout and portal pages, the `/_test` controls, and the
 * signed webhook deliveries they cause, verified with the stripe SDK's own signature check.
 */
import assert from "node:assert/strict";
import type Stripe from "stripe";
import { HANDLED_EVENT_TYPES } from "../../lib/billing/events.ts";
import { createStripeFactory, webhookCrypto } from "../../lib/billing/stripe_client.ts";
import { startLocalStripe } from "../../dev/stripe/mod.ts";
import { type Receiver, startReceiver } from "./_receiver.ts";

const KEY_A = "sk_test_founder_a_0001";
const KEY_B = "sk_test_founder_b_0002";
// A month-end start shows period clamping: Jan 31 + 1 month = Feb 28.
const NOW = new Date("2027-01-31T10:00:00Z");
// The events dream-api subscribes its endpoints to.
const ALL_TYPES: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = [...HANDLED_EVENT_TYPES];

/** Verifies every request `receiver` got with `secret`, as dream-api's webhook routes do. */
async function verifiedEvents(receiver: Receiver, secret: string): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  for (const { body, signature, contentType } of receiver.received) {
    assert.match(contentType ?? "", /^application\/json/);
    assert.match(signature ?? "", /^t=\d+,v1=[0-9a-f]{64}$/);
    events.push(
      await createStripeFactory()("sk_test_unused").webhooks.constructEventAsync(
        body,
        signature!,
        secret,
        300,
        webhookCrypto,
        NOW.getTime(),
      ),
    );
  }
  return events;
}

/** A local Stripe at NOW with a founder account holding a Pro product and a monthly price. */
async function setup(key = KEY_A) {
  const server = await startLocalStripe({ now: () => NOW });
  const stripe = createStripeFactory({ apiUrl: server.url })(key);
  const price = await stripe.prices.create({
    currency: "usd",
    unit_amount: 2900,
    recurring: { interval: "month" },
    product_data: { name: "Pro" },
  });
  return { server, stripe, price };
}

async function subscribeEndpoint(stripe: Stripe, url: string, events = ALL_TYPES) {
  const endpoint = await stripe.webhookEndpoints.create({ url, enabled_events: events });
  return endpoint.secret!;
}

Deno.test("paying on the hosted Checkout page completes the session, delivers signed events, then redirects to success_url", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  await using receiver = startReceiver();
  const secret = await subscribeEndpoint(stripe, receiver.url);
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
    customer_email: "ada@example.com",
    client_reference_id: "user_1",
    success_url: "http://app.test/done?session={CHECKOUT_SESSION_ID}",
    cancel_url: "http://app.test/cancel",
    metadata: { platformId: "plat_1", userId: "user_1", tier: "pro" },
    subscription_data: { metadata: { platformId: "plat_1", userId: "user_1", tier: "pro" } },
  });
  assert.match(session.id, /^cs_test_/);
  assert.equal(session.url, `${server.url}/checkout/${session.id}`);
  assert.deepEqual([session.status, session.payment_status], ["open", "unpaid"]);

  const page = await fetch(session.url!);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  const html = await page.text();
  assert.match(html, /\$29\.00 \/ month/);
  assert.match(html, /<button type="submit" id="pay">Pay \$29\.00 \/ month<\/button>/);
  assert.match(html, /value="ada@example.com"/);

  const paid = await fetch(`${server.url}/checkout/${session.id}/pay`, {
    method: "POST",
    body: new URLSearchParams({ email: "ada@example.com" }),
    redirect: "manual",
  });
  assert.equal(paid.status, 303);
  assert.equal(paid.headers.get("location"), `http://app.test/done?session=${session.id}`);
  await paid.body?.cancel();

  // Delivered before the redirect, in this order, each verifiable with the endpoint's secret.
  const events = await verifiedEvents(receiver, secret);
  assert.deepEqual(events.map((e) => e.type), [
    "customer.subscription.created",
    "invoice.paid",
    "checkout.session.completed",
  ]);
  for (const event of events) {
    assert.match(event.id, /^evt_/);
    assert.equal(event.object, "event");
    assert.equal(event.livemode, false);
    assert.equal(event.created, Math.floor(NOW.getTime() / 1000));
    assert.equal(typeof event.api_version, "string");
  }

  const completed = events[2].data.object as Stripe.Checkout.Session;
  assert.deepEqual(
    [completed.status, completed.payment_status, completed.mode, completed.client_reference_id],
    ["complete", "paid", "subscription", "user_1"],
  );
  assert.deepEqual(completed.metadata, { platformId: "plat_1", userId: "user_1", tier: "pro" });
  assert.match(String(completed.customer), /^cus_/);
  assert.match(String(completed.subscription), /^sub_/);

  const subscription = await stripe.subscriptions.retrieve(String(completed.subscription));
  assert.equal(subscription.status, "active");
  assert.equal(subscription.customer, completed.customer);
  assert.deepEqual(subscription.metadata, { platformId: "plat_1", userId: "user_1", tier: "pro" });
  const item = subscription.items.data[0];
  assert.equal(item.price.id, price.id);
  assert.equal(item.current_period_start, Math.floor(NOW.getTime() / 1000));
  assert.equal(
    new Date(item.current_period_end * 1000).toISOString(),
    "2027-02-28T10:00:00.000Z",
  );
  const legacy = subscription as unknown as { current_period_end: number };
  assert.equal(legacy.current_period_end, item.current_period_end, "also on the subscription");

  const invoice = events[1].data.object as Stripe.Invoice;
  assert.deepEqual([invoice.status, invoice.amount_paid], ["paid", 2900]);
  assert.equal(invoice.parent?.subscription_details?.subscription, subscription.id);

  const customer = await stripe.customers.retrieve(String(completed.customer)) as Stripe.Customer;
  assert.equal(customer.email, "ada@example.com");
  const again = await stripe.checkout.sessions.retrieve(session.id);
  assert.deepEqual([again.status, again.subscription], ["complete", subscription.id]);

  const deliveries = await server.deliveries({ event: events[2].id });
  assert.deepEqual(deliveries.map((d) => [d.url, d.status, d.ok]), [[receiver.url, 200, true]]);
});

Deno.test("a session is paid once: the test control refuses a second payment, the page redirects again", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  const customer = await stripe.customers.create({ email: "known@example.com" });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://app.test/done",
  });
  const paid = await server.payCheckout(session.id);
  assert.equal(paid.customer.id, customer.id, "the given customer is reused");
  assert.equal(paid.session.subscription, paid.subscription.id);

  await assert.rejects(() => server.payCheckout(session.id), /can no longer be paid/);
  const page = await fetch(`${server.url}/checkout/${session.id}/pay`, {
    method: "POST",
    redirect: "manual",
  });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "http://app.test/done");
  await page.body?.cancel();
  assert.equal((await stripe.subscriptions.list({ customer: customer.id })).data.length, 1);
});

Deno.test("events go only to the endpoints of the session's account that subscribed to their type", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  const other = createStripeFactory({ apiUrl: server.url })(KEY_B);
  await using mine = startReceiver();
  await using theirs = startReceiver();
  await subscribeEndpoint(stripe, mine.url, ["checkout.session.completed"]);
  await subscribeEndpoint(other, theirs.url, ["*"]);

  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://app.test/done",
  });
  const paid = await server.payCheckout(session.id, { email: "b@example.com" });
  assert.deepEqual(mine.types(), ["checkout.session.completed"]);
  assert.deepEqual(theirs.types(), []);
  assert.ok(paid.events.length >= 4, "the events exist even when nobody listens");
  assert.equal(paid.customer.email, "b@example.com");
});

Deno.test("the hosted portal switches plans and cancels, delivering updated and deleted events, and returns", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  await using receiver = startReceiver();
  const secret = await subscribeEndpoint(stripe, receiver.url);
  const team = await stripe.prices.create({
    currency: "usd",
    unit_amount: 9900,
    recurring: { interval: "month" },
    product_data: { name: "Team" },
  });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://app.test/done",
  });
  const { subscription, customer } = await server.payCheckout(session.id);
  receiver.received.length = 0;

  const portal = await stripe.billingPortal.sessions.create({
    customer: customer.id,
    return_url: "http://app.test/account",
  });
  assert.match(portal.id, /^bps_/);
  assert.equal(portal.url, `${server.url}/portal/${portal.id}`);
  const page = await fetch(portal.url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Cancel subscription/);
  assert.match(html, /Switch to Team \(\$99\.00 \/ month\)/);

  const form = (fields: Record<string, string>) => ({
    method: "POST",
    body: new URLSearchParams(fields),
    redirect: "manual" as const,
  });
  const switched = await fetch(
    `${portal.url}/switch`,
    form({ subscription: subscription.id, price: team.id }),
  );
  assert.equal(switched.status, 303);
  assert.match(
    switched.headers.get("location") ?? "",
    new RegExp(`^/portal/${portal.id}\\?notice=`),
  );
  await switched.body?.cancel();
  const updated = await stripe.subscriptions.retrieve(subscription.id);
  assert.equal(updated.items.data[0].price.id, team.id);
  assert.equal(updated.items.data[0].id, subscription.items.data[0].id, "the item is kept");

  const canceled = await fetch(`${portal.url}/cancel`, form({ subscription: subscription.id }));
  assert.equal(canceled.status, 303);
  await canceled.body?.cancel();
  assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "canceled");
  assert.deepEqual((await stripe.subscriptions.list({ customer: customer.id })).data, []);
  const all = await stripe.subscriptions.list({ customer: customer.id, status: "all" });
  assert.equal(all.data.length, 1);

  const events = await verifiedEvents(receiver, secret);
  assert.deepEqual(events.map((e) => e.type), [
    "customer.subscription.updated",
    "customer.subscription.deleted",
  ]);
  const previous = events[0].data.previous_attributes as Partial<Stripe.Subscription>;
  assert.equal(previous.items?.data[0].price.id, price.id);
  assert.equal((events[1].data.object as Stripe.Subscription).status, "canceled");

  const returned = await fetch(`${portal.url}/return`, form({}));
  assert.equal(returned.status, 303);
  assert.equal(returned.headers.get("location"), "http://app.test/account");
  await returned.body?.cancel();

  const foreign = await fetch(`${portal.url}/cancel`, form({ subscription: "sub_nope" }));
  assert.equal(foreign.status, 404);
  await foreign.body?.cancel();
});

Deno.test("a failed renewal makes the subscription past_due with invoice.payment_failed; renewing recovers it", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  await using receiver = startReceiver();
  const secret = await subscribeEndpoint(stripe, receiver.url);
  const customer = await stripe.customers.create({ email: "c@example.com" });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    metadata: { tier: "pro" },
  });
  assert.equal(subscription.status, "active");
  receiver.received.length = 0;

  const failed = await server.failPayment(subscription.id);
  assert.equal(failed.subscription.status, "past_due");
  assert.equal(failed.invoice?.status, "open");
  const recovered = await server.renewSubscription(subscription.id);
  assert.equal(recovered.subscription.status, "active");
  assert.equal(recovered.invoice?.id, failed.invoice?.id, "the open invoice is the one paid");

  const events = await verifiedEvents(receiver, secret);
  assert.deepEqual(events.map((e) => e.type), [
    "invoice.payment_failed",
    "customer.subscription.updated",
    "invoice.paid",
    "customer.subscription.updated",
  ]);
  assert.deepEqual(
    (events[1].data.previous_attributes as Partial<Stripe.Subscription>).status,
    "active",
  );
  assert.equal((events[1].data.object as Stripe.Subscription).status, "past_due");
  assert.equal(
    (events[1].data.object as Stripe.Subscription).items.data[0].current_period_start,
    subscription.items.data[0].current_period_end,
    "the failed renewal opened the next period",
  );
});

Deno.test("subscriptions update through the API: cancel_at_period_end, and a price switch by item id", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  await using receiver = startReceiver();
  const secret = await subscribeEndpoint(stripe, receiver.url, ["customer.subscription.updated"]);
  const customer = await stripe.customers.create({});
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
  });
  const ending = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
  assert.equal(ending.cancel_at_period_end, true);
  assert.equal(ending.cancel_at, subscription.items.data[0].current_period_end);

  const yearly = await stripe.prices.create({
    currency: "usd",
    unit_amount: 29000,
    recurring: { interval: "year" },
    product_data: { name: "Pro yearly" },
  });
  const switched = await stripe.subscriptions.update(subscription.id, {
    items: [{ id: subscription.items.data[0].id, price: yearly.id }],
  });
  assert.equal(switched.items.data.length, 1);
  assert.equal(switched.items.data[0].price.id, yearly.id);

  const events = await verifiedEvents(receiver, secret);
  assert.deepEqual(events.map((e) => e.type), [
    "customer.subscription.updated",
    "customer.subscription.updated",
  ]);
  assert.deepEqual(events[0].data.previous_attributes, {
    cancel_at: null,
    cancel_at_period_end: false,
    cancellation_details: { comment: null, feedback: null, reason: null },
  });

  const canceled = await stripe.subscriptions.cancel(subscription.id);
  assert.equal(canceled.status, "canceled");
  await assert.rejects(() => stripe.subscriptions.cancel(subscription.id), /canceled subscription/);
});

Deno.test("a failing endpoint is recorded and the account's other endpoints still get the event", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  await using broken = startReceiver(500);
  await using working = startReceiver();
  await subscribeEndpoint(stripe, broken.url, ["checkout.session.completed"]);
  await subscribeEndpoint(stripe, "http://127.0.0.1:9/unreachable", ["checkout.session.completed"]);
  await subscribeEndpoint(stripe, working.url, ["checkout.session.completed"]);
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
  });
  const { deliveries } = await server.payCheckout(session.id);
  assert.deepEqual(deliveries.map((d) => [d.url, d.status, d.ok]), [
    [broken.url, 500, false],
    ["http://127.0.0.1:9/unreachable", null, false],
    [working.url, 200, true],
  ]);
  assert.ok(deliveries[1].error, "the connection error is kept");
  assert.deepEqual(working.types(), ["checkout.session.completed"]);
  assert.equal((await server.deliveries({ type: "checkout.session.completed" })).length, 3);
});

Deno.test("sendEvent signs and delivers any event for an account; redelivery repeats the same event id", async () => {
  const { server, stripe } = await setup();
  await using _server = server;
  await using receiver = startReceiver();
  const secret = await subscribeEndpoint(stripe, receiver.url);
  const { event, deliveries } = await server.sendEvent({
    secretKey: KEY_A,
    type: "customer.subscription.deleted",
    object: { id: "sub_made_up", object: "subscription", status: "canceled", metadata: {} },
  });
  assert.equal(deliveries.length, 1);
  await server.redeliverEvent(event.id);
  const events = await verifiedEvents(receiver, secret);
  assert.deepEqual(events.map((e) => e.id), [event.id, event.id]);
  assert.equal((events[0].data.object as Stripe.Subscription).id, "sub_made_up");
  assert.equal((await stripe.events.retrieve(event.id)).type, "customer.subscription.deleted");

  // A signature made with another endpoint's secret does not verify.
  await assert.rejects(() =>
    createStripeFactory()("sk_test_unused").webhooks.constructEventAsync(
      receiver.received[0].body,
      receiver.received[0].signature!,
      "whsec_someoneElse",
      300,
      webhookCrypto,
      NOW.getTime(),
    )
  );
});

Deno.test("an expired session cannot be paid on the page or by the test control", async () => {
  const { server, stripe, price } = await setup();
  await using _server = server;
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://app.test/done",
  });
  const expired = await stripe.checkout.sessions.expire(session.id);
  assert.deepEqual([expired.status, expired.url], ["expired", null]);
  const page = await fetch(`${server.url}/checkout/${session.id}/pay`, {
    method: "POST",
    redirect: "manual",
  });
  assert.equal(page.status, 410);
  assert.match(await page.text(), /This checkout session has expired/);
  await assert.rejects(() => server.payCheckout(session.id), /expired and can no longer be paid/);
  assert.deepEqual((await stripe.subscriptions.list()).data, []);
});

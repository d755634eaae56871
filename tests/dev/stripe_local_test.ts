/** The local Stripe's /v1 API, driven by the real stripe SDK through dream-api's client factory. */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { accountIdFor, startLocalStripe } from "../../dev/stripe/mod.ts";
import { refusal } from "../_helpers/stripe.ts";

const KEY_A = "sk_test_founder_a_0001";
const KEY_B = "sk_test_founder_b_0002";

async function withStripe(fn: (clients: (key: string) => Stripe, url: string) => Promise<void>) {
  await using server = await startLocalStripe();
  await fn(createStripeFactory({ apiUrl: server.url }), server.url);
}

Deno.test("products, prices and customers are created, read, listed and updated through the SDK", () =>
  withStripe(async (clients) => {
    const stripe = clients(KEY_A);
    const product = await stripe.products.create({ name: "Pro", metadata: { tier: "pro" } });
    assert.match(product.id, /^prod_/);
    assert.equal(product.object, "product");
    assert.equal(product.livemode, false);
    assert.deepEqual(product.metadata, { tier: "pro" });
    assert.equal(typeof product.created, "number");

    const renamed = await stripe.products.update(product.id, {
      name: "Pro plan",
      metadata: { tier: "", platformId: "p1" },
    });
    assert.equal(renamed.name, "Pro plan");
    assert.deepEqual(
      renamed.metadata,
      { platformId: "p1" },
      "an empty metadata value removes the key",
    );
    assert.equal((await stripe.products.retrieve(product.id)).name, "Pro plan");

    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2900,
      recurring: { interval: "month" },
      lookup_key: "pro_monthly",
    });
    assert.match(price.id, /^price_/);
    assert.equal(price.unit_amount, 2900);
    assert.equal(price.type, "recurring");
    assert.deepEqual(
      [price.recurring?.interval, price.recurring?.interval_count],
      ["month", 1],
    );
    await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 100 });

    const byLookup = await stripe.prices.list({ lookup_keys: ["pro_monthly"] });
    assert.deepEqual(byLookup.data.map((p) => p.id), [price.id]);
    assert.equal(byLookup.object, "list");
    assert.equal((await stripe.prices.list({ product: product.id })).data.length, 2);

    await stripe.prices.update(price.id, { active: false });
    const active = await stripe.prices.list({ product: product.id, active: true });
    assert.equal(active.data.length, 1);
    assert.notEqual(active.data[0].id, price.id);

    const customer = await stripe.customers.create({
      email: "ada@example.com",
      metadata: { userId: "u1" },
    });
    assert.match(customer.id, /^cus_/);
    assert.equal(
      (await stripe.customers.retrieve(customer.id) as Stripe.Customer).email,
      "ada@example.com",
    );
    const found = await stripe.customers.list({ email: "ada@example.com" });
    assert.deepEqual(found.data.map((c) => c.id), [customer.id]);
    const searched = await stripe.customers.search({ query: "metadata['userId']:'u1'" });
    assert.deepEqual(searched.data.map((c) => c.id), [customer.id]);
  }));

Deno.test("a webhook endpoint shows its whsec_ secret on creation only, and can be updated and deleted", () =>
  withStripe(async (clients) => {
    const stripe = clients(KEY_A);
    const endpoint = await stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:9/webhook/stripe",
      enabled_events: ["checkout.session.completed", "customer.subscription.updated"],
    });
    assert.match(endpoint.id, /^we_/);
    assert.match(endpoint.secret ?? "", /^whsec_[A-Za-z0-9]{32}$/);
    assert.equal(endpoint.status, "enabled");

    assert.equal((await stripe.webhookEndpoints.retrieve(endpoint.id)).secret, undefined);
    const listed = await stripe.webhookEndpoints.list();
    assert.deepEqual(listed.data.map((e) => [e.id, e.secret]), [[endpoint.id, undefined]]);

    const updated = await stripe.webhookEndpoints.update(endpoint.id, { enabled_events: ["*"] });
    assert.deepEqual(updated.enabled_events, ["*"]);

    const deleted = await stripe.webhookEndpoints.del(endpoint.id);
    assert.deepEqual(deleted, { id: endpoint.id, object: "webhook_endpoint", deleted: true });
    const gone = await refusal(() => stripe.webhookEndpoints.retrieve(endpoint.id));
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.code, "resource_missing");
  }));

Deno.test("each API key is its own account: its own id and livemode, and no sight of another's objects", () =>
  withStripe(async (clients) => {
    const a = clients(KEY_A);
    const b = clients(KEY_B);
    const live = clients("rk_live_founder_c_0003");
    const accountA = await a.accounts.retrieveCurrent();
    assert.equal(accountA.id, accountIdFor(KEY_A));
    assert.match(accountA.id, /^acct_/);
    assert.notEqual((await b.accounts.retrieveCurrent()).id, accountA.id);
    assert.equal((await a.accounts.retrieveCurrent()).id, accountA.id, "the id is stable");

    const product = await a.products.create({ name: "A's product" });
    assert.equal(product.livemode, false);
    assert.equal((await live.products.create({ name: "live" })).livemode, true);

    const refused = await refusal(() => b.products.retrieve(product.id));
    assert.ok(refused instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(refused.statusCode, 404);
    assert.equal(refused.message, `No such product: '${product.id}'`);
    assert.deepEqual((await b.products.list()).data, []);
    assert.equal((await a.products.list()).data.length, 1);
  }));

Deno.test("a repeated Idempotency-Key replays the first response and creates nothing twice", () =>
  withStripe(async (clients) => {
    const a = clients(KEY_A);
    const first = await a.customers.create({ email: "x@example.com" }, { idempotencyKey: "once" });
    const again = await a.customers.create({ email: "x@example.com" }, { idempotencyKey: "once" });
    assert.equal(again.id, first.id);
    // stripe-node's fetch client hands over the fetch Headers object.
    const headers = again.lastResponse.headers as unknown as Headers;
    assert.equal(headers.get("idempotent-replayed"), "true");
    assert.equal(headers.get("request-id"), first.lastResponse.requestId);
    assert.equal((await a.customers.list()).data.length, 1);

    const misuse = await refusal(() =>
      a.customers.create({ email: "other@example.com" }, { idempotencyKey: "once" })
    );
    assert.ok(misuse instanceof Stripe.errors.StripeIdempotencyError, misuse.message);

    // Keys are scoped to the account, as at Stripe.
    const b = clients(KEY_B);
    const other = await b.customers.create({ email: "x@example.com" }, { idempotencyKey: "once" });
    assert.notEqual(other.id, first.id);
  }));

Deno.test("keys that are not Stripe keys, or are revoked, get Stripe's 401 and the SDK's StripeAuthenticationError", () =>
  withStripe(async (clients, url) => {
    for (
      const key of ["sk_test_revoked_1234abcd", "sk_test_invalid_key_9999", "pk_test_abc", "hello"]
    ) {
      const refused = await refusal(() => clients(key).accounts.retrieveCurrent());
      assert.ok(
        refused instanceof Stripe.errors.StripeAuthenticationError,
        `${key}: ${refused.type}`,
      );
      assert.equal(refused.statusCode, 401);
      assert.match(refused.message, /^Invalid API Key provided: /);
      assert.ok(!refused.message.includes(key) || key.length <= 12, "the key is masked");
    }
    const noKey = await fetch(`${url}/v1/account`);
    assert.equal(noKey.status, 401);
    assert.match(noKey.headers.get("content-type") ?? "", /application\/json/);
    const body = await noKey.json();
    assert.equal(body.error.type, "invalid_request_error", JSON.stringify(body));
  }));

Deno.test("unknown ids answer resource_missing and missing parameters answer parameter_missing naming the param", () =>
  withStripe(async (clients) => {
    const a = clients(KEY_A);
    const missing = await refusal(() => a.prices.retrieve("price_nope"));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, "resource_missing");
    assert.equal(missing.param, "id");

    const noAmount = await refusal(() =>
      a.prices.create({ currency: "usd", product_data: { name: "X" } } as Stripe.PriceCreateParams)
    );
    assert.equal(noAmount.statusCode, 400);
    assert.equal(noAmount.code, "parameter_missing");
    assert.equal(noAmount.param, "unit_amount");

    const noName = await refusal(() => a.products.create({} as Stripe.ProductCreateParams));
    assert.equal(noName.param, "name");

    const badPrice = await refusal(() =>
      a.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price: "price_nope", quantity: 1 }],
        success_url: "http://localhost/ok",
      })
    );
    assert.equal(badPrice.statusCode, 400);
    assert.equal(badPrice.code, "resource_missing");
    assert.equal(badPrice.param, "line_items[0][price]");

    const noCustomer = await refusal(() =>
      a.billingPortal.sessions.create({ customer: "cus_nope" })
    );
    assert.equal(noCustomer.param, "customer");
  }));

Deno.test("lists answer newest first, paged by limit and starting_after, and auto-paginate", () =>
  withStripe(async (clients) => {
    const a = clients(KEY_A);
    const ids: string[] = [];
    for (const name of ["one", "two", "three"]) ids.push((await a.products.create({ name })).id);
    const page = await a.products.list({ limit: 2 });
    assert.deepEqual(page.data.map((p) => p.id), [ids[2], ids[1]]);
    assert.equal(page.has_more, true);
    assert.equal(page.url, "/v1/products");
    const next = await a.products.list({ limit: 2, starting_after: ids[1] });
    assert.deepEqual(next.data.map((p) => p.id), [ids[0]]);
    assert.equal(next.has_more, false);
    const all = await a.products.list({ limit: 1 }).autoPagingToArray({ limit: 10 });
    assert.deepEqual(all.map((p) => p.id), [...ids].reverse());
  }));

Deno.test("expand[] replaces ids by objects, and line_items lists a Checkout Session's items", () =>
  withStripe(async (clients) => {
    const a = clients(KEY_A);
    const product = await a.products.create({ name: "Pro" });
    const price = await a.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 900,
      recurring: { interval: "month" },
    });
    const [expanded] = (await a.prices.list({ expand: ["data.product"] })).data;
    assert.equal((expanded.product as Stripe.Product).name, "Pro");
    assert.equal(
      (await a.prices.retrieve(price.id)).product,
      product.id,
      "stored objects keep ids",
    );

    const session = await a.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: price.id, quantity: 2 }],
      customer_email: "ada@example.com",
      success_url: "http://localhost/ok",
    });
    assert.equal(session.amount_total, 1800);
    const withItems = await a.checkout.sessions.retrieve(session.id, { expand: ["line_items"] });
    const item = withItems.line_items!.data[0];
    assert.deepEqual([item.price?.id, item.quantity, item.amount_total], [price.id, 2, 1800]);
    const listed = await a.checkout.sessions.listLineItems(session.id);
    assert.equal(listed.data[0].description, "Pro");
  }));

Deno.test("checkout sessions validate their parameters as Stripe does", () =>
  withStripe(async (clients) => {
    const a = clients(KEY_A);
    const customer = await a.customers.create({ email: "a@example.com" });
    const oneTime = await a.prices.create({
      currency: "usd",
      unit_amount: 500,
      product_data: { name: "Once" },
    });
    const both = await refusal(() =>
      a.checkout.sessions.create({
        mode: "subscription",
        customer: customer.id,
        customer_email: "a@example.com",
        line_items: [{ price: oneTime.id, quantity: 1 }],
      })
    );
    assert.match(both.message, /only specify one of these parameters: customer, customer_email/);
    const notRecurring = await refusal(() =>
      a.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price: oneTime.id, quantity: 1 }],
      })
    );
    assert.match(notRecurring.message, /at least one recurring price/);
    const noQuantity = await refusal(() =>
      a.checkout.sessions.create({ mode: "subscription", line_items: [{ price: oneTime.id }] })
    );
    assert.equal(noQuantity.param, "line_items[0][quantity]");
    const monthly = await a.prices.create({
      currency: "usd",
      unit_amount: 500,
      recurring: { interval: "month" },
      product_data: { name: "Monthly" },
    });
    const badUrl = await refusal(() =>
      a.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price: monthly.id, quantity: 1 }],
        success_url: "javascript:alert(1)",
      })
    );
    assert.equal(badUrl.param, "success_url");
  }));

Deno.test("an endpoint's url is updated in place (POST /v1/webhook_endpoints/:id url=…): same id, same secret, deliveries follow", async () => {
  const received: string[] = [];
  await using server = await startLocalStripe({
    fetch: (input) => {
      received.push(String(input));
      return Promise.resolve(new Response("{}", { status: 200 }));
    },
  });
  const stripe = createStripeFactory({ apiUrl: server.url })(KEY_A);
  const endpoint = await stripe.webhookEndpoints.create({
    url: "http://127.0.0.1:9/webhook/stripe",
    enabled_events: ["customer.created"],
  });
  const updated = await stripe.webhookEndpoints.update(endpoint.id, {
    url: "http://127.0.0.1:9/webhook/stripe?platform=plt_a",
  });
  assert.equal(updated.id, endpoint.id);
  assert.equal(updated.url, "http://127.0.0.1:9/webhook/stripe?platform=plt_a");
  const { deliveries } = await server.sendEvent({
    secretKey: KEY_A,
    type: "customer.created",
    object: { id: "cus_1", object: "customer" },
  });
  assert.deepEqual(received, ["http://127.0.0.1:9/webhook/stripe?platform=plt_a"]);
  assert.equal(deliveries[0].url, "http://127.0.0.1:9/webhook/stripe?platform=plt_a");
  // Stripe keeps the signing secret across updates: the delivery is signed with the first one.
  const stored = server.store.accounts[accountIdFor(KEY_A)].objects[endpoint.id];
  assert.equal(stored.secret, endpoint.secret);
});

Deno.test("injected faults answer Stripe's error for 5xx, 429, 403 and 404 until cleared, and the SDK raises Stripe's classes", async () => {
  await using server = await startLocalStripe();
  const stripe = createStripeFactory({ apiUrl: server.url })(KEY_A);
  const customer = await stripe.customers.create({ email: "f@example.com" });
  const cases: [number, string, string | undefined][] = [
    [500, "StripeAPIError", undefined],
    [429, "StripeRateLimitError", "rate_limit"],
    [403, "StripePermissionError", undefined],
    [404, "StripeInvalidRequestError", "resource_missing"],
  ];
  for (const [status, type, code] of cases) {
    await server.injectFault({ path: "/v1/customers/", method: "GET", status });
    const error = await refusal(() => stripe.customers.retrieve(customer.id));
    assert.equal(error.statusCode, status);
    assert.equal(error.type, type);
    assert.equal(error.code, code);
    // Other paths and methods are untouched.
    assert.equal((await stripe.customers.update(customer.id, { name: "F" })).id, customer.id);
    await server.clearFaults();
  }
  assert.equal((await stripe.customers.retrieve(customer.id)).id, customer.id);
});

/** `bootstrapLocalStripe`: dream-api's own account in the local Stripe, for `deno task dev`. */
import assert from "node:assert/strict";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import {
  bootstrapLocalStripe,
  CONNECT_EVENTS,
  LOCAL_OWN_STRIPE_KEY,
  LocalStripeClient,
} from "../../dev/stripe/mod.ts";

Deno.test("bootstrap creates the dream-api product, its $29/month price and the /webhook/platform endpoint, and reuses them on restart", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/state/stripe-local.json`;
  const publicUrl = "http://localhost:8123";
  try {
    const first = await bootstrapLocalStripe({ publicUrl, port: 0, statePath });
    let firstSecret: string, firstClientId: string;
    try {
      assert.equal(first.secretKey, LOCAL_OWN_STRIPE_KEY);
      assert.match(first.priceId, /^price_/);
      assert.match(first.webhookSecret, /^whsec_/);
      firstSecret = first.webhookSecret;
      firstClientId = first.connectClientId;
      const stripe = createStripeFactory({ apiUrl: first.apiUrl })(first.secretKey);
      const price = await stripe.prices.retrieve(first.priceId, { expand: ["product"] });
      assert.deepEqual(
        [price.unit_amount, price.currency, price.recurring?.interval, price.active],
        [2900, "usd", "month", true],
      );
      assert.equal((price.product as { name: string }).name, "dream-api");
      const endpoints = (await stripe.webhookEndpoints.list()).data;
      const endpoint = endpoints.find((e) => e.url === `${publicUrl}/webhook/platform`)!;
      assert.ok(endpoint, JSON.stringify(endpoints));
      assert.equal(endpoint.application, null, "dream-api's own events");
      assert.deepEqual(endpoint.enabled_events, [
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
      ]);
    } finally {
      await first.close();
    }

    const second = await bootstrapLocalStripe({ publicUrl, port: 0, statePath });
    try {
      assert.equal(second.priceId, first.priceId, "the saved price is reused");
      assert.notEqual(second.webhookSecret, firstSecret, "the endpoint is replaced");
      assert.equal(second.connectClientId, firstClientId, "the Connect client id is stable");
      const stripe = createStripeFactory({ apiUrl: second.apiUrl })(second.secretKey);
      assert.equal((await stripe.webhookEndpoints.list()).data.length, 2);
      assert.equal((await stripe.prices.list()).data.length, 1);
      assert.equal((await stripe.products.list()).data.length, 1);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bootstrap supplies dream-api's Connect client id, the Connect URL and a Connect endpoint at /webhook/stripe, stable across restarts", async () => {
  const publicUrl = "http://localhost:8124";
  const first = await bootstrapLocalStripe({ publicUrl, port: 0, statePath: null });
  try {
    assert.match(first.connectClientId, /^ca_/);
    assert.equal(first.connectUrl, first.apiUrl);
    assert.match(first.connectWebhookSecret, /^whsec_/);
    const stripe = createStripeFactory({ apiUrl: first.apiUrl })(first.secretKey);
    const endpoint = (await stripe.webhookEndpoints.list()).data.find((e) =>
      e.url === `${publicUrl}/webhook/stripe`
    );
    assert.equal(endpoint?.application, first.connectClientId, "a Connect endpoint");
    assert.deepEqual(endpoint?.enabled_events, CONNECT_EVENTS);
    assert.ok(CONNECT_EVENTS.includes("account.application.deauthorized"));

    // The redirect URI dream-api's callback uses is registered: the consent page opens.
    const authorize = new URL("/oauth/authorize", first.connectUrl);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: first.connectClientId,
      scope: "read_write",
      redirect_uri: `${publicUrl}/dashboard/stripe/callback`,
      state: "s",
    }).toString();
    const back = await new LocalStripeClient(first.connectUrl).approveConnect(authorize.href, {
      newAccountName: "Founder's shop",
    });
    assert.equal(back.pathname, "/dashboard/stripe/callback");
    const token = await stripe.oauth.token({
      grant_type: "authorization_code",
      code: back.searchParams.get("code")!,
    });
    assert.match(token.stripe_user_id!, /^acct_/);
  } finally {
    await first.close();
  }
});

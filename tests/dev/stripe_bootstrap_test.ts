/** `bootstrapLocalStripe`: dream-api's own account in the local Stripe, for `deno task dev`. */
import assert from "node:assert/strict";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { bootstrapLocalStripe, LOCAL_OWN_STRIPE_KEY } from "../../dev/stripe/mod.ts";

Deno.test("bootstrap creates the dream-api product, its $29/month price and the /webhook/platform endpoint, and reuses them on restart", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/state/stripe-local.json`;
  const publicUrl = "http://localhost:8123";
  try {
    const first = await bootstrapLocalStripe({ publicUrl, port: 0, statePath });
    let firstSecret: string;
    try {
      assert.equal(first.secretKey, LOCAL_OWN_STRIPE_KEY);
      assert.match(first.priceId, /^price_/);
      assert.match(first.webhookSecret, /^whsec_/);
      firstSecret = first.webhookSecret;
      const stripe = createStripeFactory({ apiUrl: first.apiUrl })(first.secretKey);
      const price = await stripe.prices.retrieve(first.priceId, { expand: ["product"] });
      assert.deepEqual(
        [price.unit_amount, price.currency, price.recurring?.interval, price.active],
        [2900, "usd", "month", true],
      );
      assert.equal((price.product as { name: string }).name, "dream-api");
      const [endpoint] = (await stripe.webhookEndpoints.list()).data;
      assert.equal(endpoint.url, `${publicUrl}/webhook/platform`);
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
      const stripe = createStripeFactory({ apiUrl: second.apiUrl })(second.secretKey);
      assert.equal((await stripe.webhookEndpoints.list()).data.length, 1);
      assert.equal((await stripe.prices.list()).data.length, 1);
      assert.equal((await stripe.products.list()).data.length, 1);
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

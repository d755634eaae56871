/**
 * The local Stripe's hosted pages in a real browser (Debian's chromium, playwright-core): Pay on
 * Checkout lands on success_url; the portal switches plan, cancels and returns. Screenshots go to
 * `test-results/screenshots/local-stripe-*.png`.
 */
import assert from "node:assert/strict";
import { startLocalStripe } from "../../dev/stripe/mod.ts";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { startReceiver } from "./_receiver.ts";
import { hasChromium, launchChromium, SHOTS } from "../_helpers/browser.ts";

Deno.test({
  name:
    "a browser pays on the hosted Checkout page, then switches plan, cancels and returns in the portal",
  ignore: !hasChromium,
  // The browser is a process of this test; playwright keeps sockets past each call.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using local = await startLocalStripe();
    await using app = startReceiver(); // stands in for the app's success and return pages
    const stripe = createStripeFactory({ apiUrl: local.url })("sk_test_browser_founder");
    const pro = await stripe.prices.create({
      currency: "usd",
      unit_amount: 2900,
      recurring: { interval: "month" },
      product_data: { name: "Pro" },
    });
    const team = await stripe.prices.create({
      currency: "usd",
      unit_amount: 9900,
      recurring: { interval: "month" },
      product_data: { name: "Team" },
    });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: pro.id, quantity: 1 }],
      success_url: `${app.url}?paid={CHECKOUT_SESSION_ID}`,
      cancel_url: `${app.url}?canceled=1`,
    });

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      await page.goto(session.url!);
      await page.getByLabel("Email").fill("ada@example.com");
      await page.screenshot({ path: new URL("local-stripe-checkout.png", SHOTS).pathname });
      await page.getByRole("button", { name: /^Pay \$29\.00/ }).click();
      await page.waitForURL(`${app.url}?paid=${session.id}`);

      const paid = await stripe.checkout.sessions.retrieve(session.id);
      assert.deepEqual([paid.status, paid.payment_status], ["complete", "paid"]);
      const subscription = await stripe.subscriptions.retrieve(String(paid.subscription));
      assert.equal(subscription.status, "active");

      const portal = await stripe.billingPortal.sessions.create({
        customer: String(paid.customer),
        return_url: `${app.url}?back=1`,
      });
      await page.goto(portal.url);
      await page.getByText("ada@example.com").waitFor();
      await page.screenshot({ path: new URL("local-stripe-portal.png", SHOTS).pathname });
      await page.getByRole("button", { name: "Switch to Team ($99.00 / month)" }).click();
      await page.getByRole("status").getByText("Your plan has been changed.").waitFor();
      const switched = await stripe.subscriptions.retrieve(subscription.id);
      assert.equal(switched.items.data[0].price.id, team.id);

      await page.getByRole("button", { name: "Cancel subscription" }).click();
      await page.getByText("No active subscriptions.").waitFor();
      assert.equal((await stripe.subscriptions.retrieve(subscription.id)).status, "canceled");

      await page.getByRole("button", { name: "Return" }).click();
      await page.waitForURL(`${app.url}?back=1`);
    } finally {
      await browser.close();
    }
  },
});

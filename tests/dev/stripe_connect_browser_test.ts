/**
 * The local Stripe's Connect consent page in a real browser (Debian's chromium, playwright-core):
 * an account another platform holds cannot be chosen, "Connect" with a new account goes back with a
 * code the platform exchanges, "Deny" goes back with access_denied. Screenshots at 1280 and 375 px
 * go to `test-results/screenshots/local-stripe-connect-*.png`.
 */
import assert from "node:assert/strict";
import { startLocalStripe } from "../../dev/stripe/mod.ts";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { startReceiver } from "./_receiver.ts";
import { hasChromium, launchChromium, SHOTS } from "../_helpers/browser.ts";

Deno.test({
  name:
    "a browser connects a new account on the consent page (the platform exchanges the code), and Deny goes back with access_denied",
  ignore: !hasChromium,
  // The browser is a process of this test; playwright keeps sockets past each call.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using local = await startLocalStripe();
    await using app = startReceiver(); // stands in for the platform's callback page
    const key = "sk_test_browser_platform";
    const stripe = createStripeFactory({ apiUrl: local.url })(key);
    const application = await local.registerApplication(key, {
      name: "dream-api",
      redirectUris: [app.url],
    });
    // An account held by another platform, and one that is free to connect.
    const otherKey = "sk_test_browser_other_platform";
    const other = await local.registerApplication(otherKey, { redirectUris: [app.url] });
    const heldUrl = new URL("/oauth/authorize", local.url);
    heldUrl.search = `response_type=code&client_id=${other.id}&scope=read_write`;
    const held = await local.approveConnect(heldUrl.href, { newAccountName: "Held by Other" });
    await createStripeFactory({ apiUrl: local.url })(otherKey).oauth.token({
      grant_type: "authorization_code",
      code: held.searchParams.get("code")!,
    });
    await local.createAccount({ displayName: "Ada's existing shop" });

    const authorize = new URL("/oauth/authorize", local.url);
    authorize.search = new URLSearchParams({
      response_type: "code",
      client_id: application.id,
      scope: "read_write",
      redirect_uri: app.url,
      state: "browser-state",
    }).toString();

    const browser = await launchChromium();
    try {
      for (const width of [1280, 375]) {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        await page.goto(authorize.href);
        await page.getByRole("heading", { name: "Connect to dream-api" }).waitFor();
        const blocked = page.getByRole("radio", { name: /Held by Other/ });
        assert.equal(await blocked.isDisabled(), true, "another platform's account is disabled");
        await page.getByText("This account is connected to another platform.").waitFor();
        await page.getByLabel("Business name").fill(`Ada's new shop ${width}`);
        await page.screenshot({
          path: new URL(`local-stripe-connect-${width}.png`, SHOTS).pathname,
          fullPage: true,
        });
        await page.getByRole("button", { name: "Connect" }).click();
        await page.waitForURL((url) => url.searchParams.has("code"));
        const back = new URL(page.url());
        assert.equal(back.searchParams.get("state"), "browser-state");
        const token = await stripe.oauth.token({
          grant_type: "authorization_code",
          code: back.searchParams.get("code")!,
        });
        const account = await stripe.accounts.retrieve(token.stripe_user_id!);
        assert.equal(account.settings?.dashboard.display_name, `Ada's new shop ${width}`);
        await page.close();
      }

      const page = await browser.newPage({ viewport: { width: 375, height: 900 } });
      await page.goto(authorize.href);
      await page.getByRole("button", { name: "Deny" }).click();
      await page.waitForURL((url) => url.searchParams.has("error"));
      const denied = new URL(page.url());
      assert.equal(denied.searchParams.get("error"), "access_denied");
      assert.equal(denied.searchParams.get("state"), "browser-state");
    } finally {
      await browser.close();
    }
  },
});

/**
 * The founders' dashboard in a real browser (Debian's chromium driven by playwright-core),
 * against the real server (`main.ts` as a subprocess) and the local Stripe-compatible server:
 * sign in, pay, create the platform, copy the key once, edit tiers, connect Stripe and sync,
 * count a tenant-API call and see it on the dashboard. Screenshots of every page, desktop and
 * 375 px phone, go to `test-results/screenshots/`.
 */
import assert from "node:assert/strict";
import { startStack } from "../_helpers/stack.ts";
import { CHROMIUM, DESKTOP, hasChromium, launchChromium, snap } from "../_helpers/browser.ts";

if (!hasChromium) {
  console.warn(
    `tests/e2e/dashboard_test.ts: skipped, ${CHROMIUM} is absent (apt-get install chromium).`,
  );
}

Deno.test({
  name: "a founder signs in, pays, gets a key once, edits tiers, connects Stripe and sees usage",
  ignore: !hasChromium,
  // The browser, the server and the local Stripe are processes and sockets of this test.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using stack = await startStack();
    const { base, stripe, server } = stack;
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      // Resource errors are judged by URL below (the 404 page is asked for on purpose).
      page.on(
        "console",
        (m) =>
          m.type() === "error" && !m.text().startsWith("Failed to load resource") &&
          consoleErrors.push(m.text()),
      );
      const failedRequests: string[] = [];
      page.on("response", (r) => {
        const url = r.url();
        if (r.status() >= 400 && url.startsWith(base) && !url.endsWith("/no-such-page")) {
          failedRequests.push(`${r.status()} ${url}`);
        }
      });
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      let apiKey = "";
      // Each step needs the state the previous ones left: stop at the first failure.
      const step = async (name: string, fn: () => Promise<void>) => {
        if (!(await t.step(name, fn))) throw new Error(`stopped after the failed step: ${name}`);
      };

      await step("the marketing page sells the product and leads to sign-in", async () => {
        await page.goto(base);
        assert.match(await page.title(), /dream-api/);
        assert.ok(await page.getByText("$29").first().isVisible());
        await snap(page, "01-home");
        await page.getByRole("link", { name: "Start for $29/month" }).click();
        await page.waitForURL(`${base}/sign-in`);
      });

      await step("development sign-in lands on the overview, unpaid", async () => {
        await snap(page, "02-sign-in");
        await page.getByLabel("Email").fill("founder@example.com");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL(`${base}/dashboard`);
        assert.ok(await page.getByTestId("subscribe-card").isVisible());
        await snap(page, "03-overview-unpaid");
        // The paid pages lead to billing.
        await page.goto(`${base}/dashboard/tiers`);
        assert.equal(new URL(page.url()).pathname, "/dashboard/billing");
        await snap(page, "04-billing-unpaid");
      });

      await step(
        "Subscribe → hosted checkout → Pay → back, and the subscription is active",
        async () => {
          await page.getByRole("button", { name: /Subscribe/ }).click();
          await page.waitForURL((url) => url.href.startsWith(stripe.apiUrl));
          await snap(page, "05-checkout");
          await page.locator("#pay").click();
          // Billing waits for Stripe's webhook, then moves on to the overview.
          await page.waitForURL(`${base}/dashboard`, { timeout: 30_000 });
          // Paid: the overview's next step is creating the platform.
          assert.ok(await page.getByTestId("create-platform-card").isVisible());
          assert.equal(await page.getByTestId("subscribe-card").count(), 0);
        },
      );

      await step("billing: Manage billing opens Stripe's portal on this subscription", async () => {
        await page.goto(`${base}/dashboard/billing`);
        assert.equal(await page.getByRole("button", { name: /Subscribe/ }).count(), 0);
        await snap(page, "05-billing-paid");
        await page.getByRole("button", { name: "Manage billing" }).click();
        await page.waitForURL((url) => url.href.startsWith(`${stripe.apiUrl}/portal/`));
        assert.ok(await page.getByRole("button", { name: /Cancel/ }).first().isVisible());
        await snap(page, "05-portal");
        await page.goto(`${base}/dashboard`);
      });

      await step(
        "creating the platform shows the key once, with a working copy button",
        async () => {
          await snap(page, "06-overview-create-platform");
          await page.getByLabel("Product name").fill("Acme Analytics");
          await page.getByRole("button", { name: "Create platform and API key" }).click();
          const shown = page.getByTestId("api-key");
          await shown.waitFor();
          apiKey = (await shown.textContent())!.trim();
          assert.match(apiKey, /^dk_(live|test)_[A-Za-z0-9_-]{43,}$/);
          assert.ok(await page.getByText("You won't see it again").isVisible());
          await page.getByRole("button", { name: "Copy key" }).click();
          await page.getByRole("button", { name: "Copied" }).waitFor();
          assert.equal(await page.evaluate(() => navigator.clipboard.readText()), apiKey);
          await snap(page, "07-key-revealed");
        },
      );

      await step("after leaving, the key is gone: only its prefix is ever rendered", async () => {
        await page.getByRole("link", { name: "I saved my key, continue" }).click();
        await page.waitForURL(`${base}/dashboard`);
        const html = await page.content();
        assert.ok(!html.includes(apiKey), "the overview must not contain the key");
        const prefix = (await page.getByTestId("key-prefix").textContent())!;
        assert.ok(apiKey.startsWith(prefix.replace("…", "")), `prefix ${prefix} of ${apiKey}`);
        await page.goBack();
        assert.equal(await page.getByTestId("api-key").count(), 0, "Back must not show the key");
        assert.ok(!(await page.content()).includes(apiKey));
        await page.goto(`${base}/dashboard`);
        await snap(page, "08-overview-platform");
      });

      await step(
        "the tier editor validates live, saves, and the tiers survive a reload",
        async () => {
          await page.getByRole("link", { name: "Tiers", exact: true }).click();
          await page.waitForURL(`${base}/dashboard/tiers`);
          const save = page.getByRole("button", { name: "Save tiers" });
          assert.equal(await save.isDisabled(), true, "nothing to save yet");

          await page.getByRole("button", { name: "+ Add tier" }).click();
          await page.getByRole("button", { name: "+ Add tier" }).click();
          const rows = page.getByTestId("tier-row");
          assert.equal(await rows.count(), 3);
          // Row 2 becomes "pro"; an invalid price is refused live by the shared schema.
          const pro = rows.nth(1);
          await pro.getByLabel("Name").fill("Pro");
          await pro.getByLabel("Id (X-User-Plan)").fill("Pro Plan");
          await pro.getByLabel("Price ($/month)").fill("19");
          await pro.getByLabel("Limit (units)").fill("5000");
          assert.match(await pro.locator(".field-error").first().textContent() ?? "", /slug/);
          assert.equal(await save.isDisabled(), true, "invalid tiers cannot be saved");
          await snap(page, "09-tiers-invalid");
          await pro.getByLabel("Id (X-User-Plan)").fill("pro");
          // Row 3: an unlimited "scale" tier, moved above "pro", then removed again.
          const scale = rows.nth(2);
          await scale.getByLabel("Name").fill("Scale");
          await scale.getByLabel("Id (X-User-Plan)").fill("scale");
          await scale.getByLabel("Price ($/month)").fill("99");
          await scale.getByRole("checkbox", { name: "Unlimited" }).check();
          await page.getByRole("button", { name: "Move scale up" }).click();
          assert.equal(await rows.nth(1).getByLabel("Id (X-User-Plan)").inputValue(), "scale");
          await snap(page, "10-tiers-editing");
          await page.getByRole("button", { name: "Remove scale" }).click();
          assert.equal(await rows.count(), 2);
          // The free tier's limit changes too.
          await rows.nth(0).getByLabel("Limit (units)").fill("50");
          assert.equal(await save.isDisabled(), false);
          await save.click();
          await page.getByText("Saved", { exact: true }).waitFor();

          await page.reload();
          const after = page.getByTestId("tier-row");
          assert.equal(await after.count(), 2);
          assert.equal(await after.nth(0).getByLabel("Limit (units)").inputValue(), "50");
          assert.equal(await after.nth(1).getByLabel("Id (X-User-Plan)").inputValue(), "pro");
          assert.equal(await after.nth(1).getByLabel("Price ($/month)").inputValue(), "19");
          assert.equal(await after.nth(1).getByLabel("Limit (units)").inputValue(), "5000");
          await snap(page, "11-tiers-saved");
        },
      );

      await step(
        "connecting a Stripe key syncs at once and creates a price for the paid tier",
        async () => {
          await page.getByRole("link", { name: "Settings", exact: true }).click();
          await page.waitForURL(`${base}/dashboard/settings`);
          await snap(page, "12-settings");
          const founderKey = "sk_test_e2eFounderAcme0123456789";
          await page.getByLabel("Stripe secret key").fill(founderKey);
          await page.getByRole("button", { name: "Connect Stripe" }).click();
          await page.getByTestId("stripe-status").waitFor();
          assert.match(await page.getByTestId("stripe-status").textContent() ?? "", /acct_/);
          assert.ok(!(await page.content()).includes(founderKey), "the Stripe key is never shown");
          // Connecting syncs at once: no second click.
          const result = page.getByTestId("sync-result");
          await result.waitFor();
          assert.match(await result.textContent() ?? "", /Pro \(pro\): price_/);
          await snap(page, "13-stripe-synced");
          await page.reload();
          assert.ok(!(await page.content()).includes(founderKey));
        },
      );

      await step("a tenant-API call with the key shows up on the overview", async () => {
        const res = await fetch(`${base}/api/data`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${apiKey}`,
            "x-user-id": "user_e2e_1",
            "x-user-plan": "pro",
            "content-type": "application/json",
          },
          body: JSON.stringify({ amount: 3 }),
        });
        const text = await res.text();
        assert.equal(res.status, 200, text);
        const body = JSON.parse(text);
        assert.deepEqual(body.usage, { count: 3, limit: 5000, remaining: 4997 }, text);

        await page.getByRole("link", { name: "Overview", exact: true }).click();
        await page.waitForURL(`${base}/dashboard`);
        const row = page.getByTestId("usage-row").filter({ hasText: "user_e2e_1" });
        assert.match(await row.textContent() ?? "", /user_e2e_1\s*3/);
        assert.equal(await page.getByTestId("usage-units-month").textContent(), "3");
        assert.equal(await page.getByTestId("checklist").count(), 0, "every step is done");
        await snap(page, "14-overview-usage");
      });

      await step("rolling the key reveals the new one once and retires the old one", async () => {
        await page.goto(`${base}/dashboard/settings`);
        await page.getByRole("button", { name: "Roll API key…" }).click();
        await page.getByRole("button", { name: "Roll key now" }).click();
        const shown = page.getByTestId("api-key");
        await shown.waitFor();
        const newKey = (await shown.textContent())!.trim();
        assert.notEqual(newKey, apiKey);
        await snap(page, "15-key-rolled");
        const call = (key: string) =>
          fetch(`${base}/api/data`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "x-user-id": "user_e2e_2" },
          }).then(async (r) => ({ status: r.status, text: await r.text() }));
        const old = await call(apiKey);
        assert.equal(old.status, 401, old.text);
        const fresh = await call(newKey);
        assert.equal(fresh.status, 200, fresh.text);
        await page.reload();
        assert.ok(!(await page.content()).includes(newKey));
      });

      await step("billing and an unknown page render as pages", async () => {
        await page.goto(`${base}/dashboard/billing`);
        assert.equal(
          await page.getByTestId("subscription-status").first().getAttribute("data-status"),
          "active",
        );
        await snap(page, "16-billing-active");
        const res = await page.goto(`${base}/no-such-page`);
        assert.equal(res?.status(), 404);
        assert.ok(await page.getByText("Page not found").isVisible());
        await snap(page, "17-not-found");
      });

      await step("signing out ends the session", async () => {
        await page.goto(`${base}/dashboard`);
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.waitForURL(`${base}/`);
        await page.goto(`${base}/dashboard`);
        assert.equal(new URL(page.url()).pathname, "/sign-in");
      });

      assert.deepEqual(consoleErrors, [], "the browser console stays clean");
      assert.deepEqual(failedRequests, [], "every page, script and style loads");
    } catch (error) {
      console.error(`server output:\n${server.output()}`);
      throw error;
    } finally {
      await browser.close();
    }
  },
});

/**
 * Stripe Connect end to end, in a real browser (Debian's chromium, playwright-core) against the
 * real server (`main.ts` as a subprocess) and the local Stripe set up as `deno task dev` sets it
 * up: a founder clicks "Connect with Stripe", approves on the consent page, lands back connected
 * and synced; an end-user of theirs pays in the connected account; the subscription's events
 * reach dream-api through the Connect endpoint and the end-user's limit rises; the founder
 * disconnects. Screenshots at 1280 and 375 px of each step: test-results/screenshots/connect-*.png.
 */
import assert from "node:assert/strict";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { startStack } from "../_helpers/stack.ts";
import { CHROMIUM, DESKTOP, hasChromium, launchChromium, snap } from "../_helpers/browser.ts";

if (!hasChromium) {
  console.warn(`tests/e2e/connect_test.ts: skipped, ${CHROMIUM} is absent.`);
}

Deno.test({
  name:
    "a founder connects with Stripe, an end-user pays in the connected account, the Connect webhook raises their limit, the founder disconnects",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using stack = await startStack({ connect: true });
    const { base, stripe, server } = stack;
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on("console", (m) => {
        // The local Stripe's pages have no favicon (Chromium asks for one): not ours to judge.
        const localStripePage = !page.url().startsWith(base);
        if (m.type() !== "error") return;
        if (localStripePage && m.text().startsWith("Failed to load resource")) return;
        consoleErrors.push(`${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      let apiKey = "";
      let accountId = "";
      const step = async (name: string, fn: () => Promise<void>) => {
        if (!(await t.step(name, fn))) throw new Error(`stopped after the failed step: ${name}`);
      };
      const tenant = async (method: string, path: string, userId: string, body?: unknown) => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${apiKey}`,
            "x-user-id": userId,
            ...(body !== undefined && { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, text, body: JSON.parse(text) };
      };

      await step("sign in, pay for dream-api, create the platform with a paid tier", async () => {
        await page.goto(`${base}/sign-in`);
        await page.getByLabel("Email").fill("connect@example.com");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL(`${base}/dashboard`);
        await page.getByRole("button", { name: /Subscribe/ }).click();
        await page.waitForURL((url) => url.href.startsWith(stripe.apiUrl));
        await page.locator("#pay").click();
        await page.waitForURL(`${base}/dashboard`, { timeout: 30_000 });
        await page.getByLabel("Product name").fill("Acme Notes");
        await page.getByRole("button", { name: "Create platform and API key" }).click();
        const shown = page.getByTestId("api-key");
        await shown.waitFor();
        apiKey = (await shown.textContent())!.trim();
        // The tiers through the dashboard's own API, from the page (its cookie, its origin).
        const saved = await page.evaluate(async () => {
          const res = await fetch("/dashboard/api/tiers", {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              tiers: [
                { id: "free", name: "Free", price: 0, limit: 2, period: "month" },
                { id: "pro", name: "Pro", price: 19, limit: 500, period: "month" },
              ],
            }),
          });
          return res.status;
        });
        assert.equal(saved, 200);
      });

      await step("settings offer Connect with Stripe (and the restricted key)", async () => {
        await page.goto(`${base}/dashboard/settings`);
        const connect = page.getByRole("link", { name: "Connect with Stripe" });
        assert.ok(await connect.isVisible());
        assert.match(
          await page.getByTestId("key-permissions").textContent() ?? "",
          /Products Write.*Webhook Endpoints Write/,
        );
        await snap(page, "connect-01-settings");
      });

      await step(
        "Connect with Stripe → the consent page → Connect → back connected and synced",
        async () => {
          await page.getByRole("link", { name: "Connect with Stripe" }).click();
          await page.waitForURL((url) =>
            url.href.startsWith(`${stripe.connectUrl}/oauth/authorize`)
          );
          await page.getByRole("heading", { name: "Connect to dream-api" }).waitFor();
          await page.getByLabel("Business name").fill("Acme Notes LLC");
          await snap(page, "connect-02-consent");
          await page.getByRole("button", { name: "Connect", exact: true }).click();
          await page.waitForURL(`${base}/dashboard/settings?stripe=connected#stripe`);
          const notice = page.getByTestId("connect-return");
          assert.match(await notice.textContent() ?? "", /Connected with Stripe: Acme Notes LLC/);
          const status = page.getByTestId("stripe-status");
          assert.equal(await status.getAttribute("data-mode"), "connect");
          const text = await status.textContent() ?? "";
          accountId = /acct_\w+/.exec(text)?.[0] ?? "";
          assert.ok(accountId, text);
          assert.match(text, /Acme Notes LLC/);
          assert.match(text, /via Stripe Connect/);
          assert.match(
            await page.getByText(/Paid tiers with a Stripe price/).textContent() ?? "",
            /1 of 1/,
          );
          // Back at `#stripe`: the full-page screenshot wants the top (the header is sticky).
          await page.evaluate(() => scrollTo(0, 0));
          await snap(page, "connect-03-connected");
        },
      );

      await step("an end-user checks out in the connected account", async () => {
        const before = await tenant("GET", "/api/usage", "reader_1");
        assert.equal(before.status, 200, before.text);
        assert.equal(before.body.plan, "free", before.text);
        const checkout = await tenant("POST", "/api/create-checkout", "reader_1", {
          tier: "pro",
          successUrl: `${base}/?paid=1`,
          cancelUrl: `${base}/?paid=0`,
          email: "reader@example.com",
        });
        assert.equal(checkout.status, 200, checkout.text);
        // The session lives in the founder's account, not in dream-api's own.
        const own = createStripeFactory({ apiUrl: stripe.apiUrl })(stripe.secretKey);
        const session = await own.checkout.sessions.retrieve(checkout.body.sessionId, {}, {
          stripeAccount: accountId,
        });
        assert.equal(session.metadata?.userId, "reader_1");
        await page.goto(checkout.body.url);
        await snap(page, "connect-04-checkout");
        await page.locator("#pay").click();
        await page.waitForURL(`${base}/?paid=1`);
      });

      await step(
        "the subscription's events come through the Connect endpoint: the limit rises",
        async () => {
          let usage = await tenant("GET", "/api/usage", "reader_1");
          for (let i = 0; i < 50 && usage.body.plan !== "pro"; i++) {
            await new Promise((r) => setTimeout(r, 100));
            usage = await tenant("GET", "/api/usage", "reader_1");
          }
          assert.equal(usage.body.plan, "pro", usage.text);
          assert.equal(usage.body.planSource, "subscription", usage.text);
          assert.equal(usage.body.usage.limit, 500, usage.text);
          const counted = await tenant("POST", "/api/data", "reader_1", { amount: 3 });
          assert.equal(counted.status, 200, counted.text);
          assert.deepEqual(counted.body.usage, { count: 3, limit: 500, remaining: 497 });
          await page.goto(`${base}/dashboard`);
          const row = page.getByTestId("usage-row").filter({ hasText: "reader_1" });
          await row.waitFor();
          await snap(page, "connect-05-end-user-on-pro");
        },
      );

      await step(
        "the founder disconnects: Connect is offered again, billing answers 409",
        async () => {
          await page.goto(`${base}/dashboard/settings`);
          await page.getByTestId("disconnect").click();
          await snap(page, "connect-06-confirm-disconnect");
          await page.getByTestId("confirm-disconnect").click();
          await page.getByRole("link", { name: "Connect with Stripe" }).waitFor();
          assert.equal(await page.getByTestId("stripe-status").count(), 0);
          await snap(page, "connect-07-disconnected");
          await page.reload();
          assert.equal(await page.getByTestId("stripe-status").count(), 0);
          const refused = await tenant("POST", "/api/create-checkout", "reader_2", {
            tier: "pro",
            successUrl: `${base}/`,
            cancelUrl: `${base}/`,
          });
          assert.equal(refused.status, 409, refused.text);
          assert.equal(refused.body.error.code, "stripe_not_connected");
          const counted = await tenant("POST", "/api/data", "reader_2");
          assert.equal(counted.status, 200, counted.text);
        },
      );

      await step("Connect with Stripe again, then Deny: a clear page, the way back", async () => {
        await page.getByRole("link", { name: "Connect with Stripe" }).click();
        await page.getByRole("heading", { name: "Connect to dream-api" }).waitFor();
        await page.getByRole("button", { name: "Deny" }).click();
        await page.waitForURL((url) => url.pathname === "/dashboard/stripe/callback");
        assert.ok(await page.getByText("You declined the connection in Stripe").isVisible());
        await snap(page, "connect-08-denied");
        await page.getByRole("link", { name: "Use a key instead" }).click();
        await page.waitForURL(`${base}/dashboard/settings#stripe`);
      });

      assert.deepEqual(consoleErrors, [], "the browser console stays clean");
    } catch (error) {
      console.error(`server output:\n${server.output()}`);
      throw error;
    } finally {
      await browser.close();
    }
  },
});

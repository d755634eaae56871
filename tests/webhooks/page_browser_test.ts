/**
 * The webhooks page in a real browser (Debian's chromium, playwright-core) against the real app on
 * a port, with its delivery loop and a real receiver: create the endpoint (the secret shows once),
 * send test events, watch the deliveries table; after a reload the secret is gone. Screenshots at
 * 1280 and 375 px go to `test-results/screenshots/webhooks-*.png`.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../../lib/ui/build.ts";
import { WebhookDelivery } from "../../lib/webhooks/delivery.ts";
import { DESKTOP, hasChromium, launchChromium, snap } from "../_helpers/browser.ts";
import { seedPaidFounder, testApp } from "../_helpers/app.ts";
import { freePort } from "../_helpers/server.ts";
import { startReceiver } from "./_receiver.ts";

const USER = "user_hooks_browser";

Deno.test({
  name:
    "a founder creates the endpoint, sees the secret once, sends test events and sees them delivered",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands();
    // Two failed attempts, then 2xx: the table shows retrying and delivered rows.
    await using receiver = startReceiver([500, 500], 200);
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const ref: { loop?: WebhookDelivery } = {};
    await using t = await testApp({
      env: { PUBLIC_URL: base },
      deps: { webhooks: { wake: () => ref.loop?.wake() } },
    });
    t.setNow(new Date());
    const loop = ref.loop = new WebhookDelivery({
      kv: t.kv,
      secrets: t.deps.secrets,
      log: t.deps.log,
      production: false,
      pollMs: 100,
      retryDelaysMs: [300],
    });
    loop.start();
    await seedPaidFounder(t.kv, USER);
    const server = Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, t.app.fetch);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      await context.addCookies([{ name: "__session", value: await t.signIn(USER), url: base }]);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(e.message));

      await page.goto(`${base}/dashboard/webhooks`);
      await page.getByRole("link", { name: "Webhooks" }).first().waitFor();
      await page.getByLabel("Endpoint URL").fill(`${receiver.url}/hook`);
      await page.getByRole("button", { name: "Create endpoint" }).click();
      const secret = await page.getByTestId("webhook-secret").locator("code.secret").textContent();
      assert.match(secret ?? "", /^whsec_/);

      await page.getByRole("button", { name: "Send a test event" }).click();
      await page.getByText(/queued/).waitFor();
      await receiver.waitFor(3, 15_000);
      await page.getByRole("button", { name: "Send a test event" }).click();
      await receiver.waitFor(4, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.getByTestId("deliveries-table").getByText("delivered").first().waitFor();

      await page.reload();
      assert.equal(await page.getByTestId("webhook-secret").count(), 0, "the secret shows again");
      assert.ok(!(await page.content()).includes(secret!), "the page holds the secret");
      const rows = await page.getByTestId("deliveries-table").locator("tbody tr").count();
      assert.equal(rows, 4);
      // A reload keeps the scroll position; the sticky top bar would land mid-page in the shot.
      await page.evaluate(() => scrollTo(0, 0));
      await snap(page, "webhooks");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await loop.stop();
      await server.shutdown();
    }
  },
});

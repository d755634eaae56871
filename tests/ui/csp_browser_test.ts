/**
 * Every page works under the Content-Security-Policy in a real browser (Debian's chromium via
 * playwright-core): home, sign-in (the development form), docs, the dashboard overview, tiers (an
 * edit runs the editor and its impact preview), analytics (the uPlot chart), settings, billing and
 * a 404, with no `securitypolicyviolation` event and no console error. A control first shows that
 * an injected inline script and style attribute ARE reported, so the listener can fail the test.
 * Screenshots at 1280 and 375 px go to `test-results/screenshots/csp-*.png`.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../../lib/ui/build.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { json, payFounder, testApp } from "../_helpers/app.ts";
import { freePort } from "../_helpers/server.ts";
import { DESKTOP, hasChromium, launchChromium, snap, snapChart } from "../_helpers/browser.ts";

Deno.test({
  name: "every page runs under the CSP in Chromium with no violation and no console error",
  ignore: !hasChromium,
  // The browser and the server are processes and sockets of this test.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await buildIslands();
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    await using app = await testApp({ env: { PUBLIC_URL: base } });
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.app.fetch);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      // Reported to the console, where the listener below collects it with Chromium's own
      // "Refused to …" messages.
      await context.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (e) => {
          console.error(
            `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
              `(${e.sourceFile}:${e.lineNumber})`,
          );
        });
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        // The 404 page's own status is reported as a failed resource; judged by URL below.
        if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
          problems.push(`${page.url()}: ${m.text()}`);
        }
      });
      page.on("pageerror", (e) => problems.push(`${page.url()}: ${e.message}`));
      page.on("response", (r) => {
        const url = r.url();
        if (r.status() >= 400 && url.startsWith(base) && !url.endsWith("/no-such-page")) {
          problems.push(`${r.status()} ${url}`);
        }
      });
      const step = async (name: string, fn: () => Promise<void>) => {
        if (!(await t.step(name, fn))) throw new Error(`stopped after the failed step: ${name}`);
      };
      /** Fails the step with what the browser reported, and starts the next one clean. */
      const clean = (where: string) => {
        const found = problems.splice(0);
        assert.deepEqual(found, [], `${where}: the browser reported problems`);
      };

      await step(
        "control: an injected inline script and style attribute are reported",
        async () => {
          const res = await page.goto(base);
          assert.match(res?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
          await page.evaluate(() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true";
            document.head.append(script);
            document.body.setAttribute("style", "outline: 1px solid red");
          });
          await page.waitForFunction(() => true);
          await page.waitForTimeout(100);
          assert.equal(await page.evaluate(() => "__inlineRan" in globalThis), false);
          const found = problems.splice(0).join("\n");
          assert.match(found, /CSP violation: script-src-elem blocked inline/, found);
          assert.match(found, /CSP violation: style-src-attr blocked inline/, found);
        },
      );

      await step("home, sign-in and docs", async () => {
        await page.goto(base);
        assert.ok(await page.getByText("$29").first().isVisible());
        await snap(page, "csp-home");
        await page.goto(`${base}/docs`);
        await page.getByRole("heading", { name: "API reference" }).first().waitFor();
        await page.goto(`${base}/sign-in`);
        await snap(page, "csp-sign-in");
        clean("home, sign-in, docs");
      });

      let userId = "";
      await step("the development sign-in form posts and lands on the overview", async () => {
        await page.getByLabel("Email").fill("csp@example.com");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL(`${base}/dashboard`);
        assert.ok(await page.getByTestId("subscribe-card").isVisible());
        const me = await page.evaluate(() => fetch("/dashboard/api/me").then((r) => r.json()));
        userId = me.user.id;
        await page.goto(`${base}/dashboard/billing`);
        clean("overview and billing, unpaid");
      });

      let apiKey = "";
      await step("paid: the overview's island creates the platform and shows the key", async () => {
        await payFounder(app.kv, userId);
        await page.goto(`${base}/dashboard`);
        await page.getByLabel("Product name").fill("CSP Checks");
        await page.getByRole("button", { name: "Create platform and API key" }).click();
        const shown = page.getByTestId("api-key");
        await shown.waitFor();
        apiKey = (await shown.textContent())!.trim();
        clean("overview, create platform");
      });

      await step("analytics: the uPlot chart draws and the table shows the meters", async () => {
        const me = await json(
          await app.app.request("/dashboard/api/me", {
            headers: { authorization: `Bearer ${await app.signIn(userId)}` },
          }),
        );
        const platformId = me.body.platform.platformId as string;
        assert.match(apiKey, /^dk_/);
        for (let day = 1; day <= 15; day++) {
          const now = new Date(Date.UTC(2026, 10, day, 12));
          app.setNow(now);
          await Promise.all(Array.from({ length: 30 }, (_, u) =>
            app.deps.meter.count({
              platformId,
              userId: `user-${String(u).padStart(2, "0")}`,
              plan: "free",
              period: periodOf("month", now),
              limit: 100,
              amount: 1 + ((u * 7 + day) % 9),
            })));
        }
        await page.goto(`${base}/dashboard/analytics`);
        await page.locator(".usage-chart .uplot canvas").first().waitFor();
        assert.ok(await page.locator("svg.meter rect").count() > 0, "limit meters drawn");
        const width = await page.locator("svg.meter rect").first().getAttribute("width");
        assert.ok(Number(width) > 0, `a meter has its width: ${width}`);
        await page.getByRole("button", { name: "Next →" }).click();
        await page.getByText("Page 2").waitFor();
        await page.evaluate(() => scrollTo(0, 0)); // the sticky top bar at the top of the shot
        await snapChart(page, "csp-analytics");
        clean("analytics");
      });

      await step("tiers: editing runs the editor's validation and impact preview", async () => {
        await page.goto(`${base}/dashboard/tiers`);
        const impact = page.getByTestId("tier-impact").first();
        await impact.waitFor();
        await page.getByRole("button", { name: "+ Add tier" }).click();
        const rows = page.getByTestId("tier-row");
        const added = rows.nth(await rows.count() - 1);
        await added.getByLabel("Name").fill("Pro");
        await added.getByLabel("Id (X-User-Plan)").fill("Pro Plan");
        assert.match(await added.locator(".field-error").first().textContent() ?? "", /slug/);
        await added.getByLabel("Id (X-User-Plan)").fill("pro");
        await added.getByLabel("Price ($/month)").fill("19");
        await added.getByLabel("Limit (units)").fill("5000");
        await rows.nth(0).getByLabel("Limit (units)").fill("20");
        await page.waitForFunction(() =>
          Number(
            document.querySelector("[data-testid=tier-impact-over]")?.textContent?.split(" ")[0],
          ) > 0
        );
        await page.getByRole("button", { name: "Save tiers" }).click();
        await page.getByText("Saved", { exact: true }).waitFor();
        await snap(page, "csp-tiers");
        clean("tiers");
      });

      await step("settings, billing, docs signed in, and a 404", async () => {
        await page.goto(`${base}/dashboard/settings`);
        await page.getByLabel("Stripe secret key").waitFor();
        await page.goto(`${base}/dashboard/billing`);
        await page.getByTestId("subscription-status").first().waitFor();
        await snap(page, "csp-billing");
        await page.goto(`${base}/docs`);
        const res = await page.goto(`${base}/no-such-page`);
        assert.equal(res?.status(), 404);
        assert.ok(await page.getByText("Page not found").isVisible());
        assert.match(res?.headers()["content-security-policy"] ?? "", /default-src 'none'/);
        await snap(page, "csp-not-found");
        clean("settings, billing, docs, 404");
      });

      await step("signing out (a form post) ends on the home page", async () => {
        await page.goto(`${base}/dashboard`);
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.waitForURL(`${base}/`);
        clean("sign out");
      });
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

/**
 * Features in a real browser (Debian's chromium driven by playwright-core), over the real app: the
 * founder adds metered and on/off features in the tier editor, is stopped by the shared schema
 * live, previews a feature's impact, saves, reloads and finds them, then picks the feature on the
 * analytics page. Screenshots, desktop and 375 px phone, go to
 * `test-results/screenshots/tier-features-*.png`.
 */
import assert from "node:assert/strict";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { getTiers } from "../../lib/kv/tiers.ts";
import { buildIslands } from "../../lib/ui/build.ts";
import { testApp } from "../_helpers/app.ts";
import { freePort } from "../_helpers/server.ts";
import {
  DESKTOP,
  hasChromium,
  launchChromium,
  PHONE,
  SHOTS,
  snap as snapAnywhere,
  snapChart as snapChartAnywhere,
} from "../_helpers/browser.ts";
import type { Page } from "playwright-core";
import { countFeature } from "../analytics/_features.ts";
import { paidFounderWithPlatform } from "../analytics/_world.ts";

/** Screenshots from the top: scrolled, the sticky top bar would be drawn over the middle. */
async function snap(page: Page, name: string) {
  await page.evaluate(() => scrollTo(0, 0));
  await snapAnywhere(page, name);
}
async function snapChart(page: Page, name: string) {
  await page.evaluate(() => scrollTo(0, 0));
  await snapChartAnywhere(page, name);
}

Deno.test({
  name:
    "the tier editor adds metered and on/off features, validates them live, saves them, and analytics shows one",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await buildIslands();
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    await using app = await testApp({ env: { PUBLIC_URL: base } });
    const founder = await paidFounderWithPlatform(app, [
      { id: "free", name: "Free", price: 0, limit: 100, period: "month" },
      { id: "pro", name: "Pro", price: 29, limit: 10_000, period: "month" },
    ]);
    // Reports already counted this month (as the meter will once it counts features): 12 end-users
    // on 'free' with 1…12 reports, so a limit of 10 puts two over it and one at it.
    await countFeature(
      app.kv,
      new UsageRecorder({ now: () => app.deps.now() }),
      founder.platformId,
      app.deps.now(),
      Array.from({ length: 12 }, (_, i) => ({
        userId: `user-${String(i + 1).padStart(2, "0")}`,
        plan: "free",
        feature: "reports",
        limit: null,
        amount: i + 1,
      })),
    );
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.app.fetch);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      await context.addCookies([{
        name: "__session",
        value: await app.signIn(founder.userId),
        url: base,
      }]);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      const step = async (name: string, fn: () => Promise<void>) => {
        if (!(await t.step(name, fn))) throw new Error(`stopped after the failed step: ${name}`);
      };
      const rows = page.getByTestId("tier-row");
      const save = page.getByRole("button", { name: "Save tiers" });

      await step(
        "features are added to both tiers, and the schema refuses bad ones live",
        async () => {
          await page.goto(`${base}/dashboard/tiers`);
          const free = rows.nth(0);
          const pro = rows.nth(1);
          assert.match(
            (await free.getByTestId("tier-features").textContent())!,
            /None: every call counts against the tier's limit/,
          );
          // free: reports (metered, 10 a month) and sso (on/off, not included)
          await free.getByRole("button", { name: "+ Add feature" }).click();
          let feature = free.getByTestId("feature-row").nth(0);
          await feature.getByLabel("Feature id").fill("Reports!");
          assert.match(
            (await feature.locator(".field-error").textContent())!,
            /a slug: lowercase letters/,
          );
          assert.equal(await save.isDisabled(), true, "an invalid feature cannot be saved");
          await feature.getByLabel("Feature id").fill("reports");
          await feature.getByLabel("Feature limit").fill("10");
          await free.getByRole("button", { name: "+ Add feature" }).click();
          feature = free.getByTestId("feature-row").nth(1);
          await feature.getByLabel("Feature id").fill("reports");
          assert.equal(
            await feature.locator(".field-error").textContent(),
            "already in this tier",
          );
          await feature.getByLabel("Feature id").fill("sso");
          await feature.getByLabel("Kind").selectOption("switch");
          assert.equal(
            await feature.getByRole("checkbox", { name: "sso included" }).isChecked(),
            true,
          );
          await feature.getByRole("checkbox", { name: "sso included" }).uncheck();

          // pro: reports unlimited, exports 50 a day, sso included
          for (let i = 0; i < 3; i++) {
            await pro.getByRole("button", { name: "+ Add feature" }).click();
          }
          const [reports, exports, sso] = [0, 1, 2].map((i) =>
            pro.getByTestId("feature-row").nth(i)
          );
          await reports.getByLabel("Feature id").fill("reports");
          await reports.getByRole("checkbox", { name: "reports unlimited" }).check();
          await exports.getByLabel("Feature id").fill("exports");
          await exports.getByLabel("Feature limit").fill("50");
          await exports.getByLabel("Feature resets").selectOption("day");
          await sso.getByLabel("Feature id").fill("sso");
          // Metered here and on/off in 'free': the schema says so, on the feature.
          assert.match(
            (await sso.locator(".feature-problem").textContent())!,
            /metered in one tier and on\/off in another/,
          );
          await sso.getByLabel("Kind").selectOption("switch");
          assert.equal(await sso.locator(".feature-problem").count(), 0);
          assert.equal(await save.isDisabled(), false);
        },
      );

      await step("the preview measures a picked feature's limits against its counts", async () => {
        await page.getByLabel("Preview impact on").selectOption("reports");
        const impact = rows.nth(0).getByTestId("tier-impact");
        await page.waitForFunction(() =>
          document.querySelector("[data-testid=tier-impact]")?.textContent?.startsWith("reports")
        );
        assert.equal(
          await impact.textContent(),
          "reports: 12 end-users this month · 2 over, 2 near this limit",
        );
        await snap(page, "tier-features-editing");
        // A closer look at one tier's features on a phone (the full page is 3,000 px tall).
        await page.setViewportSize(PHONE);
        await rows.nth(1).screenshot({
          path: new URL("tier-features-row-phone.png", SHOTS).pathname,
        });
        await page.setViewportSize(DESKTOP);
      });

      await step(
        "saving stores the features; a reload shows them in the editor and in words",
        async () => {
          await save.click();
          await page.getByText("Saved", { exact: true }).waitFor();
          assert.deepEqual(
            (await getTiers(app.kv, founder.platformId))!.tiers.map((t) => t.features),
            [
              { reports: { limit: 10 }, sso: false },
              { reports: { limit: null }, exports: { limit: 50, period: "day" }, sso: true },
            ],
          );
          await page.reload();
          const pro = rows.nth(1).getByTestId("feature-row");
          assert.equal(await pro.count(), 3);
          assert.equal(await pro.nth(1).getByLabel("Feature id").inputValue(), "exports");
          assert.equal(await pro.nth(1).getByLabel("Feature limit").inputValue(), "50");
          assert.equal(await pro.nth(1).getByLabel("Feature resets").inputValue(), "day");
          assert.equal(
            await pro.nth(0).getByRole("checkbox", { name: "reports unlimited" }).isChecked(),
            true,
          );
          assert.equal(
            await rows.nth(0).getByRole("checkbox", { name: "sso included" }).isChecked(),
            false,
          );
          const summary = page.getByTestId("tier-feature-summary");
          assert.equal(
            (await summary.nth(1).innerText()).replaceAll("\n", " · "),
            "exports 50 a day · reports Unlimited · sso Included",
          );
          assert.equal(await save.isDisabled(), true, "nothing changed since the save");
          await snap(page, "tier-features-saved");
        },
      );

      await step("the analytics page picks the feature", async () => {
        await page.goto(`${base}/dashboard/analytics`);
        await page.getByTestId("feature-picker").selectOption("reports");
        await page.getByRole("button", { name: "Show" }).click();
        await page.waitForURL(/feature=reports/);
        assert.equal(await page.getByTestId("total-units").textContent(), "78");
        assert.equal(await page.getByTestId("usage-user").count(), 12);
        assert.equal(await page.locator("[data-standing=over]").count(), 2);
        await page.locator(".usage-chart .uplot canvas").first().waitFor();
        await snapChart(page, "tier-features-analytics");
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

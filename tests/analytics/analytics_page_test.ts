/**
 * The analytics page and the tier editor's impact preview in a real browser (Debian's chromium via
 * playwright-core), over the real app with a seeded half month of usage. Screenshots, desktop and
 * 375 px phone, go to `test-results/screenshots/analytics-*.png`.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../../lib/ui/build.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { testApp } from "../_helpers/app.ts";
import { freePort } from "../_helpers/server.ts";
import { DESKTOP, hasChromium, launchChromium, snapChart } from "../_helpers/browser.ts";
import { paidFounderWithPlatform } from "./_world.ts";

Deno.test({
  name:
    "analytics page: chart, totals, end-users with search, paging and limit highlights; tier preview",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await buildIslands();
    // The browser's Origin must be the app's PUBLIC_URL (the CSRF rule trusts nothing else).
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    await using t = await testApp({ env: { PUBLIC_URL: base } });
    const founder = await paidFounderWithPlatform(t);
    // Days 1–15 of November: 140 end-users; most on 'free' (limit 100), every 7th on 'pro'.
    for (let day = 1; day <= 15; day++) {
      const now = new Date(Date.UTC(2026, 10, day, 12));
      t.setNow(now);
      const calls = [];
      for (let u = 0; u < 140; u++) {
        if ((u * 7 + day) % 3 === 0) continue; // not everyone every day
        const pro = u % 7 === 0;
        calls.push(t.deps.meter.count({
          platformId: founder.platformId,
          userId: `${pro ? "team" : "user"}-${String(u).padStart(3, "0")}`,
          plan: pro ? "pro" : "free",
          period: periodOf("month", now),
          limit: pro ? 1000 : 100,
          amount: 1 + ((u * 13 + day * 5) % (u < 20 ? 25 : 6)),
        }));
      }
      await Promise.all(calls);
    }
    // One end-user exactly at the limit.
    await t.deps.meter.count({
      platformId: founder.platformId,
      userId: "user-maxed",
      plan: "free",
      period: periodOf("month", t.deps.now()),
      limit: 100,
      amount: 100,
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, t.app.fetch);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      await context.addCookies([{
        name: "__session",
        value: await t.signIn(founder.userId),
        url: base,
      }]);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      await page.goto(`${base}/dashboard/analytics`);
      await page.locator(".usage-chart .uplot canvas").first().waitFor();
      assert.equal(
        await page.locator(".app-nav a[aria-current=page]").textContent(),
        "Analytics",
      );
      const refused = Number(
        (await page.getByTestId("total-refused").textContent())!.replaceAll(",", ""),
      );
      assert.ok(refused > 0, "the seeded month has refusals");
      const rows = page.getByTestId("usage-user");
      assert.equal(await rows.count(), 25);
      assert.ok(await page.locator("[data-standing=at]").count() > 0, "someone is at the limit");
      await snapChart(page, "analytics");

      // Paging and search go through the JSON API.
      const first = await rows.first().locator("code").textContent();
      await page.getByRole("button", { name: "Next →" }).click();
      await page.getByText("Page 2").waitFor();
      assert.notEqual(await rows.first().locator("code").textContent(), first);
      await page.getByRole("button", { name: "← Previous" }).click();
      await page.getByText("Page 1").waitFor();
      assert.equal(await rows.first().locator("code").textContent(), first);
      await page.getByPlaceholder("Search by end-user id (prefix)…").fill("team-");
      await page.waitForFunction(() =>
        [...document.querySelectorAll("[data-testid=usage-user] code")].every((c) =>
          c.textContent!.startsWith("team-")
        )
      );
      assert.equal(await rows.count(), 20);

      // The tier editor: lowering 'free' to 50 shows who would be over it, before saving.
      await page.goto(`${base}/dashboard/tiers`);
      const impact = page.getByTestId("tier-impact").first();
      await impact.waitFor();
      await page.locator(
        "#" + (await page.locator("input[name=limit]").first().getAttribute("id"))!,
      )
        .fill("50");
      await page.waitForFunction(() =>
        Number(
          document.querySelector("[data-testid=tier-impact-over]")?.textContent?.split(" ")[0],
        ) > 0
      );
      assert.match((await impact.textContent())!, /^121 end-users this month · \d+ over, \d+ near/);
      await snapChart(page, "analytics-tier-preview");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

Deno.test("GET /dashboard/analytics: signed out → /sign-in, unpaid → billing, bad period → this month", async () => {
  await using t = await testApp();
  let res = await t.app.request("/dashboard/analytics");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/sign-in");
  res = await t.app.request("/dashboard/analytics", {
    headers: { cookie: `__session=${await t.signIn("user_unpaid")}` },
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "/dashboard/billing");

  const founder = await paidFounderWithPlatform(t);
  const cookie = `__session=${await t.signIn(founder.userId)}`;
  res = await t.app.request("/dashboard/analytics?period=2026-99", { headers: { cookie } });
  const html = await res.text();
  assert.equal(res.status, 200, html.slice(0, 300));
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(html, /That period is not one we know; showing this month instead/);
  assert.match(html, /data-island="UsageChart"/);
  assert.match(html, /data-island="UsageTable"/);
  assert.match(html, /href="\/dashboard\/api\/usage\.csv\?period=2026-11"/);
  assert.match(html, /No end-user has been counted in this period yet/);
});

Deno.test("GET /dashboard/analytics with a period far in the future or past shows this month, never a 500", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const cookie = `__session=${await t.signIn(founder.userId)}`;
  for (const period of ["9999-12", "9999-12-31", "0100-01", "1999-12-31"]) {
    const res = await t.app.request(`/dashboard/analytics?period=${period}`, {
      headers: { cookie },
    });
    const html = await res.text();
    assert.equal(res.status, 200, `${period}: ${html.slice(0, 300)}`);
    assert.match(html, /That period is not one we know; showing this month instead/, period);
    assert.match(html, /href="\/dashboard\/api\/usage\.csv\?period=2026-11"/, period);
  }
});

/**
 * A new founder's first ten minutes, in a real browser (Debian's chromium via playwright-core) at
 * 1280 and 375 px, over the real app and the local Stripe: who am I, the key's ready-to-run
 * snippet, the daily chart on the first day of a month, connecting Stripe in one click, the
 * phone layout of the tabs, tier table and docs, and the small things (a disabled button that
 * stays visible, the docs contents). Screenshots: `test-results/screenshots/f10-*.png`.
 *
 * Each step checks one promise and the walk goes on after a failed one (the later steps need
 * only the platform), so one run shows every broken promise at once.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { bootstrapLocalStripe } from "../../dev/stripe/mod.ts";
import { devUserId } from "../../lib/founders/session.ts";
import { buildIslands } from "../../lib/ui/build.ts";
import { payFounder, testApp } from "../_helpers/app.ts";
import { DESKTOP, hasChromium, launchChromium, PHONE, SHOTS, snap } from "../_helpers/browser.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Runs `script` with bash; its stdout. */
async function bash(script: string): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: decode(stdout) + decode(stderr) };
}

/** Elements of `selector` sticking out of the viewport or of their scroll container sideways. */
function clipped(page: Page, selector: string) {
  return page.evaluate((selector) => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(selector)) {
      const r = el.getBoundingClientRect();
      const parent = el.parentElement!.getBoundingClientRect();
      if (r.left < -0.5 || r.right > innerWidth + 0.5) out.push(`${el.textContent} (viewport)`);
      else if (r.left < parent.left - 0.5 || r.right > parent.right + 0.5) {
        out.push(`${el.textContent} (container)`);
      }
    }
    return out;
  }, selector);
}

/** Columns of the chart's canvas holding pixels of the "allowed" bar colour. */
function barColumns(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(".usage-chart canvas")!;
    const ctx = canvas.getContext("2d")!;
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim();
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(brand.slice(i, i + 2), 16));
    const columns = new Set<number>();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        if (
          Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 &&
          Math.abs(data[i + 2] - b) < 8 && data[i + 3] > 200
        ) columns.add(x);
      }
    }
    const xs = [...columns].sort((a, b) => a - b);
    return { width, first: xs[0] ?? -1, last: xs.at(-1) ?? -1, count: xs.length };
  });
}

/** WCAG contrast ratio of two `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = c.match(/[\d.]+/g)!.slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

Deno.test({
  name:
    "first ten minutes: email shown, ready-to-run key snippet, chart spans the month, Stripe in one click, phone layout",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await buildIslands();
    await Deno.mkdir(SHOTS, { recursive: true });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const stripe = await bootstrapLocalStripe({ publicUrl: base, port: 0, statePath: null });
    await using app = await testApp({
      env: {
        PUBLIC_URL: base,
        STRIPE_API_URL: stripe.apiUrl,
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_PRICE_ID: stripe.priceId,
        STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      },
    });
    // The first day of a month: the daily chart has one day of data.
    app.setNow(new Date("2026-12-01T10:00:00Z"));
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, app.app.fetch);
    const browser = await launchChromium();
    const failed: string[] = [];
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!(await t.step(name, fn))) failed.push(name);
    };
    try {
      const context = await browser.newContext({ viewport: DESKTOP });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      const email = "ada@example.com";
      let apiKey = "";

      await step("the header shows the email the founder signed in with", async () => {
        await page.goto(`${base}/sign-in`);
        await page.getByLabel("Email").fill(email);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL(`${base}/dashboard`);
        await snap(page, "f10-01-overview-unpaid");
        assert.equal((await page.getByTestId("account-name").textContent())?.trim(), email);
      });

      await step("checkout opens with the founder's email filled in", async () => {
        await page.getByRole("button", { name: /Subscribe/ }).click();
        await page.waitForURL((url) => url.href.startsWith(stripe.apiUrl));
        assert.equal(await page.locator("input[name=email]").inputValue(), email);
        await snap(page, "f10-02-checkout");
      });

      await payFounder(app.kv, devUserId(email));

      await step("the new key comes with a ready-to-run snippet that counts a call", async () => {
        await page.goto(`${base}/dashboard`);
        await page.getByRole("button", { name: "Create platform and API key" }).click();
        await page.getByTestId("api-key").waitFor();
        apiKey = (await page.getByTestId("api-key").textContent())!.trim();
        await snap(page, "f10-03-key-revealed");
        const snippet = (await page.getByTestId("key-snippet").textContent())!;
        assert.ok(snippet.includes(`export DREAM_API_KEY="${apiKey}"`), snippet);
        assert.ok(!snippet.includes("…"), `nothing shortened in:\n${snippet}`);
        const run = await bash(`set -e\n${snippet}\n`);
        assert.equal(run.code, 0, run.out);
        assert.match(run.out, /"success":true/, run.out);
        assert.match(run.out, /"count":1\b/, run.out);
      });

      await step("the overview says plainly that its key is a prefix", async () => {
        await page.goto(`${base}/dashboard`);
        const note = (await page.getByTestId("quick-start-key-note").textContent())!;
        assert.match(note, /only its prefix/);
        assert.match(note, /full key/);
        await snap(page, "f10-04-overview");
      });

      await step(
        "at 375 px every dashboard tab and the whole tier table are in sight",
        async () => {
          await page.goto(`${base}/dashboard`);
          await page.setViewportSize(PHONE);
          const tabs = page.locator(".app-nav a");
          assert.equal(await tabs.count(), 7);
          assert.deepEqual(await clipped(page, ".app-nav a"), [], "tabs cut off");
          const nav = await page.locator(".app-nav").evaluate((n) => n.scrollWidth - n.clientWidth);
          assert.ok(nav <= 0, `the tab bar scrolls sideways by ${nav}px`);
          const table = await page.getByTestId("tiers-table").evaluate((t) => {
            const wrap = t.parentElement!;
            return { scroll: wrap.scrollWidth, client: wrap.clientWidth };
          });
          assert.ok(
            table.scroll <= table.client,
            `the tier table is ${table.scroll - table.client}px wider than its card`,
          );
          await page.setViewportSize(DESKTOP);
        },
      );

      await step(
        "the daily chart spans the month and the one day with calls is a bar",
        async () => {
          await page.goto(`${base}/dashboard/analytics`);
          const box = page.locator(".usage-chart-canvas");
          await page.locator(".usage-chart canvas").first().waitFor();
          assert.equal(await box.getAttribute("data-x-min"), "2026-11-30T12:00:00.000Z");
          assert.equal(await box.getAttribute("data-x-max"), "2026-12-31T12:00:00.000Z");
          for (const viewport of [DESKTOP, PHONE]) {
            await page.setViewportSize(viewport);
            await page.waitForFunction(
              (w) => document.querySelector<HTMLElement>(".uplot")!.offsetWidth <= w,
              viewport.width,
            );
            await page.waitForTimeout(100);
            const bars = await barColumns(page);
            assert.ok(bars.last - bars.first + 1 >= 3, `a bar ≥ 3px wide: ${JSON.stringify(bars)}`);
            // December 1st is the first of 31 days: its bar sits in the leftmost fifth.
            assert.ok(bars.last < bars.width / 5, `the bar is on Dec 1: ${JSON.stringify(bars)}`);
          }
          await page.setViewportSize(DESKTOP);
          const hint = (await page.getByTestId("usage-totals").textContent())!;
          assert.match(hint, /end-users? on the busiest day/);
          assert.doesNotMatch(hint, /≈/);
          await snap(
            page,
            "f10-05-analytics",
            (p) =>
              p.waitForFunction(() =>
                document.querySelector<HTMLElement>(".uplot")!.offsetWidth <= 375
              ),
          );
        },
      );

      await step("a daily period's chart spans that one day", async () => {
        await page.goto(`${base}/dashboard/analytics?period=2026-12-01`);
        const box = page.locator(".usage-chart-canvas");
        await page.locator(".usage-chart canvas").first().waitFor();
        assert.equal(await box.getAttribute("data-x-min"), "2026-11-30T12:00:00.000Z");
        assert.equal(await box.getAttribute("data-x-max"), "2026-12-01T12:00:00.000Z");
      });

      await step(
        "settings: the local Stripe is explained and the account shows the email",
        async () => {
          await page.goto(`${base}/dashboard/settings`);
          const hint = (await page.getByTestId("local-stripe-hint").textContent())!;
          assert.match(hint, /sk_test_/);
          assert.match(hint, /local Stripe/);
          assert.equal(await page.getByTestId("account-email").textContent(), email);
          await snap(page, "f10-06-settings");
        },
      );

      await step(
        "after a rejected key the disabled Connect button stays clearly visible",
        async () => {
          await page.goto(`${base}/dashboard/settings`);
          await page.getByLabel("Stripe secret key").fill("sk_test_revoked_0123456789");
          const button = page.getByRole("button", { name: "Connect Stripe" });
          await button.click();
          await page.getByRole("alert").waitFor();
          assert.equal(await button.isDisabled(), true);
          await button.hover({ force: true });
          const look = await button.evaluate((b) => {
            const s = getComputedStyle(b);
            return { opacity: Number(s.opacity), color: s.color, bg: s.backgroundColor };
          });
          assert.ok(look.opacity >= 0.9, `opacity ${look.opacity}`);
          assert.ok(
            contrast(look.color, look.bg) >= 3,
            `label contrast ${contrast(look.color, look.bg).toFixed(2)} (${JSON.stringify(look)})`,
          );
          await snap(page, "f10-07-settings-rejected-key");
        },
      );

      await step("connecting Stripe syncs the tiers at once: one click", async () => {
        await page.goto(`${base}/dashboard/settings`);
        await page.getByLabel("Stripe secret key").fill("sk_test_first10_acme_0123");
        await page.getByRole("button", { name: "Connect Stripe" }).click();
        await page.getByTestId("sync-result").waitFor({ timeout: 15_000 });
        assert.match(await page.getByTestId("stripe-status").textContent() ?? "", /acct_/);
        await snap(page, "f10-08-settings-connected");
      });

      await step("a failed sync after connecting is reported and the connection kept", async () => {
        await page.goto(`${base}/dashboard/settings`);
        await page.route("**/dashboard/api/stripe/sync", (route) =>
          route.fulfill({
            status: 502,
            contentType: "application/json",
            body: JSON.stringify({
              error: { code: "stripe_error", message: "Stripe is unavailable." },
            }),
          }));
        await page.getByRole("button", { name: "Replace key" }).click();
        await page.getByLabel("Stripe secret key").fill("sk_test_first10_other_0123");
        await page.getByRole("button", { name: "Connect Stripe" }).click();
        const alert = page.getByRole("alert");
        await alert.waitFor();
        assert.match(await alert.textContent() ?? "", /sync.*failed.*Stripe is unavailable/i);
        assert.match(await page.getByTestId("stripe-status").textContent() ?? "", /Connected/);
        assert.ok(await page.getByRole("button", { name: "Sync tiers to Stripe" }).isVisible());
        await page.unroute("**/dashboard/api/stripe/sync");
        await page.reload();
        assert.match(await page.getByTestId("stripe-status").textContent() ?? "", /Connected/);
      });

      await step(
        "docs at 375 px: the reference first, the contents behind one control",
        async () => {
          await page.setViewportSize(PHONE);
          await page.goto(`${base}/docs`);
          const contents = page.getByTestId("docs-contents");
          const first = page.locator(".docs-toc a").first();
          assert.equal(await first.isVisible(), false, "the contents start collapsed");
          const gap = await page.evaluate(() =>
            document.querySelector(".docs-main")!.getBoundingClientRect().top -
            document.querySelector("[data-testid=docs-contents]")!.getBoundingClientRect().top
          );
          assert.ok(gap < 100, `the reference starts ${gap}px below the contents control`);
          const overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - document.documentElement.clientWidth
          );
          assert.ok(overflow <= 0, `the docs are ${overflow}px wider than a 375px screen`);
          // The reference is long: its first screen is what matters here.
          await page.screenshot({ path: new URL("f10-09-docs-phone-closed.png", SHOTS).pathname });
          await contents.locator("summary").click();
          assert.equal(await first.isVisible(), true, "one tap opens the contents");
          await page.screenshot({
            path: new URL("f10-09-docs-phone-open.png", SHOTS).pathname,
          });
          await page.setViewportSize(DESKTOP);
        },
      );

      await step(
        "docs at 1280 px: the sidebar shows, never breaks a word, marks nothing on hover",
        async () => {
          await page.setViewportSize(DESKTOP);
          await page.goto(`${base}/docs`);
          assert.equal(await page.locator(".docs-toc a").first().isVisible(), true);
          assert.equal(
            await page.getByTestId("docs-contents").locator("summary").isVisible(),
            false,
          );
          const broken = await page.evaluate(() => {
            const out: string[] = [];
            for (const link of document.querySelectorAll(".docs-toc a")) {
              const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                // Each word of a path (with its slash) must sit on one line.
                for (const m of node.textContent!.matchAll(/[^/\s]+/g)) {
                  const range = document.createRange();
                  range.setStart(node, m.index!);
                  range.setEnd(node, m.index! + m[0].length);
                  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                  if (tops.size > 1) out.push(`${link.textContent}: "${m[0]}"`);
                }
              }
            }
            return out;
          });
          assert.deepEqual(broken, [], "words broken across lines in the docs contents");
          // The only highlight is the pointer's own: hovering a link does not paint it "current".
          const link = page.locator(".docs-toc a[href='#postApiCreateCheckout']");
          await page.locator("#postApiData").scrollIntoViewIfNeeded();
          await link.hover();
          const bg = await link.evaluate((a) => getComputedStyle(a).backgroundColor);
          assert.match(bg, /rgba\(0, 0, 0, 0\)|transparent/, `hovered link background ${bg}`);
          await page.screenshot({
            path: new URL("f10-10-docs-desktop.png", SHOTS).pathname,
          });
        },
      );

      assert.deepEqual(errors, [], "no script errors");
      assert.deepEqual(failed, [], "every promise of the first ten minutes holds");
    } finally {
      await browser.close();
      await server.shutdown();
      await stripe.close();
    }
  },
});

/** Browser tests' one setup: Debian's Chromium driven by playwright-core, never a downloaded browser. */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed (CI installs it with apt-get; tests are skipped, saying so, without it). */
export const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** Where screenshots go (gitignored). */
export const SHOTS = new URL("../../test-results/screenshots/", import.meta.url);
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

/**
 * Launches headless Chromium. The network flags matter: this machine reaches only the npm registry
 * and Debian's packages, and Chromium's background connections would be refused many at a time.
 */
export async function launchChromium(): Promise<Browser> {
  await Deno.mkdir(SHOTS, { recursive: true });
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/**
 * Full-page screenshots at desktop and phone width of the page as it is now (`name`-desktop.png,
 * `name`-phone.png), failing if anything sticks out sideways at phone width. `atPhoneWidth` waits
 * for what must settle after the resize (a chart redrawing) before the phone screenshot.
 */
export async function snap(
  page: Page,
  name: string,
  atPhoneWidth?: (page: Page) => Promise<unknown>,
): Promise<void> {
  await page.screenshot({ path: new URL(`${name}-desktop.png`, SHOTS).pathname, fullPage: true });
  await page.setViewportSize(PHONE);
  await atPhoneWidth?.(page);
  await page.screenshot({ path: new URL(`${name}-phone.png`, SHOTS).pathname, fullPage: true });
  const overflow = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than a 375px screen`);
  await page.setViewportSize(DESKTOP);
}

/** `snap`, after every uPlot chart followed its box to phone width (a ResizeObserver redraws it). */
export function snapChart(page: Page, name: string): Promise<void> {
  return snap(
    page,
    name,
    (p) =>
      p.waitForFunction(() =>
        [...document.querySelectorAll<HTMLElement>(".uplot")].every((u) => u.offsetWidth <= 375)
      ),
  );
}

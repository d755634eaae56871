/** Browser tests' one setup: Debian's Chromium driven by playwright-core, never a downloaded browser. */
import { type Browser, chromium } from "playwright-core";

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

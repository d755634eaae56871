/**
 * Starting founders' webhook delivery in a server process (main.ts; serve.ts's workers are
 * main.ts processes, so each runs one loop and the outbox's leases keep them apart).
 *
 * On Deno Deploy an idle isolate runs no timers, so the loop alone would leave events waiting
 * until the next request wakes an isolate. Where the runtime offers `Deno.cron` (Deno Deploy;
 * locally only with --unstable-cron, where it merely doubles the loop, harmlessly), a cron runs a
 * delivery pass every minute: an event queued while no isolate runs is sent within about a minute,
 * and retries fall due on the same minute grid. Deploy discovers crons by evaluating the module's
 * top level, so this is called from main.ts's top level, before `Deno.serve`. A cron invocation
 * keeps making passes for at most `CRON_BUDGET_MS`; what remains waits for the next minute or a
 * serving isolate's loop.
 */
import type { Deps } from "../deps.ts";
import { WebhookDelivery } from "./delivery.ts";

/** How long one cron invocation keeps making passes. */
export const CRON_BUDGET_MS = 45_000;

/**
 * Builds and starts this process's delivery loop, and on Deno Deploy its minute cron. Stop it on
 * drain (`await webhooks.stop()`), before KV closes.
 */
export function startWebhookDelivery(
  deps: Pick<Deps, "config" | "kv" | "secrets" | "log">,
): WebhookDelivery {
  const delivery = new WebhookDelivery({
    kv: deps.kv,
    secrets: deps.secrets,
    log: deps.log,
    production: deps.config.appEnv === "production",
  });
  delivery.start();
  if (typeof Deno.cron === "function") {
    Deno.cron("dream-api webhook delivery", "* * * * *", async () => {
      const until = Date.now() + CRON_BUDGET_MS;
      while (Date.now() < until && await delivery.runPass() > 0) {
        // Keep going while passes find work: a backlog larger than one batch drains in one minute.
      }
    });
  }
  return delivery;
}

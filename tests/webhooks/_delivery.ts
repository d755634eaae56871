/** A founders' webhook delivery loop on a test app's KV, secrets, log and clock (run by hand). */
import { WebhookDelivery } from "../../lib/webhooks/delivery.ts";
import type { TestApp } from "../_helpers/app.ts";

/** `production: true` applies the URL rules of production (SSRF refusals). */
export function deliveryLoop(t: TestApp, options: { production?: boolean } = {}): WebhookDelivery {
  return new WebhookDelivery({
    kv: t.kv,
    secrets: t.deps.secrets,
    log: t.deps.log,
    now: () => t.deps.now().getTime(),
    production: options.production ?? false,
  });
}

/**
 * POST /webhook/stripe?platform=<platformId> — events from every founder's Stripe account, at one
 * route. The endpoint sync creates names its platform, so the raw body is verified with that
 * platform's webhook secret before anything parses it (400 and no change otherwise). Without
 * `?platform=`, the Connect endpoint's secret is tried first (connected accounts' events, routed by
 * their `account`); if it does not verify, a bounded fallback finds the platform of endpoints
 * created before `?platform=` existed. Verified
 * events are acknowledged with 200, also those we do not act on (Stripe disables failing endpoints).
 */
import { z } from "zod";
import { receiveEndUserEvent } from "../../lib/billing/end_user_webhook.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { readQuery } from "../../lib/http/query.ts";

/** Largest `/webhook/stripe` body accepted (Stripe's events are far smaller); more is 413. */
export const WEBHOOK_MAX_BYTES = 512 * 1024;

const WebhookQuery = z.object({
  platform: z.string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, "must be a platform id (letters, digits, _ and -)")
    .optional(),
});

const POST = define.handler(async (c) => {
  const { platform } = readQuery(c, WebhookQuery);
  const { outcome } = await receiveEndUserEvent(c.get("deps"), {
    platformId: platform,
    signature: c.req.header("stripe-signature"),
    body: async () => new Uint8Array(await c.req.arrayBuffer()),
  });
  return c.json({ received: true, outcome });
});

export const route = defineRoute({
  path: "/webhook/stripe",
  auth: "webhook",
  bodyLimit: WEBHOOK_MAX_BYTES,
  methods: { POST: { handler: POST } },
});

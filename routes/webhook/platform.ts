/**
 * POST /webhook/platform — events of dream-api's own Stripe account (founders paying dream-api).
 * The raw body is verified with STRIPE_WEBHOOK_SECRET (Stripe's v1 signature, 300 s tolerance,
 * SubtleCrypto); a bad or missing signature is 400 and changes nothing.
 */
import { handlePlatformEvent } from "../../lib/billing/platform_subscription.ts";
import { verifyStripeEvent } from "../../lib/billing/webhook_signature.ts";
import { define } from "../../lib/define.ts";
import { ApiError } from "../../lib/errors.ts";

export const POST = define.handler(async (c) => {
  const deps = c.get("deps");
  const secret = deps.config.stripe.webhookSecret;
  if (!secret) {
    throw new ApiError("unavailable", "This server has no STRIPE_WEBHOOK_SECRET configured.");
  }
  const event = await verifyStripeEvent(
    await c.req.text(),
    c.req.header("stripe-signature"),
    secret,
  );
  const outcome = await handlePlatformEvent(deps, event);
  return c.json({ received: true, outcome });
});

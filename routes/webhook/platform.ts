/**
 * POST /webhook/platform — events of dream-api's own Stripe account (founders paying dream-api).
 * The `Stripe-Signature` header is checked first (form, ±300 s), then the raw body is verified with
 * STRIPE_WEBHOOK_SECRET, and only then parsed; a bad or missing signature is 400 and changes nothing.
 */
import { handlePlatformEvent } from "../../lib/billing/platform_subscription.ts";
import { parseSignatureHeader, verifyStripeEvent } from "../../lib/billing/webhook_signature.ts";
import { define } from "../../lib/define.ts";
import { ApiError } from "../../lib/errors.ts";

export const POST = define.handler(async (c) => {
  const deps = c.get("deps");
  const secret = deps.config.stripe.webhookSecret;
  if (!secret) {
    throw new ApiError("unavailable", "This server has no STRIPE_WEBHOOK_SECRET configured.");
  }
  const header = parseSignatureHeader(c.req.header("stripe-signature"));
  const body = new Uint8Array(await c.req.arrayBuffer());
  const event = verifyStripeEvent(body, header, secret);
  const outcome = await handlePlatformEvent(deps, event);
  return c.json({ received: true, outcome });
});

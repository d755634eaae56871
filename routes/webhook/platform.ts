/**
 * POST /webhook/platform — events of dream-api's own Stripe account: the founders' subscriptions
 * to dream-api (lib/billing/founder_subscription.ts). The `Stripe-Signature` header is checked
 * first (form, ±300 s), then the raw body is verified with STRIPE_WEBHOOK_SECRET, and only then
 * parsed; a bad or missing signature is 400 and changes nothing.
 *
 * The URL keeps its old word "platform" (elsewhere a founder's tenant) because dream-api's Stripe
 * account is configured to send its events here; renaming it would silently drop them.
 */
import { handleFounderSubscriptionEvent } from "../../lib/billing/founder_subscription.ts";
import { parseSignatureHeader, verifyStripeEvent } from "../../lib/billing/webhook_signature.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { ApiError } from "../../lib/errors.ts";

/** Largest body accepted from dream-api's own Stripe account (its events are far smaller); more is 413. */
export const FOUNDER_WEBHOOK_MAX_BYTES = 256 * 1024;

const POST = define.handler(async (c) => {
  const deps = c.get("deps");
  const secret = deps.config.stripe.webhookSecret;
  if (!secret) {
    throw new ApiError("unavailable", "This server has no STRIPE_WEBHOOK_SECRET configured.");
  }
  const header = parseSignatureHeader(c.req.header("stripe-signature"));
  const body = new Uint8Array(await c.req.arrayBuffer());
  const event = verifyStripeEvent(body, header, secret);
  const outcome = await handleFounderSubscriptionEvent(deps, event);
  return c.json({ received: true, outcome });
});

export const route = defineRoute({
  path: "/webhook/platform",
  auth: "webhook",
  bodyLimit: FOUNDER_WEBHOOK_MAX_BYTES,
  methods: { POST: { handler: POST } },
});

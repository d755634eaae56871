/** POST /api/create-checkout — a Checkout Session in the founder's Stripe for the end-user. */
import { createCheckout } from "../../lib/billing/end_users.ts";
import { MAX_BODY_BYTES, readHeader, readJson } from "../../lib/http/body.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { CreateCheckoutBodySchema } from "../../lib/schemas/billing.ts";
import { CheckoutResponseSchema } from "../../lib/schemas/responses.ts";
import { IdempotencyKeySchema } from "../../lib/schemas/tenant.ts";

export const route = defineRoute({
  path: "/api/create-checkout",
  auth: "tenant",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const idempotencyKey = readHeader(c, "idempotency-key", IdempotencyKeySchema);
        const body = await readJson(c, CreateCheckoutBodySchema);
        return c.json(await createCheckout(c.get("deps"), c.get("caller"), body, idempotencyKey));
      }),
      docs: {
        tag: "End-user billing",
        summary: "Open Checkout for an end-user's upgrade",
        description:
          "Creates a Checkout Session in your Stripe account for a paid tier (its `stripePriceId`, set by syncing your tiers), reusing the end-user's Stripe customer when one is known. When the end-user completes it, their plan becomes that tier at once. A retry with the same `Idempotency-Key` returns the same session; 409 `conflict` when the end-user already pays (send them to the portal) or the key was used with another body.",
        headers: ["X-User-Id", "Idempotency-Key"],
        body: CreateCheckoutBodySchema,
        example: {
          tier: "pro",
          successUrl: "https://app.example.com/billing/done",
          cancelUrl: "https://app.example.com/billing",
          email: "ada@example.com",
        },
        bodyRequired: true,
        responses: {
          200: { description: "Send the end-user to `url`.", schema: CheckoutResponseSchema },
        },
        errors: ["invalid_request", "conflict", "stripe_not_connected", "stripe_error"],
      },
    },
  },
});

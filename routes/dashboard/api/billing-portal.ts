/** POST /dashboard/api/billing-portal — Stripe's billing portal for the founder's own subscription. */
import { createFounderPortal } from "../../../lib/billing/founder_subscription.ts";
import { MAX_BODY_BYTES } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { UrlResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/billing-portal",
  // Not behind the paid gate: a founder whose payment failed fixes it there.
  auth: "founder",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        return c.json(await createFounderPortal(c.get("deps"), c.get("founder").userId));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Manage your dream-api subscription",
        description:
          "Creates a Stripe billing-portal session for your dream-api subscription (card, invoices, cancel); send the browser to `url`. 409 before your first checkout.",
        responses: { 200: { description: "The billing portal.", schema: UrlResponseSchema } },
        errors: ["conflict", "stripe_error"],
      },
    },
  },
});

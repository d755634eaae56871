/** POST /dashboard/api/stripe/sync — products, monthly prices and the webhook endpoint in the founder's Stripe. */
import { syncFounderStripe } from "../../../../lib/billing/founder_stripe.ts";
import { MAX_BODY_BYTES } from "../../../../lib/http/body.ts";
import { define, defineRoute } from "../../../../lib/http/route.ts";
import { StripeSyncResponseSchema } from "../../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/stripe/sync",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        return c.json(await syncFounderStripe(c.get("deps"), c.get("founder").userId));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Sync your tiers to Stripe",
        description:
          "Creates or updates a product and a monthly price in your Stripe account for every paid tier (no duplicates on a second run), stores each `stripePriceId`, and creates the webhook endpoint that keeps your end-users' plans current.",
        responses: {
          200: {
            description: "The tiers with their prices, and the webhook.",
            schema: StripeSyncResponseSchema,
          },
        },
        errors: ["subscription_required", "not_found", "stripe_not_connected", "stripe_error"],
      },
    },
  },
});

/** POST /dashboard/api/stripe/disconnect — ends the Stripe connection, Connect or pasted key. */
import { disconnectStripe } from "../../../../lib/billing/stripe_connect.ts";
import { MAX_BODY_BYTES } from "../../../../lib/http/body.ts";
import { define, defineRoute } from "../../../../lib/http/route.ts";
import { StripeConnectionSchema } from "../../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/stripe/disconnect",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        return c.json(await disconnectStripe(c.get("deps"), c.get("founder").userId));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Disconnect your Stripe account",
        description:
          "For Stripe Connect, revokes dream-api's access to your account at Stripe; for a pasted key, deletes the key and the webhook endpoint it made. Then the tiers lose their Stripe prices: your end-users' checkout and portal answer 409 `stripe_not_connected` until you connect again, while usage counting goes on.",
        responses: {
          200: { description: "Disconnected.", schema: StripeConnectionSchema },
        },
        errors: ["subscription_required", "not_found", "stripe_not_connected", "unavailable"],
      },
    },
  },
});

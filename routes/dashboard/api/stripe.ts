/** POST /dashboard/api/stripe — connects the founder's Stripe account (key checked, then sealed). */
import { connectFounderStripe } from "../../../lib/billing/founder_stripe.ts";
import { MAX_BODY_BYTES, readJson } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { ConnectStripeBodySchema } from "../../../lib/schemas/dashboard.ts";
import { StripeConnectedResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/stripe",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const { secretKey } = await readJson(c, ConnectStripeBodySchema);
        return c.json(
          await connectFounderStripe(c.get("deps"), c.get("founder").userId, secretKey),
        );
      }),
      docs: {
        tag: "Founders' API",
        summary: "Connect your Stripe account",
        description:
          "Checks the secret key with a real Stripe call, then stores it encrypted. It is never returned again beyond its last 4 characters.",
        body: ConnectStripeBodySchema,
        example: { secretKey: "sk_test_51Nv0FGQ9RKHgCVdKexample" },
        bodyRequired: true,
        responses: {
          200: { description: "Connected.", schema: StripeConnectedResponseSchema },
        },
        errors: ["invalid_request", "subscription_required", "not_found", "stripe_rejected"],
      },
    },
  },
});

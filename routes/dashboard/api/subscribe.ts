/** POST /dashboard/api/subscribe — a Stripe Checkout URL for dream-api's $29/month plan. */
import { createSubscribeCheckout } from "../../../lib/billing/founder_subscription.ts";
import { MAX_BODY_BYTES } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { UrlResponseSchema } from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/subscribe",
  auth: "founder",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const { userId, email } = c.get("founder");
        return c.json(await createSubscribeCheckout(c.get("deps"), userId, email));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Start your dream-api subscription",
        description:
          "Creates a Stripe Checkout Session for dream-api's monthly plan; send the browser to `url`. 409 while you pay, or after a failed payment (fix the card in the billing portal instead).",
        responses: { 200: { description: "The Checkout page.", schema: UrlResponseSchema } },
        errors: ["conflict", "stripe_error"],
      },
    },
  },
});

/**
 * GET /dashboard/api/stripe — how the platform is connected to Stripe (Connect or a pasted key);
 * POST — connects the founder's Stripe account with a pasted key (checked, then sealed).
 */
import { connectFounderStripe, stripeConnectionOf } from "../../../lib/billing/founder_stripe.ts";
import { MAX_BODY_BYTES, readJson } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { ConnectStripeBodySchema } from "../../../lib/schemas/dashboard.ts";
import {
  StripeConnectedResponseSchema,
  StripeConnectionSchema,
} from "../../../lib/schemas/responses.ts";

export const route = defineRoute({
  path: "/dashboard/api/stripe",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    GET: {
      handler: define.handler(async (c) => {
        return c.json(await stripeConnectionOf(c.get("deps"), c.get("founder").userId));
      }),
      docs: {
        tag: "Founders' API",
        summary: "Your Stripe connection",
        description:
          "Whether your platform is connected to Stripe, and how: `connect` (Stripe Connect: dream-api acts in your account with its own key, no secret of yours is stored) or `key` (a pasted key, shown only by its last 4 characters). Also the platform's `stripe` field in `GET /dashboard/api/me`.",
        responses: {
          200: { description: "The connection.", schema: StripeConnectionSchema },
        },
        errors: ["subscription_required", "not_found"],
      },
    },
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
          "Checks the key with a real Stripe call, then stores it encrypted. It is never returned again beyond its last 4 characters. Prefer a restricted key (`rk_…`) with only the permissions dream-api uses (see the README), or Stripe Connect (`GET /dashboard/stripe/connect`), which stores no key at all. 409 `conflict` while the platform is connected with Connect: disconnect first.",
        body: ConnectStripeBodySchema,
        example: { secretKey: "sk_test_51Nv0FGQ9RKHgCVdKexample" },
        bodyRequired: true,
        responses: {
          200: { description: "Connected.", schema: StripeConnectedResponseSchema },
        },
        errors: [
          "invalid_request",
          "subscription_required",
          "not_found",
          "conflict",
          "stripe_rejected",
        ],
      },
    },
  },
});

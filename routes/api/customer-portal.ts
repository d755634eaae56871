/** POST /api/customer-portal — a billing-portal session for the end-user's Stripe customer. */
import { createPortal } from "../../lib/billing/end_users.ts";
import { MAX_BODY_BYTES, readHeader, readJson } from "../../lib/http/body.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { CustomerPortalBodySchema } from "../../lib/schemas/billing.ts";
import { PortalResponseSchema } from "../../lib/schemas/responses.ts";
import { IdempotencyKeySchema } from "../../lib/schemas/tenant.ts";

export const route = defineRoute({
  path: "/api/customer-portal",
  auth: "tenant",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const idempotencyKey = readHeader(c, "idempotency-key", IdempotencyKeySchema);
        const body = await readJson(c, CustomerPortalBodySchema);
        return c.json(await createPortal(c.get("deps"), c.get("caller"), body, idempotencyKey));
      }),
      docs: {
        tag: "End-user billing",
        summary: "Open the billing portal for an end-user",
        description:
          "A Stripe billing-portal session where the end-user manages or cancels their subscription. 404 when the end-user has never had a Stripe customer.",
        headers: ["X-User-Id", "Idempotency-Key"],
        body: CustomerPortalBodySchema,
        example: { returnUrl: "https://app.example.com/account" },
        bodyRequired: true,
        responses: {
          200: { description: "Send the end-user to `url`.", schema: PortalResponseSchema },
        },
        errors: [
          "invalid_request",
          "not_found",
          "conflict",
          "stripe_not_connected",
          "stripe_error",
        ],
      },
    },
  },
});

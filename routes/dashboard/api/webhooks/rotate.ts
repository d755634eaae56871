/** POST /dashboard/api/webhooks/rotate — a new signing secret, shown once; the old one stops at once. */
import { define, defineRoute } from "../../../../lib/http/route.ts";
import { WebhookSavedResponseSchema } from "../../../../lib/schemas/webhooks.ts";
import { rotateWebhookSecret } from "../../../../lib/webhooks/endpoint.ts";

export const route = defineRoute({
  path: "/dashboard/api/webhooks/rotate",
  auth: "paid",
  methods: {
    POST: {
      handler: define.handler(async (c) => {
        const body = await rotateWebhookSecret(c.get("deps"), c.get("founder").userId);
        c.header("Cache-Control", "no-store");
        return c.json(body);
      }),
      docs: {
        tag: "Founders' API",
        summary: "Rotate your webhook signing secret",
        description:
          "Issues a new `whsec_…` secret, shown this once. Every attempt from now on, retries included, is signed with it.",
        responses: {
          200: { description: "The new secret (shown once).", schema: WebhookSavedResponseSchema },
        },
        errors: ["subscription_required", "not_found"],
      },
    },
  },
});

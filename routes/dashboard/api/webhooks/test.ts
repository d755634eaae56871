/** POST /dashboard/api/webhooks/test — queues a `webhook.test` event through the outbox. */
import { define, defineRoute } from "../../../../lib/http/route.ts";
import { WebhookTestResponseSchema } from "../../../../lib/schemas/webhooks.ts";
import { queueTestEvent } from "../../../../lib/webhooks/endpoint.ts";

export const route = defineRoute({
  path: "/dashboard/api/webhooks/test",
  auth: "paid",
  methods: {
    POST: {
      handler: define.handler(async (c) =>
        c.json(await queueTestEvent(c.get("deps"), c.get("founder").userId), 202)
      ),
      docs: {
        tag: "Founders' API",
        summary: "Send a test event to your webhook endpoint",
        description:
          "Queues a `webhook.test` event, delivered like any other (signed, retried); watch its attempts in the deliveries.",
        responses: {
          202: { description: "Queued.", schema: WebhookTestResponseSchema },
        },
        errors: ["subscription_required", "not_found"],
      },
    },
  },
});

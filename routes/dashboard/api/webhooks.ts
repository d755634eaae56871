/**
 * /dashboard/api/webhooks — the founder's webhook endpoint: GET (URL, events, health, the newest
 * deliveries; never the secret), PUT `{url, events?}` (the secret is returned once, on creation),
 * DELETE.
 */
import { MAX_BODY_BYTES, readJson } from "../../../lib/http/body.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import {
  PutWebhookBodySchema,
  WebhookConfigResponseSchema,
  WebhookDeletedResponseSchema,
  WebhookSavedResponseSchema,
} from "../../../lib/schemas/webhooks.ts";
import {
  readWebhookConfig,
  removeWebhookEndpoint,
  saveWebhookEndpoint,
} from "../../../lib/webhooks/endpoint.ts";

export const route = defineRoute({
  path: "/dashboard/api/webhooks",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    GET: {
      handler: define.handler(async (c) =>
        c.json(await readWebhookConfig(c.get("deps"), c.get("founder").userId))
      ),
      docs: {
        tag: "Founders' API",
        summary: "Read your webhook endpoint and its deliveries",
        description:
          "Your endpoint (`null` before you set one), whether it keeps failing, and its newest 100 delivery attempts. The signing secret is never shown here.",
        responses: {
          200: {
            description: "The endpoint and its deliveries.",
            schema: WebhookConfigResponseSchema,
          },
        },
        errors: ["subscription_required", "not_found"],
      },
    },
    PUT: {
      handler: define.handler(async (c) => {
        const input = await readJson(c, PutWebhookBodySchema);
        const { created, body } = await saveWebhookEndpoint(
          c.get("deps"),
          c.get("founder").userId,
          input,
        );
        c.header("Cache-Control", "no-store");
        return c.json(body, created ? 201 : 200);
      }),
      docs: {
        tag: "Founders' API",
        summary: "Set your webhook endpoint",
        description:
          "Sets the URL events are POSTed to, signed per Standard Webhooks, and the event types to send (all when omitted). In production the URL must be https and must not resolve to a private, loopback or link-local address. Creating the endpoint answers 201 with its signing secret `whsec_…`, shown this once; changing it keeps the secret.",
        body: PutWebhookBodySchema,
        example: { url: "https://example.com/webhooks/dream-api", events: ["usage.limit_reached"] },
        bodyRequired: true,
        responses: {
          200: {
            description: "Changed; the secret is unchanged.",
            schema: WebhookSavedResponseSchema,
          },
          201: {
            description: "Created, with its signing secret (shown once).",
            schema: WebhookSavedResponseSchema,
          },
        },
        errors: ["invalid_request", "subscription_required", "not_found"],
      },
    },
    DELETE: {
      handler: define.handler(async (c) =>
        c.json(await removeWebhookEndpoint(c.get("deps"), c.get("founder").userId))
      ),
      docs: {
        tag: "Founders' API",
        summary: "Remove your webhook endpoint",
        description: "Stops sending events; those still queued are dropped.",
        responses: {
          200: {
            description: "Whether there was an endpoint.",
            schema: WebhookDeletedResponseSchema,
          },
        },
        errors: ["subscription_required", "not_found"],
      },
    },
  },
});

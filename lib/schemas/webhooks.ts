/**
 * Founders' webhooks at the edge: the endpoint's request body and the answers of
 * `/dashboard/api/webhooks*`, as zod schemas (the OpenAPI document is made from them).
 */
import { z } from "zod";

/** The event types a founder can subscribe to (`webhook.test` is always delivered). */
export const SUBSCRIBABLE_EVENT_TYPES = [
  "usage.near_limit",
  "usage.limit_reached",
  "subscription.updated",
] as const;

/** Every event type, the test event included. */
export const EVENT_TYPES = [...SUBSCRIBABLE_EVENT_TYPES, "webhook.test"] as const;

export const EventTypeSchema = z.enum(EVENT_TYPES);

/** `PUT /dashboard/api/webhooks`. The URL rules that depend on the deployment run after this. */
export const PutWebhookBodySchema = z.object({
  url: z.string().trim().max(2048, "at most 2048 characters").pipe(
    z.url({ protocol: /^https?$/, error: "an http(s) URL, e.g. https://example.com/webhooks" }),
  ),
  events: z.array(z.enum(SUBSCRIBABLE_EVENT_TYPES)).min(1, "at least one event type").max(8)
    .optional().meta({ description: "The event types to send; all of them when omitted." }),
});

const ms = (description: string) => z.number().int().nonnegative().meta({ description });

/** One attempt in the deliveries log. */
export const DeliverySchema = z.object({
  at: ms("When the attempt was made (ms since the epoch)."),
  eventId: z.string().meta({ description: "The `webhook-id`: the same on every retry." }),
  type: EventTypeSchema,
  attempt: z.number().int().min(1),
  status: z.enum(["delivered", "retrying", "failed"]),
  responseStatus: z.number().int().nullable().meta({
    description: "Your endpoint's HTTP status, when it answered.",
  }),
  error: z.string().nullable().meta({
    description: "Why the attempt got no answer (timeout, refused address, connection).",
  }),
  nextAttemptAt: ms("When the next attempt is due (retrying only).").nullable(),
});

/** The endpoint as shown (never its secret). */
export const WebhookEndpointViewSchema = z.object({
  url: z.string(),
  events: z.array(z.enum(SUBSCRIBABLE_EVENT_TYPES)),
  createdAt: z.iso.datetime({ offset: false }),
  updatedAt: z.iso.datetime({ offset: false }),
  rotatedAt: z.iso.datetime({ offset: false }).nullable(),
});

/** The endpoint's health, from its newest attempts. */
export const WebhookHealthSchema = z.object({
  lastDeliveredAt: ms("The newest successful attempt (ms since the epoch).").nullable(),
  consecutiveFailures: z.number().int().nonnegative().meta({
    description: "Failed attempts since the last success (up to the log's 100).",
  }),
  failing: z.boolean().meta({
    description: "The endpoint keeps failing: its last 5 or more attempts all failed.",
  }),
});

/** `GET /dashboard/api/webhooks`. */
export const WebhookConfigResponseSchema = z.object({
  endpoint: WebhookEndpointViewSchema.nullable(),
  health: WebhookHealthSchema,
  deliveries: z.array(DeliverySchema).meta({
    description: "The newest 100 attempts, newest first.",
  }),
});

/** `PUT /dashboard/api/webhooks` and `POST /dashboard/api/webhooks/rotate`. */
export const WebhookSavedResponseSchema = z.object({
  endpoint: WebhookEndpointViewSchema,
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/).optional().meta({
    description:
      "The signing secret, shown only when the endpoint is created or its secret rotated.",
  }),
});

/** `POST /dashboard/api/webhooks/test`. */
export const WebhookTestResponseSchema = z.object({
  eventId: z.string().meta({ description: "The queued event's `webhook-id`." }),
});

/** `DELETE /dashboard/api/webhooks`. */
export const WebhookDeletedResponseSchema = z.object({ deleted: z.boolean() });

export type WebhookEndpointView = z.infer<typeof WebhookEndpointViewSchema>;
export type WebhookHealth = z.infer<typeof WebhookHealthSchema>;
export type Delivery = z.infer<typeof DeliverySchema>;
export type WebhookConfigResponse = z.infer<typeof WebhookConfigResponseSchema>;
export type WebhookSavedResponse = z.infer<typeof WebhookSavedResponseSchema>;

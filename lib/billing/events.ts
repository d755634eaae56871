/**
 * The Stripe event types dream-api acts on, at both webhook URLs (`/webhook/platform` for our own
 * account, `/webhook/stripe` for every founder's). The endpoints sync creates subscribe to exactly
 * these; every other verified type is acknowledged with 2xx and changes nothing, because Stripe
 * disables endpoints that keep failing.
 */
import type Stripe from "stripe";
import { type StripeSubscriptionStatus, SUBSCRIPTION_STATUSES } from "../schemas/subscriptions.ts";

export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.paid",
  "invoice.payment_failed",
] as const satisfies readonly Stripe.WebhookEndpointCreateParams.EnabledEvent[];

/** Whether `/webhook/*` acts on an event type. */
export function isHandledEvent(type: string): boolean {
  return (HANDLED_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * The event's `data.object` when it is a JSON object; `null` otherwise (null, a string, an array):
 * a correctly signed event we cannot use, which the webhooks acknowledge as `ignored`.
 */
export function eventObject(event: Pick<Stripe.Event, "data">): Record<string, unknown> | null {
  const object: unknown = event.data?.object;
  return typeof object === "object" && object !== null && !Array.isArray(object)
    ? object as Record<string, unknown>
    : null;
}

/** Stripe's status as we store it; one this code does not know yet entitles to nothing (`incomplete`). */
export function knownStatus(status: string): StripeSubscriptionStatus {
  return (SUBSCRIPTION_STATUSES as readonly string[]).includes(status)
    ? status as StripeSubscriptionStatus
    : "incomplete";
}

/**
 * Stripe's subscription statuses as dream-api stores them. At the bottom (KV records, response
 * schemas and Billing all name them), so it imports nothing of ours.
 */
import type Stripe from "stripe";

/** Stripe's subscription statuses (what its API answers today). */
export const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "canceled",
  "unpaid",
  "paused",
] as const satisfies readonly Stripe.Subscription.Status[];

export type StripeSubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** Stripe's subscription statuses, plus `none` for a subscriber who never subscribed. */
export type SubscriptionStatus = "none" | StripeSubscriptionStatus;

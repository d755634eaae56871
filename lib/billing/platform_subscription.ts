/**
 * Founders paying dream-api: the $29/month Checkout Session, the billing portal, and the events of dream-api's own
 * Stripe account (`/webhook/platform`) that keep each founder's subscription status current.
 *
 * Order-proof by re-fetching: Stripe does not promise event order, so every subscription-bearing
 * event makes us retrieve the subscription and store what Stripe says now (Stripe's advice in
 * "Webhooks: event ordering"); `shouldApply` settles handlers that finish out of order.
 * Idempotent: the event id is marked in the same atomic commit as its effect.
 */
import type Stripe from "stripe";
import type { Deps } from "../define.ts";
import { ApiError } from "../errors.ts";
import { isHandledEvent } from "./events.ts";
import {
  applySubscriptionSnapshot,
  founderOfCustomer,
  getFounderSubscription,
  isPaid,
  type SubscriptionSnapshot,
  type SubscriptionStatus,
} from "../kv/founder_subscriptions.ts";
import { isEventProcessed, markEventProcessed, PLATFORM_SCOPE } from "../kv/stripe_events.ts";

type BillingDeps = Pick<Deps, "kv" | "config" | "stripeFor" | "now" | "log">;

function ownStripe(deps: BillingDeps): { stripe: Stripe; priceId: string } {
  const { secretKey, priceId } = deps.config.stripe;
  if (!secretKey || !priceId) {
    throw new ApiError(
      "unavailable",
      "Billing is not configured on this server (STRIPE_SECRET_KEY and STRIPE_PRICE_ID).",
    );
  }
  return { stripe: deps.stripeFor(secretKey), priceId };
}

/**
 * A Checkout Session (mode subscription, `STRIPE_PRICE_ID`) for the founder, with their user id
 * as `client_reference_id` and in the subscription's metadata (so subscription events find them
 * even before the checkout event arrives). 409 `conflict` when they already pay, or when a failed
 * payment left their subscription past due (the card is fixed in the billing portal).
 */
export async function createSubscribeCheckout(
  deps: BillingDeps,
  userId: string,
  /** The session's email: Checkout opens with it filled in (for a new customer only). */
  email?: string,
): Promise<{ url: string }> {
  const current = await getFounderSubscription(deps.kv, userId);
  if (current && isPaid(current.status)) {
    throw new ApiError("conflict", `Your subscription is already ${current.status}.`);
  }
  // A failed payment leaves the subscription alive: a second checkout would charge twice.
  if (current && (current.status === "past_due" || current.status === "unpaid")) {
    throw new ApiError(
      "conflict",
      "Your last payment failed: update your payment method in the billing portal (POST /dashboard/api/billing-portal).",
    );
  }
  const { stripe, priceId } = ownStripe(deps);
  const base = deps.config.publicUrl;
  // Double clicks within a minute get the same session back instead of a second one.
  const minute = Math.floor(deps.now().getTime() / 60_000);
  try {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: priceId, quantity: 1 }],
      client_reference_id: userId,
      metadata: { userId },
      subscription_data: { metadata: { userId } },
      // Stripe takes `customer` or `customer_email`, never both.
      ...(current?.customerId
        ? { customer: current.customerId }
        : email && { customer_email: email }),
      success_url: `${base}/dashboard/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${base}/dashboard/billing?checkout=canceled`,
    }, { idempotencyKey: `subscribe-${userId}-${current?.customerId ?? "new"}-${minute}` });
    if (!session.url) throw new ApiError("stripe_error", "Stripe returned no checkout URL.");
    return { url: session.url };
  } catch (error) {
    throw stripeFailure(error);
  }
}

/**
 * A billing-portal session in dream-api's Stripe for the founder's customer, where they change
 * their card, read invoices or cancel; it returns to /dashboard/billing, and the subscription's
 * events reach `/webhook/platform` as any other. 409 `conflict` before a checkout made them a
 * customer.
 */
export async function createFounderPortal(
  deps: BillingDeps,
  userId: string,
): Promise<{ url: string }> {
  const current = await getFounderSubscription(deps.kv, userId);
  if (!current?.customerId) {
    throw new ApiError(
      "conflict",
      "There is no dream-api subscription to manage yet: subscribe first.",
    );
  }
  const { stripe } = ownStripe(deps);
  const minute = Math.floor(deps.now().getTime() / 60_000);
  try {
    const session = await stripe.billingPortal.sessions.create({
      customer: current.customerId,
      return_url: `${deps.config.publicUrl}/dashboard/billing`,
    }, { idempotencyKey: `founder-portal-${userId}-${current.customerId}-${minute}` });
    return { url: session.url };
  } catch (error) {
    throw stripeFailure(error);
  }
}

/** Turns a Stripe SDK failure into 502 `stripe_error` carrying Stripe's message. */
export function stripeFailure(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  if (isStripeError(error)) {
    return new ApiError("stripe_error", `Stripe: ${error.message}`);
  }
  return error;
}

function isStripeError(error: unknown): error is { type: string; message: string; code?: string } {
  return typeof error === "object" && error !== null && "type" in error &&
    typeof (error as { type: unknown }).type === "string" &&
    String((error as { type: string }).type).startsWith("Stripe");
}

export type PlatformEventOutcome = "applied" | "stale" | "duplicate" | "ignored";

/**
 * Acts on one verified event of dream-api's own Stripe account.
 * Unknown types and events about no known founder are acknowledged (`ignored`); a failure to
 * reach Stripe throws (the webhook answers 5xx and Stripe retries).
 */
export async function handlePlatformEvent(
  deps: BillingDeps,
  event: Stripe.Event,
): Promise<PlatformEventOutcome> {
  if (!isHandledEvent(event.type)) return "ignored";
  if (await isEventProcessed(deps.kv, PLATFORM_SCOPE, event.id)) return "duplicate";

  const target = await subscriptionTarget(deps, event);
  if (!target) {
    const fresh = await markEventProcessed(deps.kv, PLATFORM_SCOPE, event.id, deps.now());
    return fresh ? "ignored" : "duplicate";
  }
  const snapshot = await currentSnapshot(deps, event, target.subscriptionId, target.fallback);
  const outcome = await applySubscriptionSnapshot(deps.kv, target.userId, snapshot, deps.now());
  deps.log.log("info", "founder subscription event", {
    event: event.id,
    type: event.type,
    userId: target.userId,
    status: snapshot.status,
    outcome,
  });
  return outcome;
}

interface Target {
  userId: string;
  subscriptionId: string;
  /** The subscription as the event carried it, used if Stripe no longer has it. */
  fallback: Stripe.Subscription | null;
}

async function subscriptionTarget(deps: BillingDeps, event: Stripe.Event): Promise<Target | null> {
  switch (event.type) {
    case "checkout.session.completed": {
      const session = event.data.object;
      if (session.mode !== "subscription" || !session.subscription) return null;
      const userId = session.client_reference_id ?? session.metadata?.userId ??
        await founderOfCustomer(deps.kv, idOf(session.customer) ?? "");
      if (!userId) return null;
      return { userId, subscriptionId: idOf(session.subscription)!, fallback: null };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const subscription = event.data.object;
      const userId = subscription.metadata?.userId ||
        await founderOfCustomer(deps.kv, idOf(subscription.customer) ?? "");
      if (!userId) return null;
      return { userId, subscriptionId: subscription.id, fallback: subscription };
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const invoice = event.data.object as Stripe.Invoice & { subscription?: unknown };
      const subscriptionId = idOf(invoice.subscription) ??
        idOf(invoice.parent?.subscription_details?.subscription);
      if (!subscriptionId) return null;
      const userId = invoice.parent?.subscription_details?.metadata?.userId ||
        await founderOfCustomer(deps.kv, idOf(invoice.customer) ?? "");
      if (!userId) return null;
      return { userId, subscriptionId, fallback: null };
    }
    default:
      return null;
  }
}

async function currentSnapshot(
  deps: BillingDeps,
  event: Stripe.Event,
  subscriptionId: string,
  fallback: Stripe.Subscription | null,
): Promise<SubscriptionSnapshot> {
  const { stripe } = ownStripe(deps);
  let subscription: Stripe.Subscription;
  try {
    subscription = await stripe.subscriptions.retrieve(subscriptionId);
  } catch (error) {
    const missing = isStripeError(error) && error.code === "resource_missing";
    if (!missing || !fallback) throw stripeFailure(error);
    // Gone from Stripe: what the event carried is the last word.
    subscription = fallback;
  }
  return {
    subscriptionId: subscription.id,
    customerId: idOf(subscription.customer),
    status: subscription.status as Exclude<SubscriptionStatus, "none">,
    created: subscription.created,
    eventId: event.id,
    eventCreated: event.created,
  };
}

/** The id of an expandable Stripe field (an id string or an object with `id`). */
function idOf(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") {
    return (value as { id: string }).id;
  }
  return null;
}

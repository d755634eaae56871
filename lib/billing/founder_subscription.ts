/**
 * The founders' own subscriptions to dream-api ($29/month): the Checkout Session, the billing
 * portal, and the events of dream-api's own Stripe account (`/webhook/platform`, a URL that keeps
 * its old name) that keep each founder's subscription status current. Not a *platform* (a
 * founder's tenant) matter, hence the name.
 *
 * Order-proof by re-fetching: Stripe does not promise event order, so every subscription-bearing
 * event makes us retrieve the subscription and store what Stripe says now (Stripe's advice in
 * "Webhooks: event ordering"); `supersedes` (lib/kv/supersedes.ts) settles handlers that finish out of order.
 * Idempotent: the event id is marked in the same atomic commit as its effect.
 */
import type Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { eventObject, isHandledEvent } from "./events.ts";
import {
  applySubscriptionSnapshot,
  founderOfCustomer,
  getFounderSubscription,
  isPaid,
  type SubscriptionSnapshot,
  type SubscriptionStatus,
} from "../kv/founder_subscriptions.ts";
import { isEventProcessed, markEventProcessed, OWN_STRIPE_SCOPE } from "../kv/stripe_events.ts";
import { stripeFailure } from "./stripe_client.ts";
import { refetch, type Refetched } from "./stripe_refetch.ts";
import type { UrlResponse } from "../schemas/responses.ts";

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
): Promise<UrlResponse> {
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
): Promise<UrlResponse> {
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

export type FounderSubscriptionEventOutcome =
  | "applied"
  | "stale"
  | "duplicate"
  | "ignored"
  | "unknown_subscription"
  | "forbidden";

/**
 * Acts on one verified event of dream-api's own Stripe account.
 * Unknown types, events about no known founder and events whose object is not an object are
 * acknowledged (`ignored`); so is a subscription our Stripe does not know (`unknown_subscription`)
 * or will not show our key (`forbidden`), since a retry cannot help; those are marked and logged
 * once. A failure a retry can cure throws 503 `unavailable` (Stripe retries; see `refetch`).
 */
export async function handleFounderSubscriptionEvent(
  deps: BillingDeps,
  event: Stripe.Event,
): Promise<FounderSubscriptionEventOutcome> {
  if (!isHandledEvent(event.type)) return "ignored";
  if (await isEventProcessed(deps.kv, OWN_STRIPE_SCOPE, event.id)) return "duplicate";
  const acknowledge = async (
    outcome: FounderSubscriptionEventOutcome,
    reason: string,
  ): Promise<FounderSubscriptionEventOutcome> => {
    if (!await markEventProcessed(deps.kv, OWN_STRIPE_SCOPE, event.id, deps.now())) {
      return "duplicate";
    }
    deps.log.log("info", "a Stripe event we cannot use was acknowledged", {
      eventId: event.id,
      type: event.type,
      outcome,
      reason,
    });
    return outcome;
  };

  if (!eventObject(event)) return await acknowledge("ignored", "data.object is not an object");
  const target = await subscriptionTarget(deps, event);
  if (!target) return await acknowledge("ignored", "the event is about no founder we know");
  const current = await currentSnapshot(deps, event, target.subscriptionId, target.fallback);
  if (!current.ok) {
    return await acknowledge(
      current.reason === "missing" ? "unknown_subscription" : "forbidden",
      current.message,
    );
  }
  const snapshot = current.value;
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
      const subscriptionId = idOf(session.subscription);
      if (session.mode !== "subscription" || !subscriptionId) return null;
      const userId = founderId(session.client_reference_id) ??
        founderId(session.metadata?.userId) ??
        await founderOfCustomer(deps.kv, idOf(session.customer) ?? "");
      if (!userId) return null;
      return { userId, subscriptionId, fallback: null };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const subscription = event.data.object;
      const subscriptionId = idOf(subscription.id);
      if (!subscriptionId) return null;
      const userId = founderId(subscription.metadata?.userId) ??
        await founderOfCustomer(deps.kv, idOf(subscription.customer) ?? "");
      if (!userId) return null;
      return { userId, subscriptionId, fallback: subscription };
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const invoice = event.data.object as Stripe.Invoice & { subscription?: unknown };
      const subscriptionId = idOf(invoice.subscription) ??
        idOf(invoice.parent?.subscription_details?.subscription);
      if (!subscriptionId) return null;
      const userId = founderId(invoice.parent?.subscription_details?.metadata?.userId) ??
        await founderOfCustomer(deps.kv, idOf(invoice.customer) ?? "");
      if (!userId) return null;
      return { userId, subscriptionId, fallback: null };
    }
    default:
      return null;
  }
}

/**
 * What Stripe says of the subscription now; when it no longer has it, what a subscription event
 * carried is the last word. Missing (with nothing to fall back on) or forbidden come back as values.
 */
async function currentSnapshot(
  deps: BillingDeps,
  event: Stripe.Event,
  subscriptionId: string,
  fallback: Stripe.Subscription | null,
): Promise<Refetched<SubscriptionSnapshot>> {
  const { stripe } = ownStripe(deps);
  const got = await refetch(() => stripe.subscriptions.retrieve(subscriptionId));
  let subscription: Stripe.Subscription;
  if (got.ok) subscription = got.value;
  else if (got.reason === "missing" && fallback) subscription = fallback;
  else return got;
  return {
    ok: true,
    value: {
      subscriptionId: subscription.id,
      customerId: idOf(subscription.customer),
      status: subscription.status as Exclude<SubscriptionStatus, "none">,
      created: subscription.created,
      eventId: event.id,
      eventCreated: event.created,
    },
  };
}

/** A founder's (Clerk) user id from an event's metadata, when it can be one. */
function founderId(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID ? value : null;
}

/** Longest id taken from an event: Stripe's and Clerk's are far shorter, and ids go into KV keys. */
const MAX_ID = 255;

/** The id of an expandable Stripe field (an id string or an object with `id`). */
function idOf(value: unknown): string | null {
  const id = value && typeof value === "object" ? (value as { id?: unknown }).id : value;
  return typeof id === "string" && id !== "" && id.length <= MAX_ID ? id : null;
}

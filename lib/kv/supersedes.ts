/**
 * The one rule by which a subscription's state replaces the stored one, for founders' subscriptions
 * to dream-api and end-users' subscriptions in their founder's Stripe alike: Stripe delivers events
 * in any order and twice, so every writer asks this before overwriting a record.
 */
import type { SubscriptionStatus } from "../schemas/subscriptions.ts";

/** Terminal statuses: Stripe never revives such a subscription. */
export const ENDED_STATUSES: ReadonlySet<SubscriptionStatus> = new Set([
  "canceled",
  "incomplete_expired",
]);

/** What the rule reads of a stored record. */
export interface HeldSubscription {
  subscriptionId: string | null;
  status: SubscriptionStatus;
  /** The subscription's own `created` (unix s). */
  subscriptionCreated: number | null;
  /** `created` of the event that last changed the record (unix s), when the writer orders by it. */
  eventCreated?: number;
}

/** What the rule reads of the incoming state. */
export interface IncomingSubscription {
  subscriptionId: string;
  status: Exclude<SubscriptionStatus, "none">;
  /** The subscription's own `created` (unix s). */
  created: number;
  /** `created` of the event it comes from (unix s), when the writer orders by it. */
  eventCreated?: number;
}

/**
 * How the incoming state of the record's own subscription is ordered: `fetched` when it was fetched
 * from Stripe after the record was read and is committed only if the record did not change (it is
 * the newest state: it always applies); `event` when two handlers may finish in either order (an
 * ended subscription then never comes back, and an older event never replaces a newer one).
 */
export type SameSubscriptionOrder = "fetched" | "event";

/**
 * Whether `next` replaces `current`. Another subscription of the same subscriber replaces the
 * record unless it would end a live one (a late `deleted` of an old subscription must not cancel
 * the new one); between two live ones, or two ended ones, the newer (by `created`) wins.
 *
 * @example supersedes(record, snapshot, "event") // founders' snapshots, settled by event time
 */
export function supersedes(
  current: HeldSubscription | null,
  next: IncomingSubscription,
  order: SameSubscriptionOrder,
): boolean {
  if (!current || current.subscriptionId === null) return true;
  if (current.subscriptionId === next.subscriptionId) {
    if (order === "fetched") return true;
    if (ENDED_STATUSES.has(current.status) && !ENDED_STATUSES.has(next.status)) return false;
    return (next.eventCreated ?? 0) >= (current.eventCreated ?? 0) ||
      ENDED_STATUSES.has(next.status);
  }
  const currentLive = !ENDED_STATUSES.has(current.status);
  const nextLive = !ENDED_STATUSES.has(next.status);
  if (currentLive !== nextLive) return nextLive;
  return next.created >= (current.subscriptionCreated ?? 0);
}

/**
 * End-users' subscriptions in their platform's (founder's) Stripe account: one `EndUserBilling`
 * record per platform and end-user, with the customer id → (platform, user) index, written together
 * with the marker of the Stripe event that changed them. Written only by `/webhook/stripe`; read by
 * plan resolution (through `EndUserPlanCache`), checkout and the customer portal.
 */
import type { SubscriptionStatus } from "../schemas/subscriptions.ts";
import { ConflictError } from "./errors.ts";
import { keys } from "./keys.ts";
import { markInCommit } from "./stripe_events.ts";
import { supersedes } from "./supersedes.ts";

export type { SubscriptionStatus };

export interface EndUserBilling {
  platformId: string;
  userId: string;
  /** The end-user's customer in the founder's Stripe account, once known. */
  customerId: string | null;
  subscriptionId: string | null;
  /** Stripe's status of that subscription; `none` before any. */
  status: SubscriptionStatus;
  /** The platform tier the subscription pays for (from its price), or `null` when none maps. */
  tier: string | null;
  priceId: string | null;
  /** The subscription's own `created` (unix s): the newer of two live subscriptions wins. */
  subscriptionCreated: number | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  /** The Stripe event that last changed this record. */
  lastEvent: { id: string; type: string; created: number } | null;
  updatedAt: string;
}

/** Who a founder's Stripe customer is: the value of the customer index. */
export interface CustomerOwner {
  platformId: string;
  userId: string;
}

/** Statuses under which the subscription's tier applies; `past_due` too, while Stripe retries. */
export const ENTITLING_STATUSES: ReadonlySet<SubscriptionStatus> = new Set([
  "active",
  "trialing",
  "past_due",
]);

/** What plan resolution needs of a subscription: its tier id and price. */
export interface PaidPlan {
  tier: string;
  priceId: string | null;
}

/** The paid tier a record entitles its end-user to, or `null`. */
export function entitlement(record: EndUserBilling | null): PaidPlan | null {
  if (!record || !record.tier || !ENTITLING_STATUSES.has(record.status)) return null;
  return { tier: record.tier, priceId: record.priceId };
}

/**
 * An end-user's billing record and the versionstamp of their platform's `endUserBillingVersion`,
 * read together (one snapshot): the record is current while that versionstamp holds.
 */
export async function getEndUserBillingVersioned(
  kv: Deno.Kv,
  platformId: string,
  userId: string,
): Promise<{ record: EndUserBilling | null; version: string | null }> {
  const [record, version] = await kv.getMany<[EndUserBilling, Deno.KvU64]>([
    keys.endUserBilling(platformId, userId),
    keys.endUserBillingVersion(platformId),
  ]);
  return { record: record.value, version: version.versionstamp };
}

/** The versionstamp of the platform's `endUserBillingVersion` (`null` before any billing change). */
export async function getEndUserBillingVersion(
  kv: Deno.Kv,
  platformId: string,
): Promise<string | null> {
  return (await kv.get(keys.endUserBillingVersion(platformId))).versionstamp;
}

/** An end-user's billing record, or `null` when Stripe never told us about them. */
export async function getEndUserBilling(
  kv: Deno.Kv,
  platformId: string,
  userId: string,
): Promise<EndUserBilling | null> {
  return (await kv.get<EndUserBilling>(keys.endUserBilling(platformId, userId))).value;
}

/** The platform and end-user a founder's Stripe customer belongs to, or `null`. */
export async function findCustomerOwner(
  kv: Deno.Kv,
  customerId: string,
): Promise<CustomerOwner | null> {
  return (await kv.get<CustomerOwner>(keys.endUserByCustomer(customerId))).value;
}

/** What the founder's Stripe says about one subscription now. */
export interface SubscriptionState {
  subscriptionId: string;
  customerId: string;
  status: Exclude<SubscriptionStatus, "none">;
  tier: string | null;
  priceId: string | null;
  /** unix s */
  created: number;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
}

export interface ApplyInput {
  platformId: string;
  userId: string;
  event: { id: string; type: string; created: number };
  /** A customer the event links to the end-user even when no subscription state is known yet. */
  customerId: string | null;
  /**
   * Fetches the subscription's state from the founder's Stripe, or `null` when there is none to
   * apply. Called after the record is read, on every attempt, so what is committed is never older
   * than what another handler committed before (Stripe's advice: fetch, don't trust event order).
   */
  fetchState: () => Promise<SubscriptionState | null>;
  /**
   * Adds writes to the commit that applies the change (the founders' `subscription.updated`
   * event), so they exist exactly when the change does. Called on every attempt that may commit.
   */
  alsoInCommit?: (
    op: Deno.AtomicOperation,
    before: EndUserBilling | null,
    after: EndUserBilling,
  ) => void;
}

/**
 * Applies an event to an end-user's record and marks it processed, in one atomic commit (record,
 * customer index, event marker, each checked). Outcomes: `applied`; `stale` when the record keeps
 * a newer subscription; `duplicate` when this platform already processed the event; `foreign` when
 * the customer belongs to another platform or end-user; `ignored` when there is nothing to apply
 * (no subscription state and no customer). Only the marker is written unless `applied`.
 */
export async function applyEndUserEvent(
  kv: Deno.Kv,
  input: ApplyInput,
  now: Date,
): Promise<"applied" | "stale" | "duplicate" | "foreign" | "ignored"> {
  const recordKey = keys.endUserBilling(input.platformId, input.userId);
  const eventKey = keys.stripeEvent(input.platformId, input.event.id);
  for (let attempt = 0; attempt < 10; attempt++) {
    const [entry, marker] = await kv.getMany<[EndUserBilling, unknown]>([recordKey, eventKey]);
    if (marker.versionstamp !== null) return "duplicate";
    const state = await input.fetchState();
    const customerId = state?.customerId ?? input.customerId ?? entry.value?.customerId ?? null;
    const index = customerId
      ? await kv.get<CustomerOwner>(keys.endUserByCustomer(customerId))
      : null;
    const op = markInCommit(kv.atomic().check(entry), input.platformId, input.event.id, now);
    let outcome: "applied" | "stale" | "foreign" | "ignored";
    if (!state && !input.customerId) {
      outcome = "ignored";
    } else if (
      index?.value &&
      (index.value.platformId !== input.platformId || index.value.userId !== input.userId)
    ) {
      outcome = "foreign";
    } else if (state && !supersedes(entry.value, state, "fetched")) {
      // `state` was fetched after the record was read, and commits only if the record held.
      outcome = "stale";
    } else {
      outcome = "applied";
      const record = nextRecord(entry.value, input, state, customerId, now);
      op.set(recordKey, record).sum(keys.endUserBillingVersion(input.platformId), 1n);
      input.alsoInCommit?.(op, entry.value, record);
      if (index && customerId) {
        op.check(index).set(
          keys.endUserByCustomer(customerId),
          {
            platformId: input.platformId,
            userId: input.userId,
          } satisfies CustomerOwner,
        );
      }
    }
    if ((await op.commit()).ok) return outcome;
  }
  throw new ConflictError("the end-user's billing record kept changing; try again");
}

function nextRecord(
  current: EndUserBilling | null,
  input: ApplyInput,
  state: SubscriptionState | null,
  customerId: string | null,
  now: Date,
): EndUserBilling {
  const iso = (unix: number | null) => unix === null ? null : new Date(unix * 1000).toISOString();
  const base: EndUserBilling = current ?? {
    platformId: input.platformId,
    userId: input.userId,
    customerId: null,
    subscriptionId: null,
    status: "none",
    tier: null,
    priceId: null,
    subscriptionCreated: null,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    cancelAtPeriodEnd: false,
    lastEvent: null,
    updatedAt: now.toISOString(),
  };
  const subscription: Partial<EndUserBilling> = state
    ? {
      subscriptionId: state.subscriptionId,
      status: state.status,
      tier: state.tier,
      priceId: state.priceId,
      subscriptionCreated: state.created,
      currentPeriodStart: iso(state.currentPeriodStart),
      currentPeriodEnd: iso(state.currentPeriodEnd),
      cancelAtPeriodEnd: state.cancelAtPeriodEnd,
    }
    : {};
  return {
    ...base,
    ...subscription,
    customerId,
    lastEvent: { ...input.event },
    updatedAt: now.toISOString(),
  };
}

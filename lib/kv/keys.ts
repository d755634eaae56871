/**
 * THE Deno KV key schema: every key dream-api reads or writes is built here and nowhere else.
 * Records are written together with their indexes in one atomic operation; indexes hold ids
 * (pointers), never copies of records.
 */
export const keys = {
  /** index → `ApiKeyRecord` (platform id + display metadata) by SHA-256 hex of the secret. */
  apiKeyByHash: (hash: string) => ["apikey", hash] as const,
  /** `PlatformRecord`. */
  platform: (platformId: string) => ["platform", platformId] as const,
  /** `TierConfig` of a platform. */
  tiers: (platformId: string) => ["tiers", platformId] as const,
  /** prefix of every platform, for the admin listing. */
  platforms: () => ["platform"] as const,

  /** an end-user's usage count (`StoredCount`, lib/kv/usage.ts) in one period; period first so a period lists its users. */
  usage: (platformId: string, period: string, userId: string) =>
    ["usage", platformId, period, userId] as const,
  /** prefix: every period's counters of a platform. */
  usageAll: (platformId: string) => ["usage", platformId] as const,
  /** prefix: every end-user counted in one period of a platform. */
  usageInPeriod: (platformId: string, period: string) => ["usage", platformId, period] as const,
  /**
   * an end-user's count of one metered feature (`StoredCount`) in one period: the same guard shard
   * as the end-user's main counter (`usageShard`, by user id), so one commit checks both.
   */
  usageFeature: (platformId: string, feature: string, period: string, userId: string) =>
    ["usage_feature", platformId, feature, period, userId] as const,
  /** prefix: every end-user counted for one feature in one period of a platform. */
  usageFeatureInPeriod: (platformId: string, feature: string, period: string) =>
    ["usage_feature", platformId, feature, period] as const,
  /**
   * Version guard of a group of usage counters. Every writer of a counter in the shard checks and
   * bumps this key, so one check guards many counters (denokv allows only 10 checks per commit).
   * It spans periods: an idempotency record (not per period) stays guarded across a period change.
   */
  usageShard: (platformId: string, shard: number) => ["usage_shard", platformId, shard] as const,
  /**
   * `Notice` (lib/usage/decide.ts): the limits at which an end-user's threshold events were sent for
   * one counter in one period (`feature` "" is the main meter: feature ids are never empty).
   * Guarded by the user's shard like the counter; written only in the commit that queues an event,
   * expiring a week after its period ends.
   */
  usageNotice: (platformId: string, period: string, userId: string, feature: string) =>
    ["usage_notice", platformId, period, userId, feature] as const,
  /** the first answer to an `Idempotency-Key`; written with a 24 h expiry. Guarded by the user's shard. */
  idempotency: (platformId: string, userId: string, key: string) =>
    ["idem", platformId, userId, key] as const,

  // Usage analytics: written by the meter's own commits (lib/analytics/recorder.ts), read by the
  // dashboard. Days are UTC (`2026-11-26`); periods are the usage counters' (`2026-11`, or a day).
  /** prefix: every day of a platform's daily sums (retention lists the oldest from here). */
  usageDailyAll: (platformId: string) => ["usage_daily", platformId] as const,
  /** prefix: a platform's daily sums on one UTC day (list a month with start/end days). */
  usageDaily: (platformId: string, day: string) => ["usage_daily", platformId, day] as const,
  /** `Deno.KvU64` sum of "units" (granted), "allowed" (granted calls) or "refused" (429) calls. */
  usageDailyMetric: (platformId: string, day: string, metric: "units" | "allowed" | "refused") =>
    ["usage_daily", platformId, day, metric] as const,
  /** prefix: every day of a platform's HyperLogLog registers. */
  usageHllAll: (platformId: string) => ["usage_hll", platformId] as const,
  /** prefix: the HyperLogLog registers of a platform's UTC day (distinct active end-users). */
  usageHll: (platformId: string, day: string) => ["usage_hll", platformId, day] as const,
  /** `Deno.KvU64` register of that day's HyperLogLog, raised with `max`. */
  usageHllRegister: (platformId: string, day: string, register: number) =>
    ["usage_hll", platformId, day, register] as const,
  /** `Deno.KvU64`: end-users whose counter in `period` went 0 → n (exact distinct end-users). */
  usageActive: (platformId: string, period: string) =>
    ["usage_active", platformId, period] as const,
  /** the tier id an end-user's counter in `period` was last counted under (beside `usage`). */
  usagePlan: (platformId: string, period: string, userId: string) =>
    ["usage_plan", platformId, period, userId] as const,
  /** prefix: every end-user's tier in one period of a platform (ordered like `usageInPeriod`). */
  usagePlansInPeriod: (platformId: string, period: string) =>
    ["usage_plan", platformId, period] as const,

  /** `FounderSubscription`: a founder's (Clerk user id) own subscription to dream-api. */
  founderSubscription: (userId: string) => ["founder_sub", userId] as const,
  /** index → founder user id, by dream-api's Stripe customer id (subscription events name the customer). */
  founderByCustomer: (customerId: string) => ["founder_by_customer", customerId] as const,
  /** index → platform id, by owner (founder user id). One platform per founder: checked `null` on create. */
  platformByOwner: (userId: string) => ["platform_by_owner", userId] as const,
  /** `StripeConnection` of a platform: encrypted key, account, webhook endpoint, product/price ids. */
  platformStripe: (platformId: string) => ["platform_stripe", platformId] as const,
  /** prefix of every platform's `StripeConnection` (the webhook's last-resort account lookup). */
  platformStripeAll: () => ["platform_stripe"] as const,
  /**
   * marker (`ProcessedEvent`, lib/kv/stripe_events.ts) of a processed Stripe event; `scope` is
   * `OWN_STRIPE_SCOPE` for dream-api's own account or a platform id. Written with the event's
   * effects, expiring after 30 days.
   */
  stripeEvent: (scope: string, eventId: string) => ["stripe_event", scope, eventId] as const,

  /** `EndUserBilling`: an end-user's subscription in their platform's (founder's) Stripe account. */
  endUserBilling: (platformId: string, userId: string) =>
    ["end_user_billing", platformId, userId] as const,
  /**
   * counter (KvU64) `sum`med in the commit of every change to one of the platform's `EndUserBilling`
   * records: while its versionstamp holds, no end-user's plan of the platform changed.
   */
  endUserBillingVersion: (platformId: string) => ["end_user_billing_version", platformId] as const,
  /**
   * index → `{ platformId, userId }`, by the founder's Stripe customer id. Global, because the one
   * webhook URL must find the platform of an event before it can verify it; written with the record.
   */
  endUserByCustomer: (customerId: string) => ["end_user_by_customer", customerId] as const,
  /**
   * `OutboxRecord` (lib/kv/outbox.ts): a founders' webhook event waiting for delivery, written in
   * the same commit as what caused it (a count crossing a threshold, a plan change).
   */
  outbox: (eventId: string) => ["outbox", eventId] as const,
  /** index → event id, by the time (ms) its next attempt is due; moved on every claim and retry. */
  outboxDue: (dueAt: number, eventId: string) => ["outbox_due", dueAt, eventId] as const,
  /** prefix of `outboxDue`: list with `end` = `outboxDue(now, "")` for what is due now. */
  outboxDueAll: () => ["outbox_due"] as const,
  /** The time of the last write probe (`/health`, start-up): proof that KV can write. */
  health: () => ["health"] as const,
} as const;

export type KvKey = ReturnType<(typeof keys)[keyof typeof keys]>;

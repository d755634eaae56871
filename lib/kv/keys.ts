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

  // The same analytics for each metered feature (written by the commits that count the feature).
  // Feature before day, so one feature's month is one range; tiers recorded per end-user are the
  // main meter's (`usagePlan`): an end-user's tier in a period is one fact, whatever they counted.
  /** prefix: a platform's daily sums of every feature (retention skips through it by feature). */
  usageFeatureDailyAll: (platformId: string) => ["usage_feature_daily", platformId] as const,
  /** prefix: one feature's daily sums on one UTC day (list a month with start/end days). */
  usageFeatureDaily: (platformId: string, feature: string, day: string) =>
    ["usage_feature_daily", platformId, feature, day] as const,
  /** `Deno.KvU64` sum of a feature's "units", "allowed" or "refused" calls on a UTC day. */
  usageFeatureDailyMetric: (
    platformId: string,
    feature: string,
    day: string,
    metric: "units" | "allowed" | "refused",
  ) => ["usage_feature_daily", platformId, feature, day, metric] as const,
  /** prefix: a platform's daily HyperLogLog registers of every feature. */
  usageFeatureHllAll: (platformId: string) => ["usage_feature_hll", platformId] as const,
  /** prefix: the HyperLogLog registers of one feature on one UTC day. */
  usageFeatureHll: (platformId: string, feature: string, day: string) =>
    ["usage_feature_hll", platformId, feature, day] as const,
  /** `Deno.KvU64` register of a feature's daily HyperLogLog, raised with `max`. */
  usageFeatureHllRegister: (platformId: string, feature: string, day: string, register: number) =>
    ["usage_feature_hll", platformId, feature, day, register] as const,
  /** `Deno.KvU64`: end-users whose counter of `feature` in `period` went 0 → n. */
  usageFeatureActive: (platformId: string, feature: string, period: string) =>
    ["usage_feature_active", platformId, feature, period] as const,

  /** `FounderSubscription`: a founder's (Clerk user id) own subscription to dream-api. */
  founderSubscription: (userId: string) => ["founder_sub", userId] as const,
  /** index → founder user id, by dream-api's Stripe customer id (subscription events name the customer). */
  founderByCustomer: (customerId: string) => ["founder_by_customer", customerId] as const,
  /** index → platform id, by owner (founder user id). One platform per founder: checked `null` on create. */
  platformByOwner: (userId: string) => ["platform_by_owner", userId] as const,
  /** `StripeConnection` of a platform: encrypted key, account, webhook endpoint, product/price ids. */
  platformStripe: (platformId: string) => ["platform_stripe", platformId] as const,
  /**
   * index → platform id, by the Stripe account (`acct_…`) a platform connected through Connect:
   * events at the Connect endpoint name only the account. Unique: a second platform connecting
   * the same account is refused (checked `null` in the commit that stores the connection).
   */
  platformByStripeAccount: (accountId: string) =>
    ["platform_by_stripe_account", accountId] as const,
  /**
   * `ConnectState` (lib/kv/connect_states.ts): one Connect OAuth attempt, by its random `state`;
   * written with a 10-minute expiry, deleted by the callback that uses it (single use).
   */
  connectState: (state: string) => ["connect_state", state] as const,
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
  /** prefix of every `outbox` record. */
  outboxAll: () => ["outbox"] as const,
  /** index → event id, by the time (ms) its next attempt is due; moved on every claim and retry. */
  outboxDue: (dueAt: number, eventId: string) => ["outbox_due", dueAt, eventId] as const,
  /** prefix of `outboxDue`: list with `end` = `outboxDue(now, "")` for what is due now. */
  outboxDueAll: () => ["outbox_due"] as const,
  /**
   * `WebhookEndpoint` (lib/kv/webhooks.ts): a platform's one founders' webhook endpoint (URL, event
   * types, sealed signing secret).
   */
  webhookEndpoint: (platformId: string) => ["webhook_endpoint", platformId] as const,
  /**
   * `DeliveryLogEntry`: one delivery attempt of a platform's webhook events, by attempt time (ms);
   * capped to the newest 100 per platform (`trimDeliveryLog`).
   */
  webhookDelivery: (platformId: string, at: number, eventId: string, attempt: number) =>
    ["webhook_delivery", platformId, at, eventId, attempt] as const,
  /** prefix: a platform's delivery log (list in reverse for the newest first). */
  webhookDeliveries: (platformId: string) => ["webhook_delivery", platformId] as const,
  /** The time of the last write probe (`/health`, start-up): proof that KV can write. */
  health: () => ["health"] as const,
} as const;

export type KvKey = ReturnType<(typeof keys)[keyof typeof keys]>;

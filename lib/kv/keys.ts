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

  /** an end-user's usage count (number) in one period; period first so a period lists its users. */
  usage: (platformId: string, period: string, userId: string) =>
    ["usage", platformId, period, userId] as const,
  /** prefix: every end-user counted in one period of a platform. */
  usageInPeriod: (platformId: string, period: string) => ["usage", platformId, period] as const,
  /**
   * Version guard of a group of usage counters. Every writer of a counter in the shard checks and
   * bumps this key, so one check guards many counters (denokv allows only 10 checks per commit).
   */
  usageShard: (platformId: string, period: string, shard: number) =>
    ["usage_shard", platformId, period, shard] as const,
  /** the first answer to an `Idempotency-Key`; written with a 24 h expiry. Guarded by the user's shard. */
  idempotency: (platformId: string, userId: string, key: string) =>
    ["idem", platformId, userId, key] as const,
} as const;

export type KvKey = ReturnType<(typeof keys)[keyof typeof keys]>;

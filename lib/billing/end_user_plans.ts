/**
 * The hot path's view of end-users' subscriptions: (platform, end-user) → the paid tier their
 * subscription entitles them to, held in memory with the tenant cache's rules (short TTL, bounded
 * size). The webhook calls `forget()` after each change, so a change processed by this process takes
 * effect at once; a change processed by another process takes effect here within the TTL.
 */
import { BoundedCache } from "../bounded_cache.ts";
import { entitlement, getEndUserBilling } from "../kv/end_users.ts";
import { retryTransient } from "../kv/retry.ts";

/** What plan resolution needs of a subscription: its tier id and price. */
export interface PaidPlan {
  tier: string;
  priceId: string | null;
}

interface Entry {
  plan: PaidPlan | null;
  fetchedAt: number;
}

export class EndUserPlanCache {
  readonly #kv: Deno.Kv;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries: BoundedCache<string, Entry>;
  readonly #inFlight = new Map<string, Promise<PaidPlan | null>>();
  // Bumped by forget(): a load that started before a forget() must not store what it read.
  #generation = 0;

  constructor(
    kv: Deno.Kv,
    options: { ttlMs: number; maxEntries?: number; now?: () => number },
  ) {
    this.#kv = kv;
    this.#ttlMs = options.ttlMs;
    this.#entries = new BoundedCache(options.maxEntries ?? 100_000);
    this.#now = options.now ?? Date.now;
  }

  /** The paid tier of the end-user's active/trialing/past_due subscription, or `null`. */
  async get(platformId: string, userId: string): Promise<PaidPlan | null> {
    const id = cacheKey(platformId, userId);
    const now = this.#now();
    const entry = this.#entries.get(id);
    if (entry && now - entry.fetchedAt < this.#ttlMs) return entry.plan;
    let loading = this.#inFlight.get(id);
    if (!loading) {
      const generation = this.#generation;
      loading = retryTransient(() => getEndUserBilling(this.#kv, platformId, userId))
        .then((record) => {
          const plan = entitlement(record);
          if (generation === this.#generation && this.#ttlMs > 0) {
            this.#entries.set(id, { plan, fetchedAt: now });
          }
          return plan;
        })
        .finally(() => {
          if (this.#inFlight.get(id) === loading) this.#inFlight.delete(id);
        });
      this.#inFlight.set(id, loading);
    }
    return await loading;
  }

  /** Drops the cached plan of one end-user (after a webhook changed their record). */
  forget(platformId: string, userId: string): void {
    const id = cacheKey(platformId, userId);
    this.#generation++;
    this.#entries.delete(id);
    this.#inFlight.delete(id);
  }
}

function cacheKey(platformId: string, userId: string): string {
  // Platform ids never contain NUL, so the pair is unambiguous.
  return `${platformId}\u0000${userId}`;
}

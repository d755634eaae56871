/**
 * The hot path's view of end-users' subscriptions: (platform, end-user) → the paid tier their
 * subscription entitles them to, held in memory with a bounded size.
 *
 * An entry is used for `ttlMs` after its read, like the tenant cache. After that it is still used
 * while its platform's billing version (`keys.endUserBillingVersion`, bumped in the commit of every
 * record change) is the one it was read under, and that version is re-read at most once per
 * `ttlMs` per platform. A platform whose subscriptions did not change thus costs one KV read per
 * TTL instead of one per end-user per TTL, and a change processed by another process still takes
 * effect here within the TTL. The webhook calls `forget()` after each change, so a change processed
 * by this process takes effect at once.
 */
import { BoundedCache } from "../bounded_cache.ts";
import {
  entitlement,
  getEndUserBillingVersion,
  getEndUserBillingVersioned,
  type PaidPlan,
} from "../kv/end_users.ts";
import { retryTransient } from "../kv/retry.ts";

interface Entry {
  plan: PaidPlan | null;
  fetchedAt: number;
  /** the platform's billing version this was read under */
  version: string | null;
}

interface PlatformVersion {
  version: string | null;
  checkedAt: number;
}

export class EndUserPlanCache {
  readonly #kv: Deno.Kv;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries: BoundedCache<string, Entry>;
  readonly #inFlight = new Map<string, Promise<PaidPlan | null>>();
  readonly #versions = new BoundedCache<string, PlatformVersion>(10_000);
  readonly #versionsInFlight = new Map<string, Promise<string | null>>();
  // Bumped by forget(): a load that started before a forget() must not store what it read.
  #generation = 0;
  readonly #onForget?: (platformId: string, userId: string) => Promise<void>;

  /**
   * `onForget` is told every `forget` and resolves once it is passed on (host.ts's isolates tell
   * their siblings).
   */
  constructor(
    kv: Deno.Kv,
    options: {
      ttlMs: number;
      maxEntries?: number;
      now?: () => number;
      onForget?: (platformId: string, userId: string) => Promise<void>;
    },
  ) {
    this.#kv = kv;
    this.#onForget = options.onForget;
    this.#ttlMs = options.ttlMs;
    this.#entries = new BoundedCache(options.maxEntries ?? 100_000);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The paid tier of the end-user's active/trialing/past_due subscription, or `null`; synchronous
   * when cached (the hot path then awaits nothing).
   */
  get(platformId: string, userId: string): PaidPlan | null | Promise<PaidPlan | null> {
    const id = cacheKey(platformId, userId);
    const now = this.#now();
    const entry = this.#entries.get(id);
    if (entry) {
      if (now - entry.fetchedAt < this.#ttlMs) return entry.plan;
      const known = this.#versions.get(platformId);
      if (known && now - known.checkedAt < this.#ttlMs) {
        if (known.version === entry.version) return entry.plan;
      } else {
        return this.#platformVersion(platformId, now).then((version) =>
          version === entry.version ? entry.plan : this.#load(platformId, userId, id, now)
        );
      }
    }
    return this.#load(platformId, userId, id, now);
  }

  #load(platformId: string, userId: string, id: string, now: number): Promise<PaidPlan | null> {
    let loading = this.#inFlight.get(id);
    if (!loading) {
      const generation = this.#generation;
      loading = retryTransient(() => getEndUserBillingVersioned(this.#kv, platformId, userId))
        .then(({ record, version }) => {
          const plan = entitlement(record);
          if (this.#ttlMs > 0) {
            // A fresh read of the platform's version too: it serves the platform's other entries.
            this.#versions.set(platformId, { version, checkedAt: now });
            if (generation === this.#generation) {
              this.#entries.set(id, { plan, fetchedAt: now, version });
            }
          }
          return plan;
        })
        .finally(() => {
          if (this.#inFlight.get(id) === loading) this.#inFlight.delete(id);
        });
      this.#inFlight.set(id, loading);
    }
    return loading;
  }

  /**
   * Drops the cached plan of one end-user (after a webhook changed their record); resolves once
   * `onForget` has passed it on.
   */
  forget(platformId: string, userId: string): Promise<void> {
    const id = cacheKey(platformId, userId);
    this.#generation++;
    this.#entries.delete(id);
    this.#inFlight.delete(id);
    return this.#onForget?.(platformId, userId) ?? Promise.resolve();
  }

  /** Reads the platform's billing version (one read in flight per platform at most). */
  #platformVersion(platformId: string, now: number): Promise<string | null> {
    let loading = this.#versionsInFlight.get(platformId);
    if (!loading) {
      loading = retryTransient(() => getEndUserBillingVersion(this.#kv, platformId))
        .then((version) => {
          this.#versions.set(platformId, { version, checkedAt: now });
          return version;
        })
        .finally(() => this.#versionsInFlight.delete(platformId));
      this.#versionsInFlight.set(platformId, loading);
    }
    return loading;
  }
}

function cacheKey(platformId: string, userId: string): string {
  // Platform ids never contain NUL, so the pair is unambiguous.
  return `${platformId}\u0000${userId}`;
}

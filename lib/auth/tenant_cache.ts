/**
 * API-key hash → platform and tier config, held in memory with a short TTL and a size bound.
 * Changes made through this process call `forget()` and take effect at once; changes made by
 * another process take effect here within the TTL. Entries are keyed by hash, never by key.
 */
import { BoundedCache } from "../bounded_cache.ts";
import { findApiKey } from "../kv/platforms.ts";
import type { ApiKeyRecord } from "../kv/platforms.ts";
import { retryTransient } from "../kv/retry.ts";
import { getTiers } from "../kv/tiers.ts";
import type { Tier } from "../schemas/tiers.ts";

export interface Tenant {
  platformId: string;
  key: ApiKeyRecord;
  tiers: Tier[];
}

interface Entry {
  tenant: Tenant | null;
  fetchedAt: number;
}

export class TenantCache {
  readonly #kv: Deno.Kv;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries: BoundedCache<string, Entry>;
  readonly #inFlight = new Map<string, Promise<Tenant | null>>();
  readonly #onForget?: (platformId: string) => Promise<void>;

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
      onForget?: (platformId: string) => Promise<void>;
    },
  ) {
    this.#kv = kv;
    this.#onForget = options.onForget;
    this.#ttlMs = options.ttlMs;
    this.#entries = new BoundedCache(options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The tenant behind a key hash, or `null` for an unknown, revoked or expired key; synchronous
   * when cached (the hot path then awaits nothing).
   */
  resolve(hash: string): Tenant | null | Promise<Tenant | null> {
    const now = this.#now();
    const entry = this.#entries.get(hash);
    if (entry && now - entry.fetchedAt < this.#ttlMs) return this.#valid(entry.tenant, now);
    let loading = this.#inFlight.get(hash);
    if (!loading) {
      loading = retryTransient(() => this.#load(hash)).finally(() => this.#inFlight.delete(hash));
      this.#inFlight.set(hash, loading);
    }
    return loading.then((tenant) => {
      // Unknown keys are not cached: a key created by another process must work at once.
      if (tenant) this.#entries.set(hash, { tenant, fetchedAt: now });
      return this.#valid(tenant, now);
    });
  }

  #valid(tenant: Tenant | null, now: number): Tenant | null {
    if (!tenant) return null;
    if (tenant.key.expiresAt !== null && Date.parse(tenant.key.expiresAt) <= now) return null;
    return tenant;
  }

  /**
   * Drops every cached entry of a platform (after a rotation or a tier change); resolves once
   * `onForget` has passed it on.
   */
  forget(platformId: string): Promise<void> {
    this.#entries.deleteWhere((entry) => entry.tenant?.platformId === platformId);
    return this.#onForget?.(platformId) ?? Promise.resolve();
  }

  async #load(hash: string): Promise<Tenant | null> {
    const key = await findApiKey(this.#kv, hash);
    if (!key) return null;
    const config = await getTiers(this.#kv, key.platformId);
    if (!config) return null;
    return { platformId: key.platformId, key, tiers: config.tiers };
  }
}

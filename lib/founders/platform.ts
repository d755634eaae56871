/**
 * A founder's platform: created once (one per founder), its API key rotated with grace, its tiers
 * replaced. Every change that the tenant API caches is followed by `tenants.forget`.
 */
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { ConflictError, NotFoundError } from "../kv/errors.ts";
import { createPlatform, rotateApiKey } from "../kv/platforms.ts";
import { keys } from "../kv/keys.ts";
import { getTiers } from "../kv/tiers.ts";
import type { Tier, TierConfig } from "../schemas/tiers.ts";
import type { ApiKeyResponse, PlatformCreatedResponse } from "../schemas/responses.ts";
import { platformIdOf } from "./me.ts";

type PlatformDeps = Pick<Deps, "kv" | "tenants" | "now">;

/**
 * Creates the founder's platform with the default tiers. Answers 409 `conflict` when they already
 * have one (the owner index is claimed atomically with the record, so two racing calls make one).
 */
export async function createFounderPlatform(
  deps: PlatformDeps,
  userId: string,
  name: string,
): Promise<PlatformCreatedResponse> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await platformIdOf(deps.kv, userId)) {
      throw new ApiError("conflict", "You already have a platform; rotate its key instead.");
    }
    try {
      const { platform, apiKey } = await createPlatform(deps.kv, {
        name,
        ownerId: userId,
        now: deps.now(),
      });
      return { platformId: platform.id, apiKey };
    } catch (error) {
      // Lost to a concurrent create (owner index taken) or an id collision: look again.
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  throw new ApiError("unavailable", "Could not create the platform; please retry.");
}

/** The founder's platform id, or 404 `not_found` when they have not created one. */
export async function requirePlatformId(kv: Deno.Kv, userId: string): Promise<string> {
  const platformId = await platformIdOf(kv, userId);
  if (!platformId) {
    throw new ApiError(
      "not_found",
      "You have no platform yet: POST /dashboard/api/platform first.",
    );
  }
  return platformId;
}

/**
 * Issues a new API key; the previous one keeps working for `graceSeconds` (0: stops at once).
 * The tenant cache forgets the platform so the old key's new expiry applies in this process now.
 */
export async function rotateFounderKey(
  deps: PlatformDeps,
  userId: string,
  graceSeconds: number,
): Promise<ApiKeyResponse> {
  const platformId = await requirePlatformId(deps.kv, userId);
  try {
    const { apiKey } = await rotateApiKey(deps.kv, platformId, { graceSeconds, now: deps.now() });
    return { apiKey };
  } catch (error) {
    if (error instanceof NotFoundError) throw new ApiError("not_found", "Your platform is gone.");
    throw error;
  } finally {
    await deps.tenants.forget(platformId);
  }
}

/**
 * Carries each tier's `stripePriceId` over from the stored tiers when the tier keeps its id and
 * price, so saving in the editor never undoes a sync; a changed price drops it (the next sync
 * makes a new Stripe price). A `stripePriceId` sent by the client is ignored: only sync sets it.
 */
export function keepSyncedPrices(stored: readonly Tier[], incoming: readonly Tier[]): Tier[] {
  const byId = new Map(stored.map((t) => [t.id, t]));
  return incoming.map((tier) => {
    const { stripePriceId: _ignored, ...rest } = tier;
    const before = byId.get(tier.id);
    return before?.stripePriceId && before.price === tier.price
      ? { ...rest, stripePriceId: before.stripePriceId }
      : rest;
  });
}

/**
 * Replaces the founder's tiers (already validated with `TiersSchema`), keeping synced Stripe price
 * ids, in one compare-and-set against the stored tiers; the tenant cache forgets the platform.
 */
export async function saveFounderTiers(
  deps: PlatformDeps,
  userId: string,
  tiers: Tier[],
): Promise<TierConfig> {
  const platformId = await requirePlatformId(deps.kv, userId);
  return await saveTiersChecked(deps, platformId, tiers);
}

async function saveTiersChecked(
  deps: PlatformDeps,
  platformId: string,
  tiers: Tier[],
): Promise<TierConfig> {
  const key = keys.tiers(platformId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const [entry, platform] = await deps.kv.getMany([key, keys.platform(platformId)]);
    if (platform.versionstamp === null) throw new ApiError("not_found", "Your platform is gone.");
    const stored = (entry.value as TierConfig | null)?.tiers ?? [];
    const config: TierConfig = {
      tiers: keepSyncedPrices(stored, tiers),
      updatedAt: deps.now().toISOString(),
    };
    const result = await deps.kv.atomic().check(entry).check(platform).set(key, config).commit();
    if (result.ok) {
      await deps.tenants.forget(platformId);
      return config;
    }
  }
  throw new ApiError("unavailable", "Your tiers changed while saving; please retry.");
}

/** The platform's stored tiers (empty when none). */
export async function tiersOf(kv: Deno.Kv, platformId: string): Promise<Tier[]> {
  return (await getTiers(kv, platformId))?.tiers ?? [];
}

/** A platform's tier config. */
import { type Tier, type TierConfig, TiersSchema } from "../schemas/tiers.ts";
import { keys } from "./keys.ts";
import { ConflictError, NotFoundError } from "./errors.ts";

/** The platform's tiers, or `null` when the platform has none stored. */
export async function getTiers(kv: Deno.Kv, platformId: string): Promise<TierConfig | null> {
  return (await kv.get<TierConfig>(keys.tiers(platformId))).value;
}

/**
 * Validates and stores a platform's tiers (the platform must exist).
 * Throws the zod error when the tiers are invalid.
 */
export async function setTiers(
  kv: Deno.Kv,
  platformId: string,
  tiers: unknown,
  now = new Date(),
): Promise<TierConfig> {
  const parsed: Tier[] = TiersSchema.parse(tiers);
  const config: TierConfig = { tiers: parsed, updatedAt: now.toISOString() };
  for (let attempt = 0; attempt < 10; attempt++) {
    const platform = await kv.get(keys.platform(platformId));
    if (platform.versionstamp === null) throw new NotFoundError(`no platform '${platformId}'`);
    // Checked against the platform so tiers are never written for a platform being deleted.
    const result = await kv.atomic().check(platform).set(keys.tiers(platformId), config).commit();
    if (result.ok) return config;
  }
  throw new ConflictError("the platform changed while saving tiers; try again");
}

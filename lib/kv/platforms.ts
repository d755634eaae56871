/** Platforms and their API keys: created, looked up and rotated atomically with their indexes. */
import { generateApiKey, hashApiKey, type KeyMode, keyPrefix } from "../api_keys.ts";
import { randomId } from "../encoding.ts";
import { DEFAULT_TIERS, type Tier, type TierConfig } from "../schemas/tiers.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { keys } from "./keys.ts";

export interface PlatformRecord {
  id: string;
  name: string;
  /** The founder (Clerk user id) who owns it; `null` for platforms made by the admin command. */
  ownerId: string | null;
  createdAt: string;
  /** Hash of the current key (the index `["apikey", hash]` points back here). */
  keyHash: string;
  keyPrefix: string;
  keyMode: KeyMode;
}

export interface ApiKeyRecord {
  platformId: string;
  prefix: string;
  mode: KeyMode;
  createdAt: string;
  /** When a rotated-away key stops working; `null` while it is the current key. */
  expiresAt: string | null;
}

/**
 * Creates a platform with its first key and the default tiers, in one atomic commit.
 * Returns the plaintext key: the only time it exists outside the caller's hands.
 */
export async function createPlatform(
  kv: Deno.Kv,
  input: { name: string; ownerId?: string | null; mode?: KeyMode; tiers?: Tier[]; now?: Date },
): Promise<{ platform: PlatformRecord; apiKey: string }> {
  const now = (input.now ?? new Date()).toISOString();
  const mode = input.mode ?? "live";
  const apiKey = generateApiKey(mode);
  const keyHash = hashApiKey(apiKey);
  const platform: PlatformRecord = {
    id: randomId("plt"),
    name: input.name,
    ownerId: input.ownerId ?? null,
    createdAt: now,
    keyHash,
    keyPrefix: keyPrefix(apiKey),
    keyMode: mode,
  };
  const keyRecord: ApiKeyRecord = {
    platformId: platform.id,
    prefix: platform.keyPrefix,
    mode,
    createdAt: now,
    expiresAt: null,
  };
  const tiers: TierConfig = { tiers: input.tiers ?? DEFAULT_TIERS, updatedAt: now };
  const op = kv.atomic()
    .check({ key: keys.platform(platform.id), versionstamp: null })
    .check({ key: keys.apiKeyByHash(keyHash), versionstamp: null })
    .set(keys.platform(platform.id), platform)
    .set(keys.tiers(platform.id), tiers)
    .set(keys.apiKeyByHash(keyHash), keyRecord);
  if (platform.ownerId !== null) {
    // One platform per founder: the owner index is claimed in the same commit as the record.
    op.check({ key: keys.platformByOwner(platform.ownerId), versionstamp: null })
      .set(keys.platformByOwner(platform.ownerId), platform.id);
  }
  const result = await op.commit();
  if (!result.ok) throw new ConflictError("platform id, key or owner collision; try again");
  return { platform, apiKey };
}

/** A platform by id, or `null`. */
export async function getPlatform(kv: Deno.Kv, platformId: string): Promise<PlatformRecord | null> {
  return (await kv.get<PlatformRecord>(keys.platform(platformId))).value;
}

/** Every platform (admin listing). */
export async function listPlatforms(kv: Deno.Kv): Promise<PlatformRecord[]> {
  const out: PlatformRecord[] = [];
  for await (const entry of kv.list<PlatformRecord>({ prefix: keys.platforms() })) {
    out.push(entry.value);
  }
  return out;
}

/** The key record behind a hash, or `null` when unknown. Expiry is the caller's to judge. */
export async function findApiKey(kv: Deno.Kv, hash: string): Promise<ApiKeyRecord | null> {
  return (await kv.get<ApiKeyRecord>(keys.apiKeyByHash(hash))).value;
}

/**
 * Issues a new key for a platform. The previous key keeps working for `graceSeconds`
 * (0: it stops at once). Returns the new plaintext key.
 */
export async function rotateApiKey(
  kv: Deno.Kv,
  platformId: string,
  options: { graceSeconds?: number; now?: Date } = {},
): Promise<{ platform: PlatformRecord; apiKey: string; previousKeyHash: string }> {
  const now = options.now ?? new Date();
  const grace = options.graceSeconds ?? 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<PlatformRecord>(keys.platform(platformId));
    if (!entry.value) throw new NotFoundError(`no platform '${platformId}'`);
    const old = entry.value;
    const apiKey = generateApiKey(old.keyMode);
    const keyHash = hashApiKey(apiKey);
    const platform: PlatformRecord = { ...old, keyHash, keyPrefix: keyPrefix(apiKey) };
    const op = kv.atomic()
      .check(entry)
      .check({ key: keys.apiKeyByHash(keyHash), versionstamp: null })
      .set(keys.platform(platformId), platform)
      .set(
        keys.apiKeyByHash(keyHash),
        {
          platformId,
          prefix: platform.keyPrefix,
          mode: old.keyMode,
          createdAt: now.toISOString(),
          expiresAt: null,
        } satisfies ApiKeyRecord,
      );
    const oldEntry = await kv.get<ApiKeyRecord>(keys.apiKeyByHash(old.keyHash));
    if (grace === 0 || !oldEntry.value) {
      op.delete(keys.apiKeyByHash(old.keyHash));
    } else {
      const expiresAt = new Date(now.getTime() + grace * 1000).toISOString();
      // KV expiry is lazy, so `expiresAt` is what decides; expireIn only cleans up.
      op.set(keys.apiKeyByHash(old.keyHash), { ...oldEntry.value, expiresAt }, {
        expireIn: grace * 1000 + 60_000,
      });
    }
    if ((await op.commit()).ok) return { platform, apiKey, previousKeyHash: old.keyHash };
  }
  throw new ConflictError("the platform changed during rotation; try again");
}

/** The tenant cache: key hash → platform and tiers, with a TTL, `forget()` and a size bound. */
import assert from "node:assert/strict";
import { hashApiKey } from "../../lib/api_keys.ts";
import { TenantCache } from "../../lib/auth/tenant_cache.ts";
import { createPlatform, rotateApiKey } from "../../lib/kv/platforms.ts";

async function world() {
  const kv = await Deno.openKv(":memory:");
  let now = 1_000_000;
  const cache = new TenantCache(kv, { ttlMs: 5_000, maxEntries: 4, now: () => now });
  return {
    kv,
    cache,
    tick: (ms: number) => void (now += ms),
    [Symbol.dispose]: () => kv.close(),
  };
}

Deno.test("a cached tenant is answered within the TTL without KV, forgotten by forget() and after the TTL", async () => {
  using w = await world();
  const { platform, apiKey } = await createPlatform(w.kv, { name: "Acme" });
  const hash = hashApiKey(apiKey);
  assert.equal((await w.cache.resolve(hash))?.platformId, platform.id);
  await rotateApiKey(w.kv, platform.id); // the old key stops at once in KV
  const cached = w.cache.resolve(hash);
  assert.ok(!(cached instanceof Promise), "a hit is synchronous");
  assert.equal(cached?.platformId, platform.id, "within the TTL the cache answers");
  w.tick(5_000);
  assert.equal(await w.cache.resolve(hash), null, "after the TTL KV decides");

  const { platform: other, apiKey: otherKey } = await createPlatform(w.kv, { name: "Other" });
  const otherHash = hashApiKey(otherKey);
  assert.equal((await w.cache.resolve(otherHash))?.platformId, other.id);
  await rotateApiKey(w.kv, other.id);
  await w.cache.forget(other.id);
  assert.equal(await w.cache.resolve(otherHash), null, "forget() drops the platform's entries");
});

Deno.test("unknown keys are not cached, and the cache holds at most maxEntries tenants", async () => {
  using w = await world();
  assert.equal(await w.cache.resolve("0".repeat(64)), null);
  const made = [];
  for (let i = 0; i < 6; i++) made.push(await createPlatform(w.kv, { name: `P${i}` }));
  for (const m of made) {
    assert.equal((await w.cache.resolve(hashApiKey(m.apiKey)))?.platformId, m.platform.id);
  }
  // The first ones were evicted: after their keys are gone from KV they resolve to null at once.
  for (const m of made) await rotateApiKey(w.kv, m.platform.id);
  const answers = await Promise.all(made.map((m) => w.cache.resolve(hashApiKey(m.apiKey))));
  assert.ok(answers.filter((a) => a !== null).length <= 4, JSON.stringify(answers.map(Boolean)));
  assert.equal(answers[0], null, "the oldest entry was evicted");
});

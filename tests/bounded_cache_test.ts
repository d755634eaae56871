import assert from "node:assert/strict";
import { BoundedCache } from "../lib/bounded_cache.ts";

Deno.test("BoundedCache holds at most its capacity and keeps what is used", () => {
  const cache = new BoundedCache<string, number>(1000);
  for (let i = 0; i < 1_000_000; i++) {
    cache.set(`k${i}`, i);
    assert.equal(cache.get("hot"), i === 0 ? undefined : 1, `at ${i}`);
    if (i === 0) cache.set("hot", 1);
    assert.ok(cache.size <= 1000, `${cache.size} entries at ${i}`);
  }
  assert.equal(cache.get("k999999"), 999_999);
  assert.equal(cache.get("k0"), undefined);
  cache.delete("hot");
  assert.equal(cache.get("hot"), undefined);
});

Deno.test("BoundedCache.deleteWhere drops the matching entries of both generations and keeps the rest", () => {
  const cache = new BoundedCache<string, { platform: string }>(4);
  cache.set("a", { platform: "p1" }); // moves to the previous generation when "b" fills half
  cache.set("b", { platform: "p2" });
  cache.set("c", { platform: "p1" });
  cache.deleteWhere((v) => v.platform === "p1");
  assert.equal(cache.get("a"), undefined);
  assert.equal(cache.get("c"), undefined);
  assert.deepEqual(cache.get("b"), { platform: "p2" });
});

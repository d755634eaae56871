/** The rules that keep a batch within one Deno KV call's limits. */
import assert from "node:assert/strict";
import {
  COMMIT_BUDGET,
  fitCommit,
  groupByGuard,
  keyBytes,
  KV_LIMITS,
  packChecks,
  packReads,
  readUnits,
} from "../../lib/kv/packing.ts";

Deno.test("packChecks: shard groups go 10 to a commit, in order", () => {
  const groups = Array.from({ length: 23 }, (_, i) => i);
  assert.deepEqual(packChecks(groups).map((c) => c.length), [10, 10, 3]);
  assert.deepEqual(packChecks(groups).flat(), groups);
  assert.deepEqual(packChecks([]), []);
});

Deno.test("readUnits and packReads: a guard with up to 9 keys per unit, at most 10 keys per getMany", () => {
  const guard = ["guard"];
  const wanted = Array.from({ length: 20 }, (_, i) => [`k${i}`]);
  const units = readUnits("need", guard, wanted);
  assert.deepEqual(units.map((u) => u.keys.length), [10, 10, 3]);
  assert.ok(units.every((u) => u.keys[0] === guard && u.need === "need"));
  assert.deepEqual(units.flatMap((u) => u.keys.slice(1)), wanted);
  assert.deepEqual(readUnits("n", guard, []).map((u) => u.keys), [[guard]], "the guard alone");
  const small = [1, 2, 3, 4, 5].map((n) => readUnits(n, guard, [[`k${n}`]])[0]);
  const calls = packReads([...units, ...small]);
  assert.ok(calls.every((c) => c.reduce((n, u) => n + u.keys.length, 0) <= KV_LIMITS.readKeys));
  assert.deepEqual(calls.map((c) => c.length), [1, 1, 4, 2]);
});

Deno.test("groupByGuard keeps arrival order within each guard", () => {
  const g = (id: string, n: number) => ({ guardKey: [id], guardId: id, n });
  const groups = groupByGuard([g("a", 1), g("b", 2), g("a", 3)]);
  assert.deepEqual(groups.map((x) => [x.guardId, x.items.map((i) => i.n)]), [
    ["a", [1, 3]],
    ["b", [2]],
  ]);
});

Deno.test("fitCommit: stops before the mutation budget, always takes one, and counts a hook's costs", () => {
  const item = (i: number, idem: boolean) => ({
    guardKey: ["g", i % 3],
    guardId: `g${i % 3}`,
    idemKey: idem ? ["idem", `${i}`] : undefined,
    keyBytes: 40,
    mutationBytes: 100,
  });
  const plain = Array.from({ length: 2000 }, (_, i) => item(i, false));
  // 3 guard sums + one write each.
  assert.equal(fitCommit(plain, 5000), COMMIT_BUDGET.mutations - 3);
  assert.equal(fitCommit(plain, 100), 100, "maxBatch");
  const keyed = Array.from({ length: 2000 }, (_, i) => item(i, true));
  assert.equal(fitCommit(keyed, 5000), Math.floor((COMMIT_BUDGET.mutations - 3) / 2));
  const zero = { mutations: 0, keyBytes: 0, mutationBytes: 0 };
  const hooked = fitCommit(plain, 5000, () => ({
    each: { ...zero, mutations: 1 },
    group: "p",
    once: { ...zero, mutations: 10 },
  }));
  assert.equal(hooked, Math.floor((COMMIT_BUDGET.mutations - 3 - 10) / 2));
  const huge = [{ ...item(0, false), keyBytes: COMMIT_BUDGET.keyBytes * 2 }, item(1, false)];
  assert.equal(fitCommit(huge, 5000), 1, "a lone request always fits");
  assert.equal(keyBytes(["usage", "p", 1]), 2 + 5 + 2 + 1 + 10);
});

/**
 * Plan resolution with subscriptions: the order (subscription, header, default), the cached read
 * on the hot path, and the end-user billing repository it reads.
 */
import assert from "node:assert/strict";
import { EndUserPlanCache } from "../../lib/billing/end_user_plans.ts";
import { ApiError } from "../../lib/errors.ts";
import {
  applyEndUserEvent,
  findCustomerOwner,
  getEndUserBilling,
  type SubscriptionState,
} from "../../lib/kv/end_users.ts";
import { keys } from "../../lib/kv/keys.ts";
import { type Tier, TiersSchema } from "../../lib/schemas/tiers.ts";
import { resolvePlan } from "../../lib/usage/plan.ts";
import { startWorld, subscribe } from "./_world.ts";

const TIERS: Tier[] = TiersSchema.parse([
  { id: "free", name: "Free", price: 0, limit: 3 },
  { id: "pro", name: "Pro", price: 29, limit: 10, stripePriceId: "price_pro" },
  { id: "team", name: "Team", price: 0, limit: 50 },
]);

const NOW = new Date("2026-11-15T12:00:00Z");

function state(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  return {
    subscriptionId: "sub_1",
    customerId: "cus_1",
    status: "active",
    tier: "pro",
    priceId: "price_pro",
    created: 1_700_000_000,
    currentPeriodStart: 1_700_000_000,
    currentPeriodEnd: 1_702_592_000,
    cancelAtPeriodEnd: false,
    ...overrides,
  };
}

let eventSeq = 0;
async function apply(
  kv: Deno.Kv,
  userId: string,
  next: SubscriptionState | null,
  platformId = "plt_a",
) {
  return await applyEndUserEvent(kv, {
    platformId,
    userId,
    event: { id: `evt_${++eventSeq}`, type: "customer.subscription.updated", created: 1 },
    customerId: null,
    fetchState: () => Promise.resolve(next),
  }, NOW);
}

Deno.test("resolvePlan: a paid subscription wins over X-User-Plan, which wins over the default", () => {
  const paid = { tier: "pro", priceId: "price_pro" };
  assert.deepEqual(resolvePlan(TIERS, undefined, paid), { tier: TIERS[1], source: "subscription" });
  assert.deepEqual(resolvePlan(TIERS, "team", paid), { tier: TIERS[1], source: "subscription" });
  assert.deepEqual(resolvePlan(TIERS, "team", null), { tier: TIERS[2], source: "header" });
  assert.deepEqual(resolvePlan(TIERS, undefined, null), { tier: TIERS[0], source: "default" });
});

Deno.test("resolvePlan: an unknown X-User-Plan is 400 even when a subscription decides", () => {
  assert.throws(
    () => resolvePlan(TIERS, "gold", { tier: "pro", priceId: null }),
    (e) => e instanceof ApiError && e.status === 400 && /valid: free, pro, team/.test(e.message),
  );
});

Deno.test("resolvePlan: a subscription whose tier was renamed is found by its price, else ignored", () => {
  assert.deepEqual(
    resolvePlan(TIERS, undefined, { tier: "old-pro", priceId: "price_pro" }),
    { tier: TIERS[1], source: "subscription" },
  );
  assert.deepEqual(
    resolvePlan(TIERS, "team", { tier: "gone", priceId: "price_gone" }),
    { tier: TIERS[2], source: "header" },
  );
});

Deno.test("only active, trialing and past_due subscriptions entitle to their tier", async () => {
  await using kv = await Deno.openKv(":memory:");
  const cache = new EndUserPlanCache(kv, { ttlMs: 0 });
  const expected: Record<string, boolean> = {
    active: true,
    trialing: true,
    past_due: true,
    incomplete: false,
    incomplete_expired: false,
    canceled: false,
    unpaid: false,
    paused: false,
  };
  for (const [status, entitled] of Object.entries(expected)) {
    const user = `u_${status}`;
    await apply(
      kv,
      user,
      state({ status: status as SubscriptionState["status"], customerId: `cus_${status}` }),
    );
    const plan = await cache.get("plt_a", user);
    assert.deepEqual(plan, entitled ? { tier: "pro", priceId: "price_pro" } : null, status);
  }
  assert.equal(await cache.get("plt_a", "never_seen"), null);
});

Deno.test("EndUserPlanCache: another process's change shows within the TTL; forget() shows it at once", async () => {
  await using kv = await Deno.openKv(":memory:");
  let clock = 0;
  const here = new EndUserPlanCache(kv, { ttlMs: 5_000, now: () => clock });
  assert.equal(await here.get("plt_a", "u1"), null, "cached: no subscription");

  // Written by "another process": this cache keeps its answer until the TTL passes.
  await apply(kv, "u1", state());
  clock = 4_999;
  assert.equal(await here.get("plt_a", "u1"), null);
  clock = 5_000;
  assert.deepEqual(await here.get("plt_a", "u1"), { tier: "pro", priceId: "price_pro" });

  // Written by this process: forget() makes it visible without waiting.
  await apply(kv, "u1", state({ status: "canceled" }));
  assert.deepEqual(await here.get("plt_a", "u1"), { tier: "pro", priceId: "price_pro" });
  await here.forget("plt_a", "u1");
  assert.equal(await here.get("plt_a", "u1"), null);
});

/** `kv` with a count of its reads (each `get` or `getMany` call is one). */
function countingReads(kv: Deno.Kv): { kv: Deno.Kv; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(kv, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (name !== "get" && name !== "getMany") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        reads++;
        return value.apply(target, args);
      };
    },
  });
  return { kv: counted, reads: () => reads };
}

Deno.test("EndUserPlanCache: past the TTL, a platform with no billing change costs one read, not one per end-user", async () => {
  await using kv = await Deno.openKv(":memory:");
  await apply(kv, "paying", state());
  const counted = countingReads(kv);
  let clock = 0;
  const cache = new EndUserPlanCache(counted.kv, { ttlMs: 5_000, now: () => clock });
  const users = ["paying", ...Array.from({ length: 99 }, (_, i) => `free-${i}`)];
  for (const user of users) await cache.get("plt_a", user);
  assert.equal(counted.reads(), 100);

  for (const at of [5_000, 12_000, 60_000]) {
    clock = at;
    const before = counted.reads();
    const plans = await Promise.all(users.map((user) => cache.get("plt_a", user)));
    assert.deepEqual(plans[0], { tier: "pro", priceId: "price_pro" });
    assert.ok(plans.slice(1).every((plan) => plan === null));
    assert.equal(counted.reads() - before, 1, `at ${at} ms: one read of the platform's version`);
  }
});

Deno.test("EndUserPlanCache: another process's billing change shows for every end-user of the platform within the TTL", async () => {
  await using kv = await Deno.openKv(":memory:");
  let clock = 0;
  const cache = new EndUserPlanCache(kv, { ttlMs: 5_000, now: () => clock });
  assert.equal(await cache.get("plt_a", "u1"), null);
  assert.equal(await cache.get("plt_b", "u1"), null);
  clock = 6_000; // past the entries' own TTL: now they live on the platform's version
  assert.equal(await cache.get("plt_a", "u1"), null);

  await apply(kv, "u1", state()); // "another process": no forget() here
  clock = 10_999; // the version read at 6,000 is still fresh: the change is not seen yet
  assert.equal(await cache.get("plt_a", "u1"), null);
  clock = 11_000;
  assert.deepEqual(await cache.get("plt_a", "u1"), { tier: "pro", priceId: "price_pro" });
  // Another platform's version did not move: its entries stand.
  assert.equal(await cache.get("plt_b", "u1"), null);

  await apply(kv, "u1", state({ status: "canceled" }));
  clock = 16_000;
  assert.equal(await cache.get("plt_a", "u1"), null);
});

Deno.test("EndUserPlanCache: a read in flight when forget() is called does not cache its stale answer", async () => {
  await using kv = await Deno.openKv(":memory:");
  const cache = new EndUserPlanCache(kv, { ttlMs: 60_000, now: () => 0 });
  const inFlight = cache.get("plt_a", "u1");
  await apply(kv, "u1", state());
  await cache.forget("plt_a", "u1");
  await inFlight;
  assert.deepEqual(await cache.get("plt_a", "u1"), { tier: "pro", priceId: "price_pro" });
});

Deno.test("the billing record and its customer index are written together; a customer of another end-user is refused", async () => {
  await using kv = await Deno.openKv(":memory:");
  assert.equal(await apply(kv, "u1", state()), "applied");
  assert.deepEqual(await findCustomerOwner(kv, "cus_1"), { platformId: "plt_a", userId: "u1" });
  const record = await getEndUserBilling(kv, "plt_a", "u1");
  assert.equal(record?.currentPeriodEnd, new Date(1_702_592_000 * 1000).toISOString());

  // The same customer claimed for another end-user, or by another platform: only the marker.
  assert.equal(await apply(kv, "u2", state({ subscriptionId: "sub_2" })), "foreign");
  assert.equal(await apply(kv, "u1", state({ subscriptionId: "sub_3" }), "plt_b"), "foreign");
  assert.equal(await getEndUserBilling(kv, "plt_a", "u2"), null);
  assert.equal(await getEndUserBilling(kv, "plt_b", "u1"), null);
  assert.deepEqual(await findCustomerOwner(kv, "cus_1"), { platformId: "plt_a", userId: "u1" });
  assert.notEqual((await kv.get(keys.stripeEvent("plt_b", `evt_${eventSeq}`))).versionstamp, null);
});

Deno.test("between two subscriptions of one end-user a live one is never replaced by an ended one; the newer live wins", async () => {
  await using kv = await Deno.openKv(":memory:");
  await apply(kv, "u1", state({ subscriptionId: "sub_old", created: 100 }));
  assert.equal(
    await apply(kv, "u1", state({ subscriptionId: "sub_new", created: 200 })),
    "applied",
  );
  assert.equal(
    await apply(kv, "u1", state({ subscriptionId: "sub_old", created: 100, status: "canceled" })),
    "stale",
  );
  assert.equal(
    await apply(kv, "u1", state({ subscriptionId: "sub_old", created: 100, status: "active" })),
    "stale",
    "an older live subscription does not replace a newer one",
  );
  assert.equal((await getEndUserBilling(kv, "plt_a", "u1"))?.subscriptionId, "sub_new");
  // The current subscription ending is always applied.
  assert.equal(
    await apply(kv, "u1", state({ subscriptionId: "sub_new", created: 200, status: "canceled" })),
    "applied",
  );
  // Then another live one (a new checkout) takes over.
  assert.equal(
    await apply(kv, "u1", state({ subscriptionId: "sub_old", created: 100 })),
    "applied",
  );
});

Deno.test("a downgrade applies the lower limit at once; usage already counted stays", async () => {
  await using world = await startWorld();
  const founder = await world.founder("f_down", "sk_test_downgradeFounder000001");
  const paid = await subscribe(world, founder, "u1", "max");
  const used = await world.api(founder, "POST", "/api/data", "u1", { amount: 20 });
  assert.equal(used.status, 200, used.text);
  assert.equal(used.body.plan, "max");

  await world.stripe.changeSubscriptionPrice(paid.subscription.id, founder.prices.pro);
  const refused = await world.api(founder, "POST", "/api/data", "u1", { amount: 1 });
  assert.equal(refused.status, 429, refused.text);
  assert.equal(refused.body.plan, "pro");
  assert.equal(refused.body.planSource, "subscription");
  assert.deepEqual(refused.body.usage, { count: 20, limit: 10, remaining: 0 });
});

import assert from "node:assert/strict";
import { defaultTier, TiersSchema } from "../../lib/schemas/tiers.ts";

const free = { id: "free", name: "Free", price: 0, limit: 100 };
const pro = { id: "pro", name: "Pro", price: 29, limit: 1000, period: "month" };

Deno.test("tiers: period defaults to month and the first free tier is the default", () => {
  const tiers = TiersSchema.parse([pro, free, { ...free, id: "free2" }]);
  assert.equal(tiers[1].period, "month");
  assert.equal(defaultTier(tiers).id, "free");
});

Deno.test("tiers: invalid configs are refused with the field named", () => {
  const cases: [unknown, string][] = [
    [[pro], ""], // no free tier
    [[free, { ...free }], "1.id"], // duplicate id
    [[{ ...free, id: "Free Tier" }], "0.id"],
    [[{ ...free, price: -1 }], "0.price"],
    [[{ ...free, limit: 1.5 }], "0.limit"],
    [[{ ...free, limit: -1 }], "0.limit"],
    [[{ ...free, period: "week" }], "0.period"],
    [[{ ...free, name: " " }], "0.name"],
    [[], ""],
  ];
  for (const [input, path] of cases) {
    const result = TiersSchema.safeParse(input);
    assert.equal(result.success, false, JSON.stringify(input));
    assert.ok(
      result.error!.issues.some((i) => i.path.join(".") === path),
      `${JSON.stringify(input)} → ${JSON.stringify(result.error!.issues)}`,
    );
  }
});

Deno.test("tiers: null limit is unlimited", () => {
  const [tier] = TiersSchema.parse([{ ...free, limit: null }]);
  assert.equal(tier.limit, null);
});

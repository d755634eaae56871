/** The meter's decision, pure: who is granted, given the counts, the limit and arrival order. */
import assert from "node:assert/strict";
import {
  countFingerprint,
  type CountRequest,
  type Decidable,
  decide,
  IDEMPOTENCY_TTL_MS,
  mayNotify,
  nearThreshold,
  type Notice,
  type StoredAnswer,
} from "../../lib/usage/decide.ts";
import type { Period } from "../../lib/usage/period.ts";
import { NOV, req } from "./_kv.ts";

const NOW = Date.parse("2026-11-15T12:00:00Z");
const BOUNDS = { start: NOV.start.toISOString(), end: NOV.end.toISOString() };
const boundsOf = (_: Period) => BOUNDS;

/** A request as the meter hands it to `decide`: its counter is the end-user, its key its own. */
function item(userId: string, over: Partial<CountRequest> = {}): Decidable {
  const r = req(userId, over);
  return {
    req: r,
    counterId: userId,
    idemId: r.idempotencyKey && `${userId}/${r.idempotencyKey}`,
    fingerprint: r.idempotencyKey && countFingerprint(r),
  };
}

/** A first answer stored by an earlier batch. */
function stored(over: Partial<StoredAnswer> & { amount?: number } = {}): StoredAnswer {
  const { amount = 1, ...rest } = over;
  return {
    ok: true,
    replayed: false,
    count: 5,
    limit: 100,
    plan: "free",
    period: BOUNDS,
    expiresAt: NOW + 1000,
    fp: countFingerprint(req("u", { amount })),
    ...rest,
  };
}

const cases: {
  name: string;
  counts?: Record<string, number>;
  answers?: Record<string, StoredAnswer>;
  items: Decidable[];
  /** [ok, count, replayed, conflict] per request, in order */
  expect: [boolean, number, boolean, boolean][];
  /** the counters written, with their new counts */
  writes: Record<string, number>;
  /** the requests decided: [amount, ok, before] */
  decided: [number, boolean, number][];
}[] = [
  {
    name: "below the limit: granted",
    counts: { u: 3 },
    items: [item("u", { limit: 10, amount: 2 })],
    expect: [[true, 5, false, false]],
    writes: { u: 5 },
    decided: [[2, true, 3]],
  },
  {
    name: "exact fill: an amount that reaches the limit is granted",
    counts: { u: 7 },
    items: [item("u", { limit: 10, amount: 3 })],
    expect: [[true, 10, false, false]],
    writes: { u: 10 },
    decided: [[3, true, 7]],
  },
  {
    name: "one over: refused, counts nothing, writes nothing",
    counts: { u: 7 },
    items: [item("u", { limit: 10, amount: 4 })],
    expect: [[false, 7, false, false]],
    writes: {},
    decided: [[4, false, 7]],
  },
  {
    name: "a limit of 0 refuses the first unit",
    items: [item("u", { limit: 0, amount: 1 })],
    expect: [[false, 0, false, false]],
    writes: {},
    decided: [[1, false, 0]],
  },
  {
    name: "a counter never written counts from 0",
    items: [item("new", { limit: 1, amount: 1 })],
    expect: [[true, 1, false, false]],
    writes: { new: 1 },
    decided: [[1, true, 0]],
  },
  {
    name: "unlimited: always granted",
    counts: { u: 1e9 },
    items: [item("u", { limit: null, amount: 1e6 }), item("u", { limit: null, amount: 1e6 })],
    expect: [[true, 1_001_000_000, false, false], [true, 1_002_000_000, false, false]],
    writes: { u: 1_002_000_000 },
    decided: [[1e6, true, 1e9], [1e6, true, 1_001_000_000]],
  },
  {
    name: "arrival order: a refusal does not block a smaller amount after it",
    counts: { u: 0 },
    items: [
      item("u", { limit: 10, amount: 7 }),
      item("u", { limit: 10, amount: 4 }),
      item("u", { limit: 10, amount: 3 }),
      item("u", { limit: 10, amount: 1 }),
    ],
    expect: [
      [true, 7, false, false],
      [false, 7, false, false],
      [true, 10, false, false],
      [false, 10, false, false],
    ],
    writes: { u: 10 },
    decided: [[7, true, 0], [4, false, 7], [3, true, 7], [1, false, 10]],
  },
  {
    name: "several end-users: each against their own count",
    counts: { a: 9, b: 0 },
    items: [
      item("a", { limit: 10 }),
      item("b", { limit: 10 }),
      item("a", { limit: 10 }),
      item("b", { limit: 10 }),
    ],
    expect: [
      [true, 10, false, false],
      [true, 1, false, false],
      [false, 10, false, false],
      [true, 2, false, false],
    ],
    writes: { a: 10, b: 2 },
    decided: [[1, true, 9], [1, true, 0], [1, false, 10], [1, true, 1]],
  },
  {
    name: "replay in the same batch: the first answer, counted once",
    items: [
      item("u", { idempotencyKey: "k", amount: 2 }),
      item("u"),
      item("u", { idempotencyKey: "k", amount: 2 }),
    ],
    expect: [[true, 2, false, false], [true, 3, false, false], [true, 2, true, false]],
    writes: { u: 3 },
    decided: [[2, true, 0], [1, true, 2]],
  },
  {
    name: "replay of an answer stored by an earlier batch: nothing decided",
    counts: { u: 5 },
    answers: { "u/k": stored({ amount: 1 }) },
    items: [item("u", { idempotencyKey: "k", amount: 1 })],
    expect: [[true, 5, true, false]],
    writes: {},
    decided: [],
  },
  {
    name: "a stored answer without a fingerprint (earlier versions) replays any amount",
    counts: { u: 5 },
    answers: { "u/k": stored({ fp: undefined }) },
    items: [item("u", { idempotencyKey: "k", amount: 9 })],
    expect: [[true, 5, true, false]],
    writes: {},
    decided: [],
  },
  {
    name: "conflict: a key reused with another amount counts nothing, neither granted nor refused",
    counts: { u: 5 },
    answers: { "u/k": stored({ amount: 1 }) },
    items: [item("u", { idempotencyKey: "k", amount: 2 })],
    expect: [[false, 5, false, true]],
    writes: {},
    decided: [],
  },
  {
    name: "conflict and replay in the same batch as the first use",
    items: [
      item("u", { idempotencyKey: "k", amount: 2 }),
      item("u", { idempotencyKey: "k", amount: 3 }),
      item("u", { idempotencyKey: "k", amount: 2 }),
    ],
    expect: [[true, 2, false, false], [false, 2, false, true], [true, 2, true, false]],
    writes: { u: 2 },
    decided: [[2, true, 0]],
  },
  {
    name: "a refused key is not remembered: its repeat under a bigger limit is granted once",
    counts: { u: 1 },
    items: [
      item("u", { idempotencyKey: "k", limit: 1 }),
      item("u", { idempotencyKey: "k", limit: 5 }),
      item("u", { idempotencyKey: "k", limit: 1 }),
    ],
    expect: [[false, 1, false, false], [true, 2, false, false], [true, 2, true, false]],
    writes: { u: 2 },
    decided: [[1, false, 1], [1, true, 1]],
  },
];

for (const c of cases) {
  Deno.test(`decide: ${c.name}`, () => {
    const counts = new Map(Object.entries(c.counts ?? {}));
    const answers = new Map(Object.entries(c.answers ?? {}));
    const d = decide(c.items, counts, answers, NOW, boundsOf);
    assert.deepEqual(
      d.results.map(([it, r]) => [c.items.indexOf(it), r.ok, r.count, r.replayed, !!r.conflict]),
      c.expect.map((e, i) => [i, ...e]),
    );
    assert.deepEqual(
      Object.fromEntries([...d.writes].map(([id, w]) => [id, w.count])),
      c.writes,
    );
    assert.deepEqual(d.decided.map((x) => [x.req.amount, x.ok, x.before]), c.decided);
    // The batch's running state holds what was granted.
    for (const [id, count] of Object.entries(c.writes)) assert.equal(counts.get(id), count);
  });
}

Deno.test("decide: a granted idempotent count stores its first answer, bound to the request, for a day", () => {
  const it = item("u", { idempotencyKey: "k", amount: 2, plan: "pro", limit: 50 });
  const answers = new Map<string, StoredAnswer>();
  const d = decide([it], new Map([["u", 8]]), answers, NOW, boundsOf);
  const expected: StoredAnswer = {
    ok: true,
    replayed: false,
    count: 10,
    limit: 50,
    plan: "pro",
    period: BOUNDS,
    expiresAt: NOW + IDEMPOTENCY_TTL_MS,
    fp: countFingerprint(it.req),
  };
  assert.deepEqual(d.answers, [{ item: it, answer: expected }]);
  assert.deepEqual(answers.get("u/k"), expected);
});

/** A request that may notify: its notice id is its end-user's. */
function noticed(userId: string, over: Partial<CountRequest> = {}): Decidable {
  return { ...item(userId, over), noticeId: `n/${userId}` };
}

const thresholdCases: {
  name: string;
  counts?: Record<string, number>;
  notices?: Record<string, Notice | null>;
  items: Decidable[];
  /** [type, count] of each event, in order */
  events: [string, number][];
  /** the notices written */
  written: Record<string, Notice>;
}[] = [
  {
    name: "below 80 %: nothing, and the notice is never looked at",
    counts: { u: 70 },
    items: [noticed("u", { limit: 100, amount: 9 })],
    events: [],
    written: {},
  },
  {
    name: "crossing 80 % (rounded up: 12 of 15)",
    counts: { u: 11 },
    notices: { "n/u": null },
    items: [noticed("u", { limit: 15 })],
    events: [["usage.near_limit", 12]],
    written: { "n/u": { near: [15], reached: [] } },
  },
  {
    name: "one call crossing both: near_limit then limit_reached",
    counts: { u: 0 },
    notices: { "n/u": null },
    items: [noticed("u", { limit: 10, amount: 10 })],
    events: [["usage.near_limit", 10], ["usage.limit_reached", 10]],
    written: { "n/u": { near: [10], reached: [10] } },
  },
  {
    name: "several calls in one batch: each event once, at the call that crosses",
    counts: { u: 7 },
    notices: { "n/u": null },
    items: [
      noticed("u", { limit: 10 }),
      noticed("u", { limit: 10 }),
      noticed("u", { limit: 10 }),
      noticed("u", { limit: 10 }),
    ],
    events: [["usage.near_limit", 8], ["usage.limit_reached", 10]],
    written: { "n/u": { near: [10], reached: [10] } },
  },
  {
    name: "the first refusal sends limit_reached when no call left 0 remaining",
    counts: { u: 9 },
    notices: { "n/u": { near: [10], reached: [] } },
    items: [noticed("u", { limit: 10, amount: 2 }), noticed("u", { limit: 10, amount: 2 })],
    events: [["usage.limit_reached", 9]],
    written: { "n/u": { near: [10], reached: [10] } },
  },
  {
    name: "already sent for this limit: nothing again",
    counts: { u: 10 },
    notices: { "n/u": { near: [10], reached: [10] } },
    items: [noticed("u", { limit: 10 })],
    events: [],
    written: {},
  },
  {
    name: "another limit (a plan change) is armed again, already above its 80 %",
    counts: { u: 10 },
    notices: { "n/u": { near: [10], reached: [10] } },
    items: [noticed("u", { limit: 12 })],
    events: [["usage.near_limit", 11]],
    written: { "n/u": { near: [10, 12], reached: [10] } },
  },
  {
    name: "unlimited, or a request without a notice id: never",
    counts: { u: 10, v: 10 },
    items: [noticed("u", { limit: null }), item("v", { limit: 11 })],
    events: [],
    written: {},
  },
  {
    name: "a notice the meter did not load: nothing is sent (never twice)",
    counts: { u: 9 },
    items: [noticed("u", { limit: 10 })],
    events: [],
    written: {},
  },
  {
    name: "a limit of 0: no counted call, so no near_limit; the first refusal is limit_reached",
    notices: { "n/u": null },
    items: [noticed("u", { limit: 0 }), noticed("u", { limit: 0 })],
    events: [["usage.limit_reached", 0]],
    written: { "n/u": { near: [], reached: [0] } },
  },
];

for (const c of thresholdCases) {
  Deno.test(`decide, thresholds: ${c.name}`, () => {
    const notices = new Map(Object.entries(c.notices ?? {}));
    const seen = new Set<string>();
    const spy = new Proxy(notices, {
      get(target, prop) {
        if (prop === "get") return (id: string) => (seen.add(id), target.get(id));
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const d = decide(
      c.items,
      new Map(Object.entries(c.counts ?? {})),
      new Map(),
      NOW,
      boundsOf,
      spy,
    );
    assert.deepEqual(d.events.map((e) => [e.type, e.count]), c.events);
    assert.deepEqual(
      Object.fromEntries([...d.notices].map(([id, { notice }]) => [id, notice])),
      c.written,
    );
    if (c.events.length === 0 && !c.notices) assert.equal(seen.size, 0, "no notice looked at");
  });
}

Deno.test("nearThreshold is 80 % rounded up, in integers", () => {
  assert.deepEqual([0, 1, 4, 5, 10, 15, 100, 101].map(nearThreshold), [0, 1, 4, 4, 8, 12, 80, 81]);
  assert.equal(mayNotify(null, 1e9), false);
  assert.equal(mayNotify(100, 79), false);
  assert.equal(mayNotify(100, 80), true);
});

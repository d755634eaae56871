/**
 * Threshold events (`usage.near_limit`, `usage.limit_reached`) written by the meter's own commits:
 * exactly once per end-user, counter, period and limit, under races, across meters, and only for
 * the calls that cross.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { OutboxRecord } from "../../lib/kv/outbox.ts";
import { meterWorld, NOV, req } from "./_kv.ts";
import { eventsOf, outboxEvents } from "./_outbox.ts";

Deno.test("50 concurrent calls across both thresholds queue near_limit and limit_reached exactly once each", async () => {
  await using w = await meterWorld();
  const results = await Promise.all(
    Array.from({ length: 50 }, () => w.meter.count(req("u", { limit: 40 }))),
  );
  assert.equal(results.filter((r) => r.ok).length, 40);
  const events = await outboxEvents(w.kv);
  assert.deepEqual(eventsOf(events, "u"), [
    ["usage.near_limit", 32, 40],
    ["usage.limit_reached", 40, 40],
  ]);
});

Deno.test("a feature's thresholds are its own: events name the feature, the main meter's stay unsent", async () => {
  await using w = await meterWorld();
  await w.meter.count(req("u", { limit: 100, amount: 10 }));
  const results = await Promise.all(
    Array.from({ length: 50 }, () => w.meter.count(req("u", { limit: 20, feature: "exports" }))),
  );
  assert.equal(results.filter((r) => r.ok).length, 20);
  const events = await outboxEvents(w.kv);
  assert.deepEqual(eventsOf(events, "u", "exports"), [
    ["usage.near_limit", 16, 20],
    ["usage.limit_reached", 20, 20],
  ]);
  assert.deepEqual(eventsOf(events, "u"), [], "the main meter is at 10 of 100");
  const near = events.find((e) => e.type === "usage.near_limit")!;
  assert.match(near.timestamp, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(near.data, {
    platformId: "plt_test",
    userId: "u",
    feature: "exports",
    plan: "free",
    usage: { count: 16, limit: 20, remaining: 4 },
    period: { start: NOV.start.toISOString(), end: NOV.end.toISOString() },
  });
});

Deno.test("two meters on one KV file racing across the thresholds queue each event once", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [a, b] = w.meters;
  const calls = Array.from(
    { length: 100 },
    (_, i) => (i % 2 ? a : b).count(req("u", { limit: 30, feature: i % 4 < 2 ? "f" : undefined })),
  );
  const results = await Promise.all(calls);
  assert.equal(results.filter((r) => r.ok).length, 60);
  const events = await outboxEvents(w.kv);
  for (const feature of ["f", undefined]) {
    assert.deepEqual(eventsOf(events, "u", feature), [
      ["usage.near_limit", 24, 30],
      ["usage.limit_reached", 30, 30],
    ], String(feature));
  }
});

Deno.test("calls below 80 % of the limit queue nothing and read nothing more than without events", async () => {
  await using w = await meterWorld({ options: { events: true } });
  const quiet = w.meterOn(await w.open(), { events: false });
  for (let i = 0; i < 79; i++) {
    await w.meter.count(req("u", { limit: 100 }));
    await quiet.count(req("v", { limit: 100 }));
  }
  assert.deepEqual(await outboxEvents(w.kv), []);
  assert.equal((await w.kv.get(keys.usageNotice("plt_test", NOV.key, "u", ""))).versionstamp, null);
  assert.equal(w.meter.stats.reads, quiet.stats.reads, "no read beyond the counts'");
  assert.equal(w.meter.stats.commits, quiet.stats.commits);
  await w.meter.count(req("u", { limit: 100 }));
  assert.deepEqual(eventsOf(await outboxEvents(w.kv), "u"), [["usage.near_limit", 80, 100]]);
});

Deno.test("limit_reached comes with the first refusal when no call left exactly 0 remaining, and only once", async () => {
  await using w = await meterWorld();
  for (let i = 0; i < 3; i++) {
    assert.ok((await w.meter.count(req("u", { limit: 10, amount: 3 }))).ok);
  }
  const refused = await Promise.all(
    Array.from({ length: 20 }, () => w.meter.count(req("u", { limit: 10, amount: 3 }))),
  );
  assert.ok(refused.every((r) => !r.ok));
  assert.deepEqual(eventsOf(await outboxEvents(w.kv), "u"), [
    ["usage.near_limit", 9, 10],
    ["usage.limit_reached", 9, 10],
  ]);
  // A later call that fits and leaves 0 remaining does not send it again for this limit.
  assert.ok((await w.meter.count(req("u", { limit: 10, amount: 1 }))).ok);
  assert.equal((await outboxEvents(w.kv)).length, 2);
});

Deno.test("a plan change to another limit mid-period arms both thresholds again, once", async () => {
  await using w = await meterWorld();
  for (let i = 0; i < 10; i++) await w.meter.count(req("u", { limit: 10 }));
  assert.equal((await outboxEvents(w.kv)).length, 2);
  // Upgraded to 12: already above 80 % of it, so the next counted call sends near_limit at once.
  const upgraded = await Promise.all(
    Array.from({ length: 20 }, () => w.meter.count(req("u", { plan: "pro", limit: 12 }))),
  );
  assert.equal(upgraded.filter((r) => r.ok).length, 2);
  // Back to 10 (a downgrade): both were sent for 10 already, so only refusals, no events.
  assert.ok(!(await w.meter.count(req("u", { limit: 10 }))).ok);
  const events = await outboxEvents(w.kv);
  assert.deepEqual(eventsOf(events, "u"), [
    ["usage.near_limit", 8, 10],
    ["usage.limit_reached", 10, 10],
    ["usage.near_limit", 11, 12],
    ["usage.limit_reached", 12, 12],
  ]);
  assert.deepEqual(events.slice(2).map((e) => e.data.plan), ["pro", "pro"]);
});

Deno.test("a meter never trusts its cached notice once another meter has written to the shard", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [a, b] = w.meters;
  for (let i = 0; i < 9; i++) await a.count(req("u", { limit: 10 }));
  await b.count(req("u", { limit: 10 }));
  await a.count(req("u", { limit: 10 }));
  assert.deepEqual(eventsOf(await outboxEvents(w.kv), "u"), [
    ["usage.near_limit", 8, 10],
    ["usage.limit_reached", 10, 10],
  ]);
});

Deno.test("unlimited counters never queue events nor read notices", async () => {
  await using w = await meterWorld();
  for (let i = 0; i < 5; i++) await w.meter.count(req("u", { limit: null, amount: 1_000_000 }));
  assert.deepEqual(await outboxEvents(w.kv), []);
});

Deno.test("many end-users crossing in one batch: the commit is split so each stays within denokv's limits, and every event is queued once", async () => {
  await using w = await meterWorld({ audited: true });
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) => w.meter.count(req(`user-${i}`, { limit: 1 }))),
  );
  assert.ok(results.every((r) => r.ok));
  assert.ok(
    w.commits.every((c) => c.mutations <= 1000 && c.checks <= 10),
    JSON.stringify(w.commits),
  );
  assert.ok(w.commits.length > 1, "one commit cannot hold 600 events");
  const events = await outboxEvents(w.kv);
  assert.equal(events.length, 600);
  for (let i = 0; i < 300; i++) {
    assert.deepEqual(eventsOf(events, `user-${i}`), [
      ["usage.near_limit", 1, 1],
      ["usage.limit_reached", 1, 1],
    ]);
  }
  const records: OutboxRecord[] = [];
  for await (const e of w.kv.list<OutboxRecord>({ prefix: keys.outboxAll() })) {
    records.push(e.value);
  }
  assert.equal(new Set(records.map((r) => r.id)).size, 600, "event ids are unique");
});

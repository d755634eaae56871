/**
 * The meter across isolates (lib/usage/remote_meter.ts): counts asked through a channel answer
 * exactly what the real meter answers, in batches, errors included; reads never travel.
 * A real KV file and a real meter; the channels are `MessageChannel`s (real structured cloning).
 * Real isolates and HTTP are in tests/cluster_test.ts.
 */
import assert from "node:assert/strict";
import { isStorageFault } from "../../lib/kv/open.ts";
import {
  type CountRequest,
  type CountResult,
  type Meter,
  MeterClosedError,
} from "../../lib/usage/meter.ts";
import { RemoteMeter, serveMeter } from "../../lib/usage/remote_meter.ts";
import { DEC, meterWorld, NOV, req } from "./_kv.ts";

/** Both ends of a channel, counting the messages each way. */
function channel() {
  const { port1, port2 } = new MessageChannel();
  const sent = { calls: 0, answers: 0 };
  const isolate = {
    postMessage(message: unknown) {
      sent.calls++;
      port1.postMessage(message);
    },
    addEventListener: port1.addEventListener.bind(port1),
  };
  const host = {
    postMessage(message: unknown) {
      sent.answers++;
      port2.postMessage(message);
    },
    addEventListener: port2.addEventListener.bind(port2),
  };
  port1.start();
  port2.start();
  return {
    isolate,
    host,
    sent,
    [Symbol.dispose]() {
      port1.close();
      port2.close();
    },
  };
}

/** A meter that must never be asked: the remote one's reads go to it in the read test only. */
const NO_READS: Meter = {
  count: () => Promise.reject(new Error("counted on the reads meter")),
  read: () => Promise.reject(new Error("read where no read was expected")),
  close: () => Promise.resolve(),
};

Deno.test("counts through two channels to one meter grant exactly the limit, and answer as the meter does", async () => {
  await using world = await meterWorld();
  using a = channel();
  using b = channel();
  serveMeter(a.host, world.meter);
  serveMeter(b.host, world.meter);
  const remotes = [new RemoteMeter(a.isolate, NO_READS), new RemoteMeter(b.isolate, NO_READS)];

  const answers = await Promise.all(
    Array.from({ length: 300 }, (_, i) => remotes[i % 2].count(req("hot", { limit: 100 }))),
  );
  assert.equal(answers.filter((r) => r.ok).length, 100);
  assert.equal(answers.filter((r) => !r.ok).length, 200);
  // Granted in order: the counts given are 1 … 100, each once.
  const counts = answers.filter((r) => r.ok).map((r) => r.count).sort((x, y) => x - y);
  assert.deepEqual(counts, Array.from({ length: 100 }, (_, i) => i + 1));
  const direct = await world.meter.count(req("hot", { limit: 100 }));
  assert.deepEqual(answers.at(-1), direct, "a refusal answers field for field as the meter's own");
  assert.equal(await world.meter.read("plt_test", NOV, "hot"), 100);
  // 300 counts asked in one turn travel in a message per channel, not one each.
  assert.equal(a.sent.calls, 1);
  assert.equal(b.sent.calls, 1);
  assert.ok(a.sent.answers <= 10, `${a.sent.answers} answer messages`);
});

Deno.test("a replayed or conflicting idempotency key answers the first answer's period, not the request's", async () => {
  await using world = await meterWorld();
  using c = channel();
  serveMeter(c.host, world.meter);
  const remote = new RemoteMeter(c.isolate, NO_READS);
  const first = await remote.count(req("u", { idempotencyKey: "k1", period: NOV }));
  assert.equal(first.ok, true);
  assert.equal(first.period.start, NOV.start.toISOString());

  // Asked again as December begins (within the key's 24 hours): the first answer, November's.
  const replay = await remote.count(req("u", { idempotencyKey: "k1", period: DEC }));
  assert.deepEqual(replay, { ...first, replayed: true });
  const conflict = await remote.count(req("u", { idempotencyKey: "k1", period: DEC, amount: 2 }));
  assert.equal(conflict.conflict, true);
  assert.equal(conflict.ok, false);
  assert.equal(conflict.period.end, NOV.end.toISOString());
  // A fresh count in December answers December.
  const fresh = await remote.count(req("u", { period: DEC }));
  assert.deepEqual(fresh.period, {
    start: DEC.start.toISOString(),
    end: DEC.end.toISOString(),
  });
});

Deno.test("a failed count rejects in the isolate as it did in the host: a storage fault stays one (503)", async () => {
  const faults: Record<string, Error> = {
    locked: new Error("database is locked"),
    closed: new Deno.errors.BadResource("Bad resource ID"),
    meter: new MeterClosedError(),
  };
  const failing: Meter = {
    count: (r: CountRequest) => Promise.reject(faults[r.userId]),
    read: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
  using c = channel();
  serveMeter(c.host, failing);
  const remote = new RemoteMeter(c.isolate, NO_READS);
  const locked = await remote.count(req("locked")).catch((e) => e);
  assert.ok(locked instanceof Error);
  assert.equal(locked.message, "database is locked");
  assert.equal(isStorageFault(locked), true);
  const closed = await remote.count(req("closed")).catch((e) => e);
  assert.ok(closed instanceof Deno.errors.BadResource);
  assert.equal(isStorageFault(closed), true);
  const meter = await remote.count(req("meter")).catch((e) => e);
  assert.ok(meter instanceof MeterClosedError);
});

Deno.test("reads stay in the isolate, on its own meter; nothing travels", async () => {
  await using world = await meterWorld();
  await world.meter.count(req("u", { amount: 7 }));
  using c = channel();
  serveMeter(c.host, { ...NO_READS, count: () => Promise.reject(new Error("no count here")) });
  const reads = world.meterOn(await world.open());
  const remote = new RemoteMeter(c.isolate, reads);
  assert.equal(await remote.read("plt_test", NOV, "u"), 7);
  assert.equal(c.sent.calls, 0);
});

Deno.test("close answers every count already asked, then refuses new ones", async () => {
  await using world = await meterWorld();
  using c = channel();
  serveMeter(c.host, world.meter);
  const remote = new RemoteMeter(c.isolate, NO_READS);
  const asked: Promise<CountResult>[] = Array.from(
    { length: 50 },
    (_, i) => remote.count(req(`u${i % 5}`)),
  );
  const closing = remote.close();
  assert.ok(remote.pending > 0, "counts are in flight as close begins");
  await closing;
  assert.equal(remote.pending, 0);
  const answers = await Promise.all(asked);
  assert.equal(answers.filter((r) => r.ok).length, 50);
  await assert.rejects(remote.count(req("late")), MeterClosedError);
  let total = 0;
  for (let i = 0; i < 5; i++) total += await world.meter.read("plt_test", NOV, `u${i}`);
  assert.equal(total, 50);
});

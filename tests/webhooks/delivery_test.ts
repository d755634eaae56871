/**
 * The delivery loop against a real KV and a real HTTP receiver on 127.0.0.1: signed deliveries
 * verified by an independent Standard Webhooks implementation, retries (same `webhook-id`),
 * timeouts, redirects, events without an endpoint, and several loops sharing one KV.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import { Webhook } from "standardwebhooks";
import { listDeliveries } from "../../lib/kv/webhooks.ts";
import { startReceiver } from "./_receiver.ts";
import { hookWorld, PLATFORM } from "./_world.ts";
import { tempKvPath } from "../usage/_kv.ts";

const FAST_RETRIES = [200, 400, 800];

Deno.test("a queued event reaches the endpoint within seconds, signed so that the standardwebhooks package verifies it", async () => {
  await using receiver = startReceiver();
  await using world = await hookWorld(`${receiver.url}/hook`);
  const loop = world.delivery();
  loop.start();
  const id = await world.queue("usage.near_limit", { userId: "u1", plan: "free" });
  const [got] = await receiver.waitFor(1, 5_000);

  assert.equal(got.id, id);
  assert.equal(got.contentType, "application/json");
  const payload = new Webhook(world.secret).verify(got.body, {
    "webhook-id": got.id!,
    "webhook-timestamp": got.timestamp!,
    "webhook-signature": got.signature!,
  }) as { type: string; data: Record<string, unknown> };
  assert.equal(payload.type, "usage.near_limit");
  assert.deepEqual(payload.data, { platformId: PLATFORM, userId: "u1", plan: "free" });

  await waitUntil(async () => await world.outboxSize() === 0);
  const [entry] = await listDeliveries(world.kv, PLATFORM);
  assert.equal(entry.status, "delivered", JSON.stringify(entry));
  assert.equal(entry.responseStatus, 200);
  assert.equal(entry.eventId, id);
});

Deno.test("a failed attempt (500) is retried with the same webhook-id until a 2xx, and the log shows both", async () => {
  await using receiver = startReceiver([500], 200);
  await using world = await hookWorld(`${receiver.url}/hook`);
  world.delivery({ retryDelaysMs: FAST_RETRIES }).start();
  const id = await world.queue();
  const [first, second] = await receiver.waitFor(2, 10_000);
  assert.equal(first.id, id);
  assert.equal(second.id, id, "a retry keeps its webhook-id");
  assert.ok(second.at - first.at >= FAST_RETRIES[0] - 50, "the retry waited its backoff");
  // Each attempt is signed on its own (a fresh timestamp); both verify.
  for (const got of [first, second]) {
    new Webhook(world.secret).verify(got.body, {
      "webhook-id": got.id!,
      "webhook-timestamp": got.timestamp!,
      "webhook-signature": got.signature!,
    });
  }
  await waitUntil(async () => await world.outboxSize() === 0);
  const log = await listDeliveries(world.kv, PLATFORM);
  assert.deepEqual(
    log.map((e) => [e.attempt, e.status, e.responseStatus]),
    [[2, "delivered", 200], [1, "retrying", 500]],
  );
  assert.ok(log[1].nextAttemptAt! > log[1].at, JSON.stringify(log[1]));
});

Deno.test("an endpoint that does not answer in time is a failed attempt, retried", async () => {
  await using receiver = startReceiver(["hang"], 200);
  await using world = await hookWorld(`${receiver.url}/hook`);
  world.delivery({ timeoutMs: 300, retryDelaysMs: FAST_RETRIES }).start();
  const id = await world.queue();
  const [first, second] = await receiver.waitFor(2, 10_000);
  assert.equal(first.id, id);
  assert.equal(second.id, id);
  await waitUntil(async () => await world.outboxSize() === 0);
  const log = await listDeliveries(world.kv, PLATFORM);
  assert.equal(log[1].status, "retrying");
  assert.equal(log[1].responseStatus, null);
  assert.match(log[1].error ?? "", /timed out/);
  assert.equal(log[0].status, "delivered");
});

Deno.test("a redirect is not followed: the 3xx is a failed attempt and its target is never called", async () => {
  await using receiver = startReceiver([{ redirect: "/elsewhere" }], 200);
  await using world = await hookWorld(`${receiver.url}/hook`);
  world.delivery({ retryDelaysMs: FAST_RETRIES }).start();
  await world.queue();
  await receiver.waitFor(2, 10_000);
  await waitUntil(async () => await world.outboxSize() === 0);
  assert.equal(receiver.hits("/elsewhere").length, 0, "the redirect was followed");
  const log = await listDeliveries(world.kv, PLATFORM);
  assert.deepEqual(log.map((e) => [e.status, e.responseStatus]), [
    ["delivered", 200],
    ["retrying", 302],
  ]);
});

Deno.test("a 503 or 429 with Retry-After waits at least that long before the next attempt", async () => {
  await using receiver = startReceiver([{ status: 503, headers: { "retry-after": "1" } }], 200);
  await using world = await hookWorld(`${receiver.url}/hook`);
  world.delivery({ retryDelaysMs: FAST_RETRIES }).start();
  await world.queue();
  const [first, second] = await receiver.waitFor(2, 10_000);
  assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms`);
});

Deno.test("after the last retry an event is given up: logged failed, removed from the outbox", async () => {
  await using receiver = startReceiver([], 503);
  await using world = await hookWorld(`${receiver.url}/hook`);
  // Events live 500 ms here: the second failure's next attempt would fall beyond that.
  world.delivery({ retryDelaysMs: [300], maxAgeMs: 500 }).start();
  await world.queue();
  await receiver.waitFor(2, 10_000);
  await waitUntil(async () => await world.outboxSize() === 0);
  const log = await listDeliveries(world.kv, PLATFORM);
  assert.deepEqual(log.map((e) => e.status), ["failed", "retrying"]);
});

Deno.test("events of a type the endpoint did not subscribe to, or of a platform without one, are dropped unsent", async () => {
  await using receiver = startReceiver();
  await using world = await hookWorld(`${receiver.url}/hook`, { events: ["usage.limit_reached"] });
  const loop = world.delivery();
  await world.queue("usage.near_limit");
  assert.equal(await loop.runPass(), 1);
  assert.equal(await world.outboxSize(), 0);
  assert.equal(receiver.received.length, 0);
  assert.deepEqual(await listDeliveries(world.kv, PLATFORM), []);
  assert.ok(world.logs.some((l) => l.includes("webhook skipped")), world.logs.join("\n"));
  // webhook.test is delivered whatever the subscription.
  await world.queue("webhook.test");
  await loop.runPass();
  assert.equal(receiver.hits().length, 1);
});

Deno.test("two delivery loops on one KV file attempt each event once per attempt", async () => {
  await using tmp = await tempKvPath();
  await using receiver = startReceiver();
  await using world = await hookWorld(`${receiver.url}/hook`, { kvPath: tmp.path });
  // A second handle on the same file: another process's view of the KV.
  const other = await Deno.openKv(tmp.path);
  try {
    const EVENTS = 40;
    const ids = new Set<string>();
    for (let i = 0; i < EVENTS; i++) ids.add(await world.queue("usage.near_limit", { i }));
    const a = world.delivery({ concurrency: 4, batch: 8 });
    const b = world.delivery({ concurrency: 4, batch: 8, kv: other });
    a.start();
    b.start();
    await receiver.waitFor(EVENTS, 20_000);
    await waitUntil(async () => await world.outboxSize() === 0);
    // Let any duplicate arrive before counting.
    await new Promise((r) => setTimeout(r, 300));
    const seen = receiver.hits().map((r) => r.id!);
    assert.equal(seen.length, EVENTS, `attempts: ${seen.length} for ${EVENTS} events`);
    assert.deepEqual(new Set(seen), ids);
  } finally {
    other.close();
  }
});

async function waitUntil(condition: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("the deliveries log keeps the newest 100 attempts of a platform", async () => {
  await using receiver = startReceiver();
  await using world = await hookWorld(`${receiver.url}/hook`);
  const loop = world.delivery({ concurrency: 8 });
  const ids: string[] = [];
  for (let i = 0; i < 130; i++) ids.push(await world.queue("usage.near_limit", { i }));
  while (await loop.runPass() > 0) { /* drain */ }
  assert.equal(receiver.hits().length, 130);
  const stored = [];
  for await (const e of world.kv.list({ prefix: keys.webhookDeliveries(PLATFORM) })) stored.push(e);
  assert.equal(stored.length, 100);
  const log = await listDeliveries(world.kv, PLATFORM);
  assert.equal(log.length, 100);
  assert.ok(log.every((e, i) => i === 0 || log[i - 1].at >= e.at), "newest first");
});

/**
 * `subscription.updated`: when an end-user's plan changes through Stripe, the event is in the
 * outbox, written by the same commit as the change (from/to are tier ids, status is Stripe's).
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { OutboxRecord } from "../../lib/kv/outbox.ts";
import { Webhook } from "standardwebhooks";
import { WebhookDelivery } from "../../lib/webhooks/delivery.ts";
import { founderHeaders } from "../_helpers/app.ts";
import { startWorld, subscribe } from "../billing/_world.ts";
import { startReceiver } from "./_receiver.ts";

async function outbox(kv: Deno.Kv): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  for await (const e of kv.list<OutboxRecord>({ prefix: keys.outboxAll() })) out.push(e.value);
  return out;
}

Deno.test("a checkout that moves an end-user to pro, then a cancel back to free, each queue subscription.updated once", async () => {
  await using world = await startWorld();
  const founder = await world.founder("user_sub_events", "sk_test_sub_events");
  const paid = await subscribe(world, founder, "u_1", "pro");

  let events = await outbox(world.t.kv);
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.equal(events[0].platformId, founder.platformId);
  assert.deepEqual(events[0].event.type, "subscription.updated");
  assert.deepEqual(events[0].event.data, {
    platformId: founder.platformId,
    userId: "u_1",
    from: "free",
    to: "pro",
    status: "active",
  });
  // Its due index was written with it.
  const due = await world.t.kv.get(keys.outboxDue(events[0].dueAt, events[0].id));
  assert.equal(due.value, events[0].id);

  await world.stripe.cancelSubscription(paid.subscription.id);
  const first = events[0].id;
  events = (await outbox(world.t.kv)).filter((e) => e.id !== first);
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.deepEqual(events[0].event.data, {
    platformId: founder.platformId,
    userId: "u_1",
    from: "pro",
    to: "free",
    status: "canceled",
  });
});

Deno.test("subscription.updated reaches the founder's endpoint, signed", async () => {
  await using receiver = startReceiver();
  await using world = await startWorld();
  const founder = await world.founder("user_sub_delivery", "sk_test_sub_delivery");
  const res = await world.t.app.request("/dashboard/api/webhooks", {
    method: "PUT",
    headers: {
      ...founderHeaders(await world.t.signIn(founder.userId)),
      "content-type": "application/json",
    },
    body: JSON.stringify({ url: `${receiver.url}/hook`, events: ["subscription.updated"] }),
  });
  const { secret } = await res.json();
  assert.equal(res.status, 201);
  await subscribe(world, founder, "u_2", "max");
  const loop = new WebhookDelivery({
    kv: world.t.kv,
    secrets: world.t.deps.secrets,
    log: world.t.deps.log,
    production: false,
  });
  assert.equal(await loop.runPass(), 1);
  const [got] = receiver.hits();
  const event = new Webhook(secret).verify(got.body, {
    "webhook-id": got.id!,
    "webhook-timestamp": got.timestamp!,
    "webhook-signature": got.signature!,
  }) as { type: string; data: Record<string, unknown> };
  assert.equal(event.type, "subscription.updated");
  assert.deepEqual(event.data, {
    platformId: founder.platformId,
    userId: "u_2",
    from: "free",
    to: "max",
    status: "active",
  });
});

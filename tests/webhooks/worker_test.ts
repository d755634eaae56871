/** The server's delivery start-up: a loop that delivers, and a minute cron where `Deno.cron` exists. */
import assert from "node:assert/strict";
import { parseConfig } from "../../fresh.config.ts";
import { startWebhookDelivery } from "../../lib/webhooks/worker.ts";
import { startReceiver } from "./_receiver.ts";
import { hookWorld } from "./_world.ts";

const config = parseConfig({ APP_ENV: "test", KV_PATH: ":memory:" });

Deno.test("startWebhookDelivery runs a loop that delivers what is queued, and stops", async () => {
  await using receiver = startReceiver();
  await using world = await hookWorld(`${receiver.url}/hook`);
  const loop = startWebhookDelivery({
    config,
    kv: world.kv,
    secrets: world.secrets,
    log: { log: () => {} },
  });
  try {
    const id = await world.queue();
    loop.wake();
    const [got] = await receiver.waitFor(1, 5_000);
    assert.equal(got.id, id);
  } finally {
    await loop.stop();
  }
});

Deno.test("where the runtime offers Deno.cron (Deno Deploy), a minute cron runs delivery passes", async () => {
  await using receiver = startReceiver();
  await using world = await hookWorld(`${receiver.url}/hook`);
  const registered: { name: string; schedule: string; handler: () => Promise<void> }[] = [];
  const deno = Deno as unknown as { cron?: unknown };
  const before = deno.cron;
  deno.cron = (name: string, schedule: string, handler: () => Promise<void>) => {
    registered.push({ name, schedule, handler });
  };
  const loop = (() => {
    try {
      return startWebhookDelivery({
        config,
        kv: world.kv,
        secrets: world.secrets,
        log: { log: () => {} },
      });
    } finally {
      deno.cron = before;
    }
  })();
  // An isolate whose timers do not run: only the cron's pass delivers.
  await loop.stop();
  try {
    assert.equal(registered.length, 1);
    assert.equal(registered[0].schedule, "* * * * *");
    const id = await world.queue();
    await registered[0].handler();
    assert.deepEqual(receiver.hits().map((r) => r.id), [id]);
    assert.equal(await world.outboxSize(), 0);
  } finally {
    await loop.stop();
  }
});

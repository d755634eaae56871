/**
 * A separate process on a webhook world's KV file, for the crash and multi-process tests.
 * `deno run -A _loop_worker.ts <kvPath> <masterKey> queue`: commits one event, prints
 * `committed <id>`, then idles until killed. `… loop <leaseMs>`: runs a delivery loop, printing
 * `started`, until killed.
 */
import { createSecretBox } from "../../lib/crypto/secrets.ts";
import { createLogger } from "../../lib/log.ts";
import { queueEvent } from "../../lib/kv/outbox.ts";
import { WebhookDelivery } from "../../lib/webhooks/delivery.ts";
import { PLATFORM } from "./_world.ts";

const [kvPath, masterKey, mode, leaseMs] = Deno.args;
const kv = await Deno.openKv(kvPath);
if (mode === "queue") {
  const op = kv.atomic();
  const id = queueEvent(op, PLATFORM, {
    type: "usage.limit_reached",
    timestamp: new Date().toISOString(),
    data: { platformId: PLATFORM, userId: "u1" },
  }, Date.now());
  await op.commit();
  console.log(`committed ${id}`);
} else {
  const loop = new WebhookDelivery({
    kv,
    secrets: await createSecretBox(masterKey),
    log: createLogger({ write: () => {} }),
    production: false,
    pollMs: 50,
    leaseMs: Number(leaseMs ?? 30_000),
  });
  loop.start();
  console.log("started");
}
setInterval(() => {}, 60_000);

/**
 * `deno task start` with WORKERS > 1 (serve.ts runs it): one process serving from WORKERS HTTP
 * isolates of `main.ts` on one port, and this isolate, which owns the usage meter and the founders'
 * webhook loop (lib/cluster/isolates.ts). One meter for the machine keeps one group commit and one
 * cache of counts, so the isolates never contend for the KV file's write lock; the HTTP work spreads
 * over the cores. SIGTERM or SIGINT drains every isolate, then commits what the meter holds, exits 0.
 */
import { readConfigOrExit } from "./fresh.config.ts";
import { recordingMeter } from "./lib/analytics/recorder.ts";
import { isolateGroup } from "./lib/cluster/isolates.ts";
import { listenForStop, supervise } from "./lib/cluster/supervise.ts";
import { createSecretBox, loadOrCreateDevEncryptionKey } from "./lib/crypto/secrets.ts";
import { KvOpenError, openKvPair } from "./lib/kv/open.ts";
import { createLogger } from "./lib/log.ts";
import { DEV_FILES } from "./lib/startup.ts";
import { startWebhookDelivery } from "./lib/webhooks/worker.ts";

const MAIN = new URL("./main.ts", import.meta.url);
const log = createLogger();
const config = readConfigOrExit();

// Listening before any isolate exists, as serve.ts does: a signal while they start still drains them.
const stop = listenForStop();

const { kv, reads } = await openKvPair(config.kvPath).catch((error) => {
  if (!(error instanceof KvOpenError)) throw error;
  console.error(error.message);
  return Deno.exit(1);
});
const meter = recordingMeter(kv, reads);
const secrets = await createSecretBox(
  config.encryptionKey ?? await loadOrCreateDevEncryptionKey(DEV_FILES.encryptionKey),
);
const webhooks = startWebhookDelivery({ config, kv, secrets, log });

let code = 0;
if (!stop.signal) {
  const isolates = isolateGroup({ main: MAIN, meter, wake: () => webhooks.wake() });
  const cluster = supervise({ workers: config.workers, spawn: isolates.spawn, log });
  stop.attach(cluster);
  code = await cluster.done;
}
// Every isolate has answered what it took: commit what the meter still holds, then close.
const { heapUsed, heapTotal } = Deno.memoryUsage();
log.log("info", "meter host stopping", { heapUsed, heapTotal, code });
await webhooks.stop();
await meter.close();
kv.close();
if (reads !== kv) reads.close();
Deno.exit(code);

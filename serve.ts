/**
 * `deno task start`: runs the server as a child process it keeps up (lib/cluster/supervise.ts):
 * `main.ts` for WORKERS=1, `host.ts` for more (WORKERS HTTP isolates in one process around one
 * meter). Its own arguments go to the child's `deno run` (e.g. `--v8-flags=…`). SIGTERM or SIGINT
 * drains the child and exits 0 once it has; a child that dies is replaced.
 */
import { fileURLToPath } from "node:url";
import { readConfigOrExit } from "./fresh.config.ts";
import { devSignInEnabled, loadDevKeyPair } from "./lib/auth/clerk.ts";
import { clusterRefusal, listenForStop, supervise } from "./lib/cluster/supervise.ts";
import { loadOrCreateDevEncryptionKey } from "./lib/crypto/secrets.ts";
import { createLogger } from "./lib/log.ts";
import { DEV_FILES } from "./lib/startup.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const HOST = fileURLToPath(new URL("./host.ts", import.meta.url));
const log = createLogger();

const config = readConfigOrExit();
const refusal = clusterRefusal(config);
if (refusal) {
  console.error(refusal);
  Deno.exit(1);
}

const stop = listenForStop();

let workers = config.workers;
// Development without Stripe settings starts a local Stripe on one port: one process holds it.
if (config.appEnv === "development" && !config.stripe.secretKey && !config.stripe.apiUrl) {
  workers = 1;
}
if (workers > 1) {
  // Create the development keys once, here, so the isolates all read the same ones.
  if (!config.encryptionKey) await loadOrCreateDevEncryptionKey(DEV_FILES.encryptionKey);
  if (devSignInEnabled(config)) await loadDevKeyPair(DEV_FILES.sessionKeyPair);
}

const spawn = () =>
  new Deno.Command(Deno.execPath(), {
    // `reusePort` (host.ts's isolates share a port) is still behind --unstable-net in Deno 2.9.
    args: ["run", "-A", "--unstable-net", ...Deno.args, workers > 1 ? HOST : MAIN],
    // The environment is inherited (host.ts reads WORKERS from it).
    env: { WORKERS: String(workers) },
    stdin: "null",
  }).spawn();
if (stop.signal) {
  log.log("info", "dream-api stopped", { code: 0, signal: stop.signal });
  Deno.exit(0);
}
log.log("info", "dream-api starting workers", { workers, port: config.port });
const cluster = supervise({ workers: 1, spawn, log });
stop.attach(cluster);
const code = await cluster.done;
log.log(code === 0 ? "info" : "error", "dream-api stopped", { code });
Deno.exit(code);

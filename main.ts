/** dream-api's entry point: read the config, open KV, build the app, serve, drain on shutdown. */
import { type Config, readConfig, readConfigOrExit } from "./fresh.config.ts";
import { recordingMeter } from "./lib/analytics/recorder.ts";
import { SnapshotCache } from "./lib/analytics/snapshot.ts";
import { createApp } from "./lib/app.ts";
import { clusterHost } from "./lib/cluster/isolates.ts";
import { createFounderAuth, devSignInEnabled, loadDevKeyPair } from "./lib/auth/clerk.ts";
import { TenantCache } from "./lib/auth/tenant_cache.ts";
import { EndUserPlanCache } from "./lib/billing/end_user_plans.ts";
import { createStripeFactory } from "./lib/billing/stripe_client.ts";
import { createSecretBox, loadOrCreateDevEncryptionKey } from "./lib/crypto/secrets.ts";
import { bodyBudgetFromHeap } from "./lib/http/body_budget.ts";
import { KvOpenError, openKvPair } from "./lib/kv/open.ts";
import { createLogger } from "./lib/log.ts";
import { DEV_FILES, portInUseMessage, startupMessage } from "./lib/startup.ts";
import { type Meter, UsageMeter } from "./lib/usage/meter.ts";
import { RemoteMeter } from "./lib/usage/remote_meter.ts";
import { startWebhookDelivery } from "./lib/webhooks/worker.ts";

const log = createLogger();

// One of host.ts's HTTP isolates (WORKERS > 1): the host owns the meter and the webhook loop, and
// drains this isolate on a signal; it exits through the host, as Deno.exit here ends this isolate.
const host = clusterHost();
const exit: (code: number) => never = (code) => host ? host.exit(code) : Deno.exit(code);

let config: Config = readConfigOrExit();

// Development without Stripe settings: a local Stripe-compatible server plays dream-api's Stripe
// (dev/stripe). Never in production; the dynamic import keeps dev code out of it entirely.
let localStripe: { close(): Promise<void> } | undefined;
if (config.appEnv === "development" && !config.stripe.secretKey && !config.stripe.apiUrl) {
  const { bootstrapLocalStripe } = await import("./dev/stripe/bootstrap.ts");
  const local = await bootstrapLocalStripe({
    publicUrl: config.publicUrl,
    port: config.localStripePort,
  }).catch((error) => {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    console.error(portInUseMessage("localStripe", config.localStripePort));
    exit(1);
  });
  localStripe = local;
  config = readConfig({
    STRIPE_API_URL: local.apiUrl,
    STRIPE_SECRET_KEY: local.secretKey,
    STRIPE_PRICE_ID: local.priceId,
    STRIPE_WEBHOOK_SECRET: local.webhookSecret,
    // Stripe Connect against the local Stripe's OAuth application and Connect endpoint.
    STRIPE_CONNECT_CLIENT_ID: local.connectClientId,
    STRIPE_CONNECT_WEBHOOK_SECRET: local.connectWebhookSecret,
    STRIPE_CONNECT_URL: local.connectUrl,
  });
  log.log("info", "local Stripe listening", { url: local.apiUrl });
}

// Two handles: commits, and the hot path's reads (which would otherwise wait behind an fsync).
const { kv, reads } = await openKvPair(config.kvPath).catch((error) => {
  if (!(error instanceof KvOpenError)) throw error;
  console.error(error.message);
  return exit(1);
});
// Usage analytics ride in the meter's own commits (no extra round trip on the hot path).
// In an HTTP isolate, counts go to the host's meter, and reads to one of this isolate's own.
const meter: Meter = host
  ? new RemoteMeter(host.channel, new UsageMeter(kv, { reads }))
  : recordingMeter(kv, reads);
// In an HTTP isolate, a cache entry dropped here (a change made through it) is dropped by its
// siblings too: the whole process sees the change at once.
const tenants = new TenantCache(reads, {
  ttlMs: config.cacheTtlMs,
  onForget: host ? (platformId) => host.share({ cache: "tenants", platformId }) : undefined,
});
const endUserPlans = new EndUserPlanCache(reads, {
  ttlMs: config.cacheTtlMs,
  onForget: host
    ? (platformId, userId) => host.share({ cache: "endUserPlans", platformId, userId })
    : undefined,
});
host?.onShared((forget) =>
  forget.cache === "tenants"
    ? tenants.forget(forget.platformId)
    : endUserPlans.forget(forget.platformId, forget.userId)
);
const stripeFor = createStripeFactory({ apiUrl: config.stripe.apiUrl });
// Development keeps its generated keys under .data/ so sessions and sealed secrets survive restarts;
// production has ENCRYPTION_KEY and Clerk (fresh.config.ts refuses to start without them).
const secrets = await createSecretBox(
  config.encryptionKey ?? await loadOrCreateDevEncryptionKey(DEV_FILES.encryptionKey),
);
const { verifySession, devSigner } = createFounderAuth(config, {
  devKeyPair: devSignInEnabled(config) ? await loadDevKeyPair(DEV_FILES.sessionKeyPair) : undefined,
});
// Founders' webhooks: this process's delivery loop (every process runs one; leases keep them apart),
// or, in an HTTP isolate, the host's, woken after this isolate queues.
const webhooks = host
  ? { wake: host.wake, stop: () => Promise.resolve() }
  : startWebhookDelivery({ config, kv, secrets, log });
const app = createApp({
  config,
  kv,
  meter,
  tenants,
  log,
  now: () => new Date(),
  stripeFor,
  verifySession,
  devSigner,
  secrets,
  usageSnapshots: new SnapshotCache({ kvPath: config.kvPath }),
  endUserPlans,
  // One per process: sized from this process's V8 heap limit (lib/http/body_budget.ts).
  bodyBudget: bodyBudgetFromHeap(),
  webhooks,
});

// Asked to stop while starting: it has taken nothing, so it ends here, as a process would have
// ended of the signal.
if (host?.stopAsked) exit(0);

let server: Deno.HttpServer;
try {
  server = Deno.serve({
    port: config.port,
    // host.ts's HTTP isolates share one port; the kernel spreads connections among them (Linux).
    reusePort: host !== null,
    onListen: ({ port }) => {
      log.log("info", "dream-api listening", {
        port,
        pid: Deno.pid,
        ...(host ? { isolate: host.number } : {}),
        env: config.appEnv,
        kv: config.kvPath ?? "deploy",
      });
      if (host && host.number !== 1) return; // host.ts's first isolate prints it for all
      console.log(startupMessage({
        url: config.port === 0 ? `http://localhost:${port}` : config.publicUrl,
        devSignIn: devSigner !== null,
        localStripeUrl: localStripe && config.stripe.apiUrl,
      }));
    },
  }, app.fetch);
} catch (error) {
  if (!(error instanceof Deno.errors.AddrInUse)) throw error;
  console.error(portInUseMessage("server", config.port));
  await localStripe?.close();
  exit(1);
}

// Stop accepting, commit and answer what the meter holds, then exit.
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  // This isolate's heap as it stops (bench/workers.ts reads it per worker; RSS is in /proc).
  const { heapUsed, heapTotal } = Deno.memoryUsage();
  log.log("info", "shutting down", { signal, heapUsed, heapTotal });
  await server.shutdown();
  await webhooks.stop();
  await localStripe?.close();
  await meter.close();
  kv.close();
  if (reads !== kv) reads.close();
  exit(0);
}
if (host) host.onStop((signal) => void shutdown(signal));
else {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void shutdown(signal));
  }
}

/** dream-api's entry point: read the config, open KV, build the app, serve, drain on shutdown. */
import { type Config, readConfig, readConfigOrExit } from "./fresh.config.ts";
import { UsageRecorder } from "./lib/analytics/recorder.ts";
import { SnapshotCache } from "./lib/analytics/snapshot.ts";
import { createApp } from "./lib/app.ts";
import { createFounderAuth, devSignInEnabled, loadDevKeyPair } from "./lib/auth/clerk.ts";
import { TenantCache } from "./lib/auth/tenant_cache.ts";
import { EndUserPlanCache } from "./lib/billing/end_user_plans.ts";
import { createStripeFactory } from "./lib/billing/stripe_client.ts";
import { createSecretBox, loadOrCreateDevEncryptionKey } from "./lib/crypto/secrets.ts";
import { bodyBudgetFromHeap } from "./lib/http/body_budget.ts";
import { KvOpenError, openKv } from "./lib/kv/open.ts";
import { createLogger } from "./lib/log.ts";
import { DEV_FILES, portInUseMessage, startupMessage } from "./lib/startup.ts";
import { UsageMeter } from "./lib/usage/meter.ts";
import { startWebhookDelivery } from "./lib/webhooks/worker.ts";

const log = createLogger();

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
    Deno.exit(1);
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

let kv: Deno.Kv, reads: Deno.Kv;
try {
  kv = await openKv(config.kvPath);
  // A second handle for the hot path's reads: a handle runs its operations in turn, so on a KV
  // file a read would wait behind a commit's fsync. (`:memory:` opened twice is two databases.)
  reads = config.kvPath === ":memory:" ? kv : await openKv(config.kvPath);
} catch (error) {
  if (!(error instanceof KvOpenError)) throw error;
  console.error(error.message);
  Deno.exit(1);
}
// Usage analytics ride in the meter's own commits (no extra round trip on the hot path).
const recorder = new UsageRecorder({ now: () => new Date() });
const meter = new UsageMeter(kv, { ...recorder.meterOptions(), reads });
const tenants = new TenantCache(reads, { ttlMs: config.cacheTtlMs });
const stripeFor = createStripeFactory({ apiUrl: config.stripe.apiUrl });
// Development keeps its generated keys under .data/ so sessions and sealed secrets survive restarts;
// production has ENCRYPTION_KEY and Clerk (fresh.config.ts refuses to start without them).
const secrets = await createSecretBox(
  config.encryptionKey ?? await loadOrCreateDevEncryptionKey(DEV_FILES.encryptionKey),
);
const { verifySession, devSigner } = createFounderAuth(config, {
  devKeyPair: devSignInEnabled(config) ? await loadDevKeyPair(DEV_FILES.sessionKeyPair) : undefined,
});
// Founders' webhooks: this process's delivery loop (every process runs one; leases keep them apart).
const webhooks = startWebhookDelivery({ config, kv, secrets, log });
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
  endUserPlans: new EndUserPlanCache(reads, { ttlMs: config.cacheTtlMs }),
  // One per process: sized from this process's V8 heap limit (lib/http/body_budget.ts).
  bodyBudget: bodyBudgetFromHeap(),
  webhooks,
});

let server: Deno.HttpServer;
try {
  server = Deno.serve({
    port: config.port,
    // serve.ts's workers share one port; the kernel spreads connections among them (Linux).
    reusePort: config.sharedPort,
    onListen: ({ port }) => {
      log.log("info", "dream-api listening", {
        port,
        pid: Deno.pid,
        env: config.appEnv,
        kv: config.kvPath ?? "deploy",
      });
      if (!config.startBanner) return; // serve.ts's first worker prints it for all
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
  Deno.exit(1);
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
  Deno.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => void shutdown(signal));
}

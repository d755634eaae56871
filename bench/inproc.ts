/**
 * dream-api's CPU per request with no HTTP and no wrk: the app wired as `main.ts` wires it (a KV
 * file, a second handle for reads, the meter with the analytics recorder, the caches, the body
 * budget) and driven in this process by `--concurrency` loops calling its fetch handler, so nothing
 * else on the machine competes for the figure but the scheduler. CPU is utime + stime of every
 * thread of this process (/proc/self) over the measured requests ÷ requests; the driver's own
 * cost (building each `Request`, reading each answer) is measured the same way against a constant
 * answer and reported beside it, so `net` is the app's own work.
 *
 * Run by `deno task bench:cpu --inproc` (one child per run, each with `deno task start`'s V8 flags
 * unless told otherwise); alone: `deno run -A bench/inproc.ts --scenario spread --requests 100000`.
 * Prints one JSON line.
 */
import { parseArgs } from "node:util";
import { readConfig } from "../fresh.config.ts";
import { recordingMeter } from "../lib/analytics/recorder.ts";
import { SnapshotCache } from "../lib/analytics/snapshot.ts";
import { createApp } from "../lib/app.ts";
import { createFounderAuth, generateDevKeyPair } from "../lib/auth/clerk.ts";
import { TenantCache } from "../lib/auth/tenant_cache.ts";
import { EndUserPlanCache } from "../lib/billing/end_user_plans.ts";
import { createStripeFactory } from "../lib/billing/stripe_client.ts";
import { createSecretBox, generateEncryptionKey } from "../lib/crypto/secrets.ts";
import { bodyBudgetFromHeap } from "../lib/http/body_budget.ts";
import { openKvPair } from "../lib/kv/open.ts";
import { createLogger } from "../lib/log.ts";
import { makePlatform, processCpu, threadCpu, threadRole } from "./_bench.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    scenario: { type: "string", default: "spread" },
    requests: { type: "string", default: "100000" },
    warmup: { type: "string", default: "30000" },
    concurrency: { type: "string", default: "50" },
    users: { type: "string", default: "10000" },
    kv: { type: "string" },
  },
});
const SCENARIO = flags.values.scenario as "spread" | "hot" | "usage" | "driver";
const REQUESTS = Number(flags.values.requests);
const WARMUP = Number(flags.values.warmup);
const CONCURRENCY = Number(flags.values.concurrency);
const USERS = SCENARIO === "hot" ? 1 : Number(flags.values.users);

type Fetch = (req: Request) => Response | Promise<Response>;

/** The app as main.ts builds it, on the KV file at `kvPath` (bench/parallel.ts serves it too). */
export async function buildApp(kvPath: string): Promise<{ fetch: Fetch; close(): Promise<void> }> {
  const config = readConfig({ APP_ENV: "test", KV_PATH: kvPath });
  const { kv, reads } = await openKvPair(kvPath);
  const meter = recordingMeter(kv, reads);
  const { verifySession, devSigner } = createFounderAuth(config, {
    devKeyPair: await generateDevKeyPair(),
  });
  const app = createApp({
    config,
    kv,
    meter,
    tenants: new TenantCache(reads, { ttlMs: config.cacheTtlMs }),
    log: createLogger(),
    now: () => new Date(),
    stripeFor: createStripeFactory({ apiUrl: config.stripe.apiUrl }),
    verifySession,
    devSigner,
    secrets: await createSecretBox(generateEncryptionKey()),
    usageSnapshots: new SnapshotCache({ kvPath }),
    endUserPlans: new EndUserPlanCache(reads, { ttlMs: config.cacheTtlMs }),
    bodyBudget: bodyBudgetFromHeap(),
  });
  return {
    fetch: (req) => app.fetch(req),
    async close() {
      await meter.close();
      kv.close();
      reads.close();
    },
  };
}

/** A constant answer of the hot routes' shape: what the driver costs with no app behind it. */
const CONSTANT = JSON.stringify({
  success: true,
  usage: { count: 1, limit: null, remaining: null },
  plan: "free",
  planSource: "default",
  period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
});
const driverOnly: Fetch = () =>
  new Response(CONSTANT, { headers: { "content-type": "application/json" } });

/** `total` requests from `CONCURRENCY` loops; the statuses seen. */
async function drive(
  fetch: Fetch,
  apiKey: string,
  prefix: string,
  total: number,
): Promise<Map<number, number>> {
  const method = SCENARIO === "usage" ? "GET" : "POST";
  const url = SCENARIO === "usage" ? "http://bench/api/usage" : "http://bench/api/data";
  const auth = `Bearer ${apiKey}`;
  const statuses = new Map<number, number>();
  let sent = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (sent < total) {
      const user = prefix + (sent++ % USERS + 1);
      const res = await fetch(
        new Request(url, { method, headers: { authorization: auth, "x-user-id": user } }),
      );
      await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }));
  return statuses;
}

async function main() {
  const dir = await Deno.makeTempDir({ prefix: "dream-inproc-" });
  try {
    const kvPath = flags.values.kv ?? `${dir}/bench.kv`;
    const { apiKey } = await makePlatform(kvPath, 10_000);
    const app = SCENARIO === "driver"
      ? { fetch: driverOnly, close: () => Promise.resolve() }
      : await buildApp(kvPath);
    const prefix = `${SCENARIO}-${crypto.randomUUID().slice(0, 8)}-`;
    await drive(app.fetch, apiKey, prefix, WARMUP);
    const pid = Deno.pid;
    const beforeAll = await processCpu(pid);
    const before = await threadCpu(pid);
    const started = performance.now();
    const statuses = await drive(app.fetch, apiKey, prefix, REQUESTS);
    const ms = performance.now() - started;
    const after = await threadCpu(pid);
    const afterAll = await processCpu(pid);
    const roles: Record<string, number> = {};
    for (const [tid, t] of after) {
      const role = threadRole(t.name, tid === String(pid));
      roles[role] = (roles[role] ?? 0) + (t.us - (before.get(tid)?.us ?? 0)) / REQUESTS;
    }
    const heap = Deno.memoryUsage();
    await app.close();
    console.log(JSON.stringify({
      scenario: SCENARIO,
      requests: REQUESTS,
      statuses: Object.fromEntries(statuses),
      usPerRequest: (afterAll - beforeAll) / REQUESTS,
      roles,
      wallMs: ms,
      heapUsedMiB: heap.heapUsed / 2 ** 20,
      rssMiB: heap.rss / 2 ** 20,
    }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();

/** Test fixtures: a real app over a real (in-memory or temp-file) Deno KV, a fixed clock, a platform. */
import { parseConfig } from "../../fresh.config.ts";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { SnapshotCache } from "../../lib/analytics/snapshot.ts";
import { createApp, type Deps } from "../../lib/app.ts";
import { createFounderAuth, type DevSigner, generateDevKeyPair } from "../../lib/auth/clerk.ts";
import { TenantCache } from "../../lib/auth/tenant_cache.ts";
import { EndUserPlanCache } from "../../lib/billing/end_user_plans.ts";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { bodyBudgetFromHeap } from "../../lib/http/body_budget.ts";
import { createSecretBox, generateEncryptionKey } from "../../lib/crypto/secrets.ts";
import {
  putFounderSubscription,
  type SubscriptionStatus,
} from "../../lib/kv/founder_subscriptions.ts";
import { createPlatform } from "../../lib/kv/platforms.ts";
import { setTiers } from "../../lib/kv/tiers.ts";
import { createLogger, type LogLevel } from "../../lib/log.ts";
import type { TierInput } from "../../lib/schemas/tiers.ts";
import { UsageMeter } from "../../lib/usage/meter.ts";

export const TEST_TIERS: TierInput[] = [
  { id: "free", name: "Free", price: 0, limit: 100, period: "month" },
  { id: "pro", name: "Pro", price: 29, limit: 1000, period: "month" },
  { id: "daily", name: "Daily", price: 0, limit: 5, period: "day" },
  { id: "unlimited", name: "Unlimited", price: 99, limit: null, period: "month" },
];

export interface TestApp extends AsyncDisposable {
  app: ReturnType<typeof createApp>;
  deps: Deps;
  kv: Deno.Kv;
  /** Moves the app's clock. */
  setNow(date: Date): void;
  /** Log lines written during the test. */
  logs: string[];
  /** A development session token for `userId` (signed at the app's clock; throws when Clerk is configured). */
  signIn(userId: string): Promise<string>;
  /** The development signer (`null` when the env configures Clerk). */
  devSigner: DevSigner | null;
}

// One RSA key pair per test process: generating one per app would make every test slower.
let devKeyPair: Promise<CryptoKeyPair> | undefined;

/** A fresh app on a fresh `:memory:` KV (or `kvPath`), with a settable clock. */
export async function testApp(
  options: {
    kvPath?: string;
    env?: Record<string, string>;
    deps?: Partial<Deps>;
    /** `false`: the metered routes go through Hono too (see `createApp`). */
    hotRoutes?: boolean;
  } = {},
): Promise<TestApp> {
  const config = parseConfig({ APP_ENV: "test", KV_PATH: ":memory:", ...options.env });
  const kv = await Deno.openKv(options.kvPath ?? ":memory:");
  let now = new Date("2026-11-15T12:00:00.000Z");
  const logs: string[] = [];
  const log = createLogger({ min: "debug" as LogLevel, write: (line) => logs.push(line) });
  // Analytics recorded in the meter's commits, as in main.ts; snapshots never cached in tests.
  const meter = new UsageMeter(kv, new UsageRecorder({ now: () => now }).meterOptions());
  const tenants = new TenantCache(kv, { ttlMs: config.cacheTtlMs, now: () => now.getTime() });
  const { verifySession, devSigner } = createFounderAuth(config, {
    devKeyPair: await (devKeyPair ??= generateDevKeyPair()),
    now: () => now,
  });
  const deps: Deps = {
    config,
    kv,
    meter,
    tenants,
    log,
    now: () => now,
    stripeFor: createStripeFactory({ apiUrl: config.stripe.apiUrl }),
    verifySession,
    devSigner,
    secrets: await createSecretBox(generateEncryptionKey()),
    endUserPlans: new EndUserPlanCache(kv, { ttlMs: config.cacheTtlMs, now: () => now.getTime() }),
    usageSnapshots: new SnapshotCache({ freshMs: 0, staleMs: 0 }),
    bodyBudget: bodyBudgetFromHeap(),
    ...options.deps,
  };
  return {
    app: createApp(deps, { hotRoutes: options.hotRoutes }),
    deps,
    kv,
    logs,
    devSigner: deps.devSigner,
    signIn(userId) {
      if (!deps.devSigner) {
        throw new Error("signIn needs development sign-in (no Clerk key in env)");
      }
      return deps.devSigner.sign(userId);
    },
    setNow(date) {
      now = date;
    },
    async [Symbol.asyncDispose]() {
      await meter.close();
      kv.close();
    },
  };
}

/** Creates a platform with `TEST_TIERS` (or `tiers`), owned by `ownerId` if given; its id and key. */
export async function seedPlatform(
  kv: Deno.Kv,
  tiers: TierInput[] = TEST_TIERS,
  name = "Acme",
  ownerId?: string,
): Promise<{ platformId: string; apiKey: string }> {
  const { platform, apiKey } = await createPlatform(kv, { name, ownerId, mode: "test" });
  await setTiers(kv, platform.id, tiers);
  return { platformId: platform.id, apiKey };
}

/** A founder `userId` who paid and owns a platform with `TEST_TIERS` (or `tiers`). */
export async function seedPaidFounder(
  kv: Deno.Kv,
  userId: string,
  tiers: TierInput[] = TEST_TIERS,
): Promise<{ platformId: string; apiKey: string }> {
  await payFounder(kv, userId);
  return await seedPlatform(kv, tiers, "Acme", userId);
}

/** Headers of a tenant-API call. */
export function tenantHeaders(
  apiKey: string,
  userId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { authorization: `Bearer ${apiKey}`, "x-user-id": userId, ...extra };
}

/** Reads a response as JSON after asserting it is JSON; the text goes into failure messages. */
// deno-lint-ignore no-explicit-any
export async function json(res: Response): Promise<{ status: number; body: any; text: string }> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`expected JSON, got ${res.status} ${res.headers.get("content-type")}: ${text}`);
  }
  return { status: res.status, body, text };
}

/** Headers of a founder's JSON-API call: Bearer by default, or the `__session` cookie with our Origin. */
export function founderHeaders(
  token: string,
  options: { via?: "bearer" | "cookie"; origin?: string; extra?: Record<string, string> } = {},
): Record<string, string> {
  const base: Record<string, string> = options.via === "cookie"
    ? { cookie: `__session=${token}`, origin: options.origin ?? "http://localhost:8000" }
    : { authorization: `Bearer ${token}` };
  return { ...base, ...options.extra };
}

/** Makes a founder's own dream-api subscription `status` (default `active`), as a webhook would. */
export async function payFounder(
  kv: Deno.Kv,
  userId: string,
  status: SubscriptionStatus = "active",
): Promise<void> {
  await putFounderSubscription(kv, userId, { status });
}

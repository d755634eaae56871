/** Fixtures of the analytics tests: a paid founder with a platform, and tenant-API calls. */
import type { TierInput } from "../../lib/schemas/tiers.ts";
import { periodOf } from "../../lib/usage/period.ts";
import {
  founderHeaders,
  seedPaidFounder,
  tenantHeaders,
  TEST_TIERS,
  type TestApp,
} from "../_helpers/app.ts";

export interface Founder {
  userId: string;
  platformId: string;
  apiKey: string;
  /** Bearer headers of the founder's session. */
  headers: Record<string, string>;
}

/** A founder who paid and owns a platform with `tiers` (default `TEST_TIERS`). */
export async function paidFounderWithPlatform(
  t: TestApp,
  tiers: TierInput[] = TEST_TIERS,
): Promise<Founder> {
  const userId = `user_${crypto.randomUUID().slice(0, 8)}`;
  const { platformId, apiKey } = await seedPaidFounder(t.kv, userId, tiers);
  return { userId, platformId, apiKey, headers: founderHeaders(await t.signIn(userId)) };
}

/** `POST /api/data` for an end-user; answers the status. */
export async function track(
  t: TestApp,
  apiKey: string,
  userId: string,
  options: { amount?: number; plan?: string; idempotencyKey?: string } = {},
): Promise<number> {
  const headers = tenantHeaders(apiKey, userId, { "content-type": "application/json" });
  if (options.plan) headers["x-user-plan"] = options.plan;
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  const res = await t.app.request("/api/data", {
    method: "POST",
    headers,
    body: JSON.stringify({ amount: options.amount ?? 1 }),
  });
  await res.body?.cancel();
  return res.status;
}

/**
 * Counts straight through the app's meter (no HTTP): seeds many end-users quickly, recorded like
 * any call. `plan` must be a monthly tier of `TEST_TIERS` unless `unit` says otherwise.
 */
export async function seedCounts(
  t: TestApp,
  platformId: string,
  users: {
    userId: string;
    count: number;
    plan: string;
    limit: number | null;
    unit?: "month" | "day";
  }[],
): Promise<void> {
  const now = t.deps.now();
  for (let i = 0; i < users.length; i += 2000) {
    await Promise.all(
      users.slice(i, i + 2000).map((u) =>
        t.deps.meter.count({
          platformId,
          userId: u.userId,
          plan: u.plan,
          period: periodOf(u.unit ?? "month", now),
          limit: u.limit,
          amount: u.count,
        })
      ),
    );
  }
}

/** `GET` a founders'-API path with the founder's session. */
export async function get(t: TestApp, founder: Founder, path: string): Promise<Response> {
  return await t.app.request(path, { headers: founder.headers });
}

/** `POST` JSON to a founders'-API path with the founder's session. */
export async function post(
  t: TestApp,
  founder: Founder,
  path: string,
  body: unknown,
): Promise<Response> {
  return await t.app.request(path, {
    method: "POST",
    headers: { ...founder.headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

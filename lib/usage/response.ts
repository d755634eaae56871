/** The tenant API's usage answer: body shape and `RateLimit-*` / `Retry-After` headers. */
import type { CountResult } from "./meter.ts";

export interface UsageBody {
  success: boolean;
  usage: { count: number; limit: number | null; remaining: number | null };
  plan: string;
  planSource: string;
  period: { start: string; end: string };
  /** the feature counted or read; absent for the main meter (the answer is then as before features) */
  feature?: string;
  /** `GET /api/usage`: every feature of the tier */
  features?: Record<string, UsageNumbers | { enabled: boolean }>;
}

/** A counter's usage as answered. */
export interface UsageNumbers {
  count: number;
  limit: number | null;
  remaining: number | null;
}

/** The usage part of a 200 or 429 answer (`feature`: the feature counted, last in the body). */
export function usageBody(result: CountResult, planSource: string, feature?: string): UsageBody {
  const body: UsageBody = {
    success: result.ok,
    usage: usageNumbers(result.count, result.limit),
    plan: result.plan,
    planSource,
    period: result.period,
  };
  if (feature !== undefined) body.feature = feature;
  return body;
}

/** `{ count, limit, remaining }`: `remaining` never below 0, `null` when unlimited. */
export function usageNumbers(count: number, limit: number | null): UsageNumbers {
  return { count, limit, remaining: limit === null ? null : Math.max(0, limit - count) };
}

/** `RateLimit-*` headers (limit and remaining only for limited tiers) and `Retry-After` on refusal. */
export function usageHeaders(result: CountResult, now: Date): Record<string, string> {
  const reset = Math.max(1, Math.ceil((Date.parse(result.period.end) - now.getTime()) / 1000));
  const headers: Record<string, string> = { "RateLimit-Reset": String(reset) };
  if (result.limit !== null) {
    headers["RateLimit-Limit"] = String(result.limit);
    headers["RateLimit-Remaining"] = String(Math.max(0, result.limit - result.count));
  }
  if (!result.ok) headers["Retry-After"] = String(reset);
  return headers;
}

/** The tenant API's usage answer: body shape and `RateLimit-*` / `Retry-After` headers. */
import type { CountResult } from "./meter.ts";

export interface UsageBody {
  success: boolean;
  usage: { count: number; limit: number | null; remaining: number | null };
  plan: string;
  planSource: string;
  period: { start: string; end: string };
}

/** The usage part of a 200 or 429 answer. */
export function usageBody(result: CountResult, planSource: string): UsageBody {
  return {
    success: result.ok,
    usage: {
      count: result.count,
      limit: result.limit,
      remaining: result.limit === null ? null : Math.max(0, result.limit - result.count),
    },
    plan: result.plan,
    planSource,
    period: result.period,
  };
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

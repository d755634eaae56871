/**
 * The founders' usage events (`usage.near_limit`, `usage.limit_reached`) as they are queued in the
 * outbox (lib/kv/outbox.ts) by the meter's commit that crosses the threshold.
 */
import type { FounderEvent } from "../kv/outbox.ts";
import type { CountRequest, ThresholdEvent } from "./decide.ts";

/**
 * The event's body: `{ type, timestamp, data: { platformId, userId, feature?, plan, usage, period } }`.
 * `usage` is the count after the call that crossed (for a refusal, the count it left unchanged);
 * `period` is the usage period's `{ start, end }` (ISO, end exclusive), as the tenant API answers it.
 */
export function thresholdEvent(
  req: CountRequest,
  type: ThresholdEvent<unknown>["type"],
  count: number,
  period: { start: string; end: string },
  now: number,
): FounderEvent {
  const limit = req.limit!;
  const data: Record<string, unknown> = { platformId: req.platformId, userId: req.userId };
  if (req.feature !== undefined) data.feature = req.feature;
  data.plan = req.plan;
  data.usage = { count, limit, remaining: Math.max(0, limit - count) };
  data.period = period;
  return { type, timestamp: new Date(now).toISOString(), data };
}

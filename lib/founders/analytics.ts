/**
 * What the analytics endpoints answer a founder: their platform's usage report, its CSV, and the
 * impact preview of edited tiers. Route handlers only parse input and shape the response.
 */
import { previewTiers } from "../analytics/preview.ts";
import { usageCsv } from "../analytics/csv.ts";
import {
  ACCURACY,
  decodeCursor,
  encodeCursor,
  parsePeriod,
  readTraffic,
  readUsers,
  type ReportPeriod,
} from "../analytics/report.ts";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { getTiers } from "../kv/tiers.ts";
import type { TierPreviewResponse, UsageQuery, UsageReport } from "../schemas/analytics.ts";
import type { Tier } from "../schemas/tiers.ts";
import { requirePlatformId } from "./platform.ts";

type AnalyticsDeps = Pick<Deps, "kv" | "now" | "usageSnapshots">;

/**
 * `GET /dashboard/api/usage`: totals, daily series and one page of end-users by count.
 * @example await usageReport(deps, founderId, { period: "current", limit: 100 })
 */
export async function usageReport(
  deps: AnalyticsDeps,
  founderId: string,
  query: UsageQuery,
): Promise<UsageReport> {
  const platformId = await requirePlatformId(deps.kv, founderId);
  const now = deps.now();
  const period = periodOrThrow(query.period, now);
  let after;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor);
    if (!after) throw new ApiError("invalid_request", "cursor: not a cursor from this API.");
  }
  const [tiers, traffic] = await Promise.all([
    tiersOf(deps.kv, platformId),
    readTraffic(deps.kv, platformId, period, now),
  ]);
  const page = await readUsers(deps.usageSnapshots, deps.kv, platformId, period, tiers, {
    limit: query.limit,
    after: after ?? undefined,
    q: query.q,
    now,
  });
  return {
    period: periodBody(period, now),
    totals: traffic.totals,
    daily: traffic.daily,
    users: page.users,
    next: page.next ? encodeCursor(page.next) : null,
    asOf: page.asOf.toISOString(),
    accuracy: ACCURACY,
  };
}

/** `GET /dashboard/api/usage.csv`: the stream and a file name for it. */
export async function usageCsvExport(
  deps: AnalyticsDeps,
  founderId: string,
  periodText: string,
): Promise<{ stream: ReadableStream<Uint8Array>; filename: string }> {
  const platformId = await requirePlatformId(deps.kv, founderId);
  const period = periodOrThrow(periodText, deps.now());
  const tiers = await tiersOf(deps.kv, platformId);
  return {
    stream: usageCsv(deps.kv, platformId, period.key, tiers),
    filename: `usage-${platformId}-${period.key}.csv`,
  };
}

/** `POST /dashboard/api/tiers/preview`: each edited tier's impact on this period's end-users. */
export async function tierPreview(
  deps: AnalyticsDeps,
  founderId: string,
  tiers: readonly Tier[],
): Promise<TierPreviewResponse> {
  const platformId = await requirePlatformId(deps.kv, founderId);
  const result = await previewTiers(deps.usageSnapshots, deps.kv, platformId, tiers, deps.now());
  return { tiers: result.tiers, asOf: result.asOf.toISOString() };
}

/** Starts reading this period's end-users for the tier editor, so its first preview is quick. */
export function warmTierPreview(deps: AnalyticsDeps, platformId: string, tiers: readonly Tier[]) {
  const now = deps.now();
  for (const unit of new Set(tiers.map((t) => t.period))) {
    const period = periodOrThrow(unit === "day" ? now.toISOString().slice(0, 10) : "current", now);
    deps.usageSnapshots.warm(deps.kv, platformId, period.key, now);
  }
}

function periodOrThrow(text: string, now: Date): ReportPeriod {
  const period = parsePeriod(text, now);
  if (!period) {
    throw new ApiError("invalid_request", "period: 'current', 'YYYY-MM' or 'YYYY-MM-DD'.");
  }
  return period;
}

function periodBody(period: ReportPeriod, now: Date) {
  return {
    key: period.key,
    unit: period.unit,
    start: period.start.toISOString(),
    end: period.end.toISOString(),
    current: period.start <= now && now < period.end,
  };
}

async function tiersOf(kv: Deno.Kv, platformId: string): Promise<Tier[]> {
  return (await getTiers(kv, platformId))?.tiers ?? [];
}

/**
 * What the analytics endpoints answer a founder: their platform's usage report, its CSV, and the
 * impact preview of edited tiers. Route handlers only parse input and shape the response.
 */
import { meteredFeatureIds } from "../analytics/meters.ts";
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
import type {
  TierPreviewResponse,
  UsageCsvQuery,
  UsageQuery,
  UsageReport,
} from "../schemas/analytics.ts";
import { featureIdsOf, type Tier } from "../schemas/tiers.ts";
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
  const feature = query.feature;
  // A feature is checked against the tiers before anything of it is read.
  const tiers = feature === undefined
    ? undefined
    : await meteredTiersOrThrow(deps.kv, platformId, feature);
  const [tiersNow, traffic] = await Promise.all([
    tiers ?? tiersOf(deps.kv, platformId),
    readTraffic(deps.kv, platformId, period, now, feature),
  ]);
  const page = await readUsers(deps.usageSnapshots, deps.kv, platformId, period, tiersNow, {
    limit: query.limit,
    after: after ?? undefined,
    q: query.q,
    now,
    feature,
  });
  return {
    period: periodBody(period, now),
    feature: feature ?? null,
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
  query: UsageCsvQuery,
): Promise<{ stream: ReadableStream<Uint8Array>; filename: string }> {
  const platformId = await requirePlatformId(deps.kv, founderId);
  const period = periodOrThrow(query.period, deps.now());
  const { feature } = query;
  const tiers = feature === undefined
    ? await tiersOf(deps.kv, platformId)
    : await meteredTiersOrThrow(deps.kv, platformId, feature);
  return {
    stream: usageCsv(deps.kv, platformId, period.key, tiers, feature),
    filename: `usage-${platformId}-${feature === undefined ? "" : `${feature}-`}${period.key}.csv`,
  };
}

/**
 * `POST /dashboard/api/tiers/preview`: each edited tier's impact on this period's end-users, of
 * the main meter or of a feature the edited tiers meter.
 */
export async function tierPreview(
  deps: AnalyticsDeps,
  founderId: string,
  tiers: readonly Tier[],
  feature?: string,
): Promise<TierPreviewResponse> {
  const platformId = await requirePlatformId(deps.kv, founderId);
  if (feature !== undefined) requireMetered(tiers, feature, "the tiers sent");
  const result = await previewTiers(
    deps.usageSnapshots,
    deps.kv,
    platformId,
    tiers,
    deps.now(),
    feature,
  );
  return { feature: feature ?? null, tiers: result.tiers, asOf: result.asOf.toISOString() };
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

/** The platform's tiers, once `feature` is known to be metered by one of them (else 400). */
async function meteredTiersOrThrow(
  kv: Deno.Kv,
  platformId: string,
  feature: string,
): Promise<Tier[]> {
  const tiers = await tiersOf(kv, platformId);
  requireMetered(tiers, feature, "your tiers");
  return tiers;
}

/**
 * 400 unless some tier meters `feature`: an unknown id is most likely a typo, and an on/off
 * feature counts nothing. The message lists the ids that have figures.
 */
function requireMetered(tiers: readonly Tier[], feature: string, whose: string): void {
  const metered = meteredFeatureIds(tiers);
  if (metered.includes(feature)) return;
  const known = metered.length === 0
    ? `${whose} meter no feature`
    : `${whose} meter: ${metered.join(", ")}`;
  const why = featureIdsOf(tiers).includes(feature)
    ? `'${feature}' is an on/off feature, nothing is counted for it`
    : `'${feature}' is not a feature of ${whose}`;
  throw new ApiError("invalid_request", `feature: ${why}; ${known}.`, { features: metered });
}

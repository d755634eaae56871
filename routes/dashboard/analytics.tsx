/**
 * GET /dashboard/analytics — usage analytics: a period's totals, the daily allowed-vs-refused
 * chart, and the end-users table (busiest first, searchable, paged; those at or near their limit
 * highlighted), of the main meter or of one metered feature (`?feature=`). Rendered from the same
 * report `GET /dashboard/api/usage` answers.
 */
import UsageChart from "../../islands/UsageChart.tsx";
import UsageTable from "../../islands/UsageTable.tsx";
import { define, defineRoute } from "../../lib/http/route.ts";
import { meteredFeatureIds, meters, meterUnit } from "../../lib/analytics/meters.ts";
import { usageReport } from "../../lib/founders/analytics.ts";
import type { MeBody } from "../../lib/founders/me.ts";
import { ApiError } from "../../lib/errors.ts";
import { Card, Notice, PageHeader } from "../../lib/ui/components.tsx";
import { founderView } from "../../lib/ui/dashboard.tsx";
import { Island } from "../../lib/ui/island.tsx";
import { Shell } from "../../lib/ui/layout.tsx";
import { renderPage } from "../../lib/ui/render.tsx";

/** End-users per page of the table (the API allows up to 100). */
const PAGE_SIZE = 25;

type Report = Awaited<ReturnType<typeof usageReport>>;

const GET = define.handler(async (c) => {
  const view = await founderView(c);
  const deps = c.get("deps");
  const asked = c.req.query("period") ?? "current";
  const askedFeature = c.req.query("feature") || undefined;
  let report: Report | null = null;
  let badPeriod = false;
  let badFeature = false;
  let feature: string | undefined;
  if (view.platform) {
    // A feature no tier meters (renamed, removed, on/off) shows the main meter, saying so.
    feature = askedFeature;
    if (feature !== undefined && !meteredFeatureIds(view.platform.tiers).includes(feature)) {
      badFeature = true;
      feature = undefined;
    }
    const load = (period: string) =>
      usageReport(deps, view.user.id, { period, limit: PAGE_SIZE, feature });
    try {
      report = await load(asked);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "invalid_request") throw error;
      badPeriod = true;
      report = await load("current");
    }
  }
  return renderPage(
    c,
    <AnalyticsPage
      view={view}
      report={report}
      badPeriod={badPeriod}
      badFeature={badFeature}
      now={deps.now()}
    />,
  );
});

export const route = defineRoute({
  path: "/dashboard/analytics",
  auth: "paidPage",
  methods: { GET: { handler: GET } },
});

export function AnalyticsPage(
  { view, report, badPeriod, badFeature = false, now }: {
    view: MeBody;
    report: Report | null;
    badPeriod: boolean;
    badFeature?: boolean;
    now: Date;
  },
) {
  const platform = view.platform;
  const feature = report?.feature ?? undefined;
  const tiers = platform?.tiers ?? [];
  // Whether the meter shown counts per day in some tier (then a day is a period to pick).
  const hasDailyTiers = tiers.some((t) =>
    (feature === undefined || meters(t, feature)) && meterUnit(t, feature) === "day"
  );
  const features = meteredFeatureIds(tiers);
  const csvQuery = new URLSearchParams({ period: report?.period.key ?? "current" });
  if (feature !== undefined) csvQuery.set("feature", feature);
  return (
    <Shell
      title="Analytics"
      dashboard={{ active: "analytics", user: view.user }}
      width="wide"
    >
      <PageHeader
        title="Analytics"
        lead="Who uses your product, how much, and who is about to hit a limit."
        actions={report && (
          <PeriodPicker
            selected={report.period.key}
            hasDailyTiers={hasDailyTiers}
            now={now}
            features={features}
            feature={feature}
          />
        )}
      />
      {!platform || !report
        ? (
          <Notice tone="info">
            Create your platform first: <a href="/dashboard">go to the overview</a>.
          </Notice>
        )
        : (
          <div class="stack-lg">
            {badPeriod && (
              <Notice tone="warn">
                That period is not one we know; showing this month instead.
              </Notice>
            )}
            {badFeature && (
              <Notice tone="warn">
                No tier meters that feature; showing calls without a feature instead.
              </Notice>
            )}
            <Totals report={report} hasDailyTiers={hasDailyTiers} />
            <Card title="Calls per day" testid="usage-chart-card">
              <Island
                name="UsageChart"
                component={UsageChart}
                props={{ daily: report.daily, days: periodDays(report.period) }}
              />
              <p class="muted small">
                UTC days, every tier{feature !== undefined
                  ? (
                    <>
                      , calls counting <code>{feature}</code>
                    </>
                  )
                  : features.length > 0
                  ? ", calls naming no feature"
                  : ""}. A refused call is a 429: the end-user was at their limit.
              </p>
            </Card>
            <Card
              title="End-users"
              testid="usage-users-card"
              actions={
                <a
                  class="btn btn-secondary btn-sm"
                  href={`/dashboard/api/usage.csv?${csvQuery}`}
                  download
                >
                  Download CSV
                </a>
              }
            >
              <p class="muted small">
                {report.period.unit === "day"
                  ? `End-users of daily ${feature === undefined ? "tiers" : "limits"} on this day`
                  : hasDailyTiers
                  ? `End-users of monthly ${
                    feature === undefined ? "tiers" : "limits"
                  } this month (daily: pick a day above)`
                  : "End-users this month"}, busiest first{feature !== undefined &&
                  (
                    <>
                      , by their units of <code>{feature}</code> against their tier's limit of it
                    </>
                  )}. Highlighted: at or above their limit, or within 10% of it.
              </p>
              <Island
                name="UsageTable"
                component={UsageTable}
                props={{
                  period: report.period.key,
                  feature: report.feature,
                  users: report.users,
                  next: report.next,
                  pageSize: PAGE_SIZE,
                }}
              />
            </Card>
          </div>
        )}
    </Shell>
  );
}

function Totals({ report, hasDailyTiers }: { report: Report; hasDailyTiers: boolean }) {
  const { units, allowed, refused, activeUsers } = report.totals;
  const calls = allowed + refused;
  const share = calls === 0 ? 0 : refused / calls;
  const peak = report.daily.reduce((max, d) => Math.max(max, d.activeUsers), 0);
  return (
    <div class="stats" data-testid="usage-totals">
      <Stat label="Units counted" value={units} testid="total-units" />
      <Stat label="Calls allowed" value={allowed} testid="total-allowed" />
      <Stat
        label="Calls refused (429)"
        value={refused}
        testid="total-refused"
        hint={calls === 0 ? undefined : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}% of calls`}
        tone={refused > 0 ? "danger" : undefined}
      />
      <Stat
        label="Active end-users"
        value={activeUsers}
        testid="total-active"
        hint={report.period.unit === "day"
          ? "on daily tiers this day"
          : hasDailyTiers
          ? `on monthly tiers; ${busiestDay(peak)}`
          : busiestDay(peak)}
      />
    </div>
  );
}

/** The first and last UTC day of a period (its `end` is the first instant after it). */
function periodDays(period: Report["period"]): { first: string; last: string } {
  return {
    first: period.start.slice(0, 10),
    last: new Date(Date.parse(period.end) - 1).toISOString().slice(0, 10),
  };
}

/** "about 4 end-users on the busiest day": the daily figure is a HyperLogLog estimate. */
function busiestDay(peak: number): string {
  return `about ${peak.toLocaleString("en-US")} ${
    peak === 1 ? "end-user" : "end-users"
  } on the busiest day`;
}

function Stat(
  { label, value, hint, tone, testid }: {
    label: string;
    value: number;
    hint?: string;
    tone?: "danger";
    testid: string;
  },
) {
  return (
    <div class={`stat${tone ? ` stat-${tone}` : ""}`}>
      <span class="stat-label">{label}</span>
      <strong class="stat-value" data-testid={testid}>{value.toLocaleString("en-US")}</strong>
      {hint && <span class="stat-hint">{hint}</span>}
    </div>
  );
}

/** A plain GET form: works before (and without) any JavaScript. */
function PeriodPicker(
  { selected, hasDailyTiers, now, features, feature }: {
    selected: string;
    hasDailyTiers: boolean;
    now: Date;
    features: readonly string[];
    feature: string | undefined;
  },
) {
  const months = Array.from({ length: 12 }, (_, i) => {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    return {
      key: d.toISOString().slice(0, 7),
      label: i === 0 ? "This month" : d.toLocaleString("en-US", {
        month: "long",
        year: "numeric",
        timeZone: "UTC",
      }),
    };
  });
  const today = now.toISOString().slice(0, 10);
  const options = [...months];
  if (hasDailyTiers) options.push({ key: today, label: "Today (daily limits)" });
  if (!options.some((o) => o.key === selected)) options.push({ key: selected, label: selected });
  return (
    <form method="get" action="/dashboard/analytics" class="row period-picker">
      {features.length > 0 && (
        <>
          <label class="sr-only" for="feature">Feature</label>
          <select id="feature" name="feature" class="input" data-testid="feature-picker">
            <option value="" selected={feature === undefined}>Calls without a feature</option>
            {features.map((id) => (
              <option key={id} value={id} selected={id === feature}>Feature: {id}</option>
            ))}
          </select>
        </>
      )}
      <label class="sr-only" for="period">Period</label>
      <select id="period" name="period" class="input">
        {options.map((o) => (
          <option key={o.key} value={o.key} selected={o.key === selected}>{o.label}</option>
        ))}
      </select>
      <button type="submit" class="btn btn-secondary">Show</button>
    </form>
  );
}

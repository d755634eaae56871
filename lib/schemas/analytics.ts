/**
 * The founders' analytics API: query parameters and bodies the handlers validate with, and the
 * answers, as zod schemas (the OpenAPI document is generated from these).
 */
import { z } from "zod";
import { FeatureIdSchema, TiersSchema } from "./tiers.ts";

/**
 * The periods the analytics API answers for. Usage keys spell periods with 4-digit years, which
 * sort chronologically only within 0000–9999 (year 10000 is `+010000`, and reading the month
 * 9999-12 ran to it, KV refusing the range); dream-api counted nothing before 2000. A period
 * inside the range that has no usage (the past, the future) is a valid, empty answer.
 */
export const PERIOD_RANGE = { first: "2000-01-01", last: "2999-12-31" } as const;

const PERIOD_FORMAT = `'current', a month 'YYYY-MM' or a day 'YYYY-MM-DD' (UTC) from ${
  PERIOD_RANGE.first.slice(0, 7)
} to ${PERIOD_RANGE.last.slice(0, 7)}`;

/**
 * Whether `text` is a month `YYYY-MM` or a day `YYYY-MM-DD` that exists (not `2026-02-30`) and
 * lies in `PERIOD_RANGE`. The one rule: the schema and `parsePeriod` both ask it.
 */
export function isPeriodKey(text: string): boolean {
  const match = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 1)];
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0–99 as 1900–1999
  if (at.getUTCFullYear() !== year || at.getUTCMonth() !== month - 1) return false;
  if (at.getUTCDate() !== day) return false;
  const first = match[3] ? text : `${text}-01`;
  return first >= PERIOD_RANGE.first && first <= PERIOD_RANGE.last;
}

/** `current` (this UTC month), `YYYY-MM`, or `YYYY-MM-DD` for the day periods of daily tiers. */
export const PeriodParamSchema = z.string()
  .max(10, `period: ${PERIOD_FORMAT}`)
  .refine((text) => text === "current" || isPeriodKey(text), `period: ${PERIOD_FORMAT}`)
  .default("current")
  .meta({
    description:
      `\`current\` (this UTC month, the default), a month \`YYYY-MM\`, or a day \`YYYY-MM-DD\` (the periods of daily tiers), from ${PERIOD_RANGE.first} to ${PERIOD_RANGE.last}; outside that range is 400.`,
    examples: ["current", "2026-11", "2026-11-26"],
  });

/** `?feature=`: one metered feature's analytics instead of the main meter's. */
export const FeatureParamSchema = FeatureIdSchema.optional().meta({
  description:
    "A metered feature's id: its figures instead of the main meter's (calls naming no feature). Absent: the main meter.",
  examples: ["exports"],
});

/** `GET /dashboard/api/usage`. */
export const UsageQuerySchema = z.object({
  period: PeriodParamSchema,
  feature: FeatureParamSchema,
  q: z.string().min(1, "q: at least 1 character").max(256, "q: at most 256 characters")
    .optional().meta({ description: "Only end-users whose id starts with this." }),
  cursor: z.string().min(1).max(1024, "cursor: not a cursor from this API").optional().meta({
    description: "`next` of the previous page.",
  }),
  limit: z.coerce.number<string>().int("limit: a whole number from 1 to 100")
    .min(1, "limit: a whole number from 1 to 100").max(100, "limit: a whole number from 1 to 100")
    .default(100).meta({ description: "End-users per page (default and most: 100)." }),
});
export type UsageQuery = z.output<typeof UsageQuerySchema>;

/** `GET /dashboard/api/usage.csv`. */
export const UsageCsvQuerySchema = z.object({
  period: PeriodParamSchema,
  feature: FeatureParamSchema,
});
export type UsageCsvQuery = z.output<typeof UsageCsvQuerySchema>;

/** `POST /dashboard/api/tiers/preview`: the tiers as edited, validated with THE tier schema. */
export const PreviewTiersBodySchema = z.object({ tiers: TiersSchema });

/** `POST /dashboard/api/tiers/preview?feature=`: a metered feature's impact (each tier's limit of it). */
export const PreviewTiersQuerySchema = z.object({ feature: FeatureParamSchema });

const count = (description: string) => z.number().int().nonnegative().meta({ description });
const isoDate = (description: string) => z.iso.datetime({ offset: false }).meta({ description });

/** The `period` of a usage report. */
export const ReportPeriodSchema = z.object({
  key: z.string().meta({ description: "`2026-11` or `2026-11-26`.", examples: ["2026-11"] }),
  unit: z.enum(["month", "day"]),
  start: isoDate("Start of the period (inclusive, UTC)."),
  end: isoDate("End of the period (exclusive, UTC)."),
  current: z.boolean().meta({ description: "Whether the period is still running." }),
});

/** `GET /dashboard/api/usage` (200). */
export const UsageReportSchema = z.object({
  period: ReportPeriodSchema,
  feature: z.string().nullable().meta({
    description: "The metered feature these figures are of; null: the main meter.",
  }),
  totals: z.object({
    units: count("Units counted (granted amounts)."),
    allowed: count("Calls counted (200)."),
    refused: count("Calls refused over the limit (429)."),
    activeUsers: count(
      "Distinct end-users counted in the period's counters (exact): of monthly tiers for a month, of daily tiers for a day.",
    ),
  }),
  daily: z.array(z.object({
    date: z.string().meta({ examples: ["2026-11-26"] }),
    units: count("Units counted that UTC day."),
    allowed: count("Calls counted that day."),
    refused: count("Calls refused that day (429)."),
    activeUsers: count("Distinct end-users counted that day: approximate (HyperLogLog)."),
  })).meta({ description: "Each UTC day of the period up to today, all tiers." }),
  users: z.array(z.object({
    userId: z.string(),
    plan: z.string().nullable().meta({ description: "The tier of their latest counted call." }),
    count: count("Units counted in the period."),
    limit: z.number().int().nonnegative().nullable().meta({
      description:
        "The tier's limit now (of the feature, with `feature`); null when unlimited, the tier no longer exists or no longer meters the feature.",
    }),
  })).meta({ description: "End-users by count, descending (ties by id)." }),
  next: z.string().nullable().meta({ description: "Cursor of the next page; null on the last." }),
  asOf: isoDate("When the end-user list was read (it is kept up to 15 s)."),
  accuracy: z.object({
    activeUsers: z.literal("exact"),
    dailyActiveUsers: z.literal("approximate"),
    dailyActiveUsersStandardError: z.number().meta({
      description: "Relative standard error of `daily[].activeUsers` (small counts are closer).",
    }),
  }),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;
/** A period's totals in the usage report. */
export type UsageTotals = UsageReport["totals"];
/** One UTC day of the usage report's daily series. */
export type DailyUsage = UsageReport["daily"][number];
/** One end-user's row in the usage report. */
export type UsageUserRow = UsageReport["users"][number];

/**
 * One tier's impact in the tier editor's preview: of the end-users counted under its id in its
 * period, how many are already above the new limit (every further call would be refused) and how
 * many are at 90% to 100% of it. The one shape: the preview computes it, the API answers it and
 * the editor island reads it.
 */
export const TierImpactSchema = z.object({
  id: z.string(),
  period: z.string().meta({
    description: "The period read: this month, or today for a daily tier.",
  }),
  users: count("End-users counted under this tier id in that period."),
  overLimit: count("Of them, those already above the new limit."),
  nearLimit: count("Of them, those at 90–100% of the new limit."),
});
export type TierImpact = z.infer<typeof TierImpactSchema>;

/** `POST /dashboard/api/tiers/preview` (200). */
export const TierPreviewResponseSchema = z.object({
  feature: z.string().nullable().meta({
    description: "The metered feature previewed; null: the main meter.",
  }),
  tiers: z.array(TierImpactSchema),
  asOf: isoDate("When the usage was read (it is kept up to 15 s)."),
});
export type TierPreviewResponse = z.infer<typeof TierPreviewResponseSchema>;

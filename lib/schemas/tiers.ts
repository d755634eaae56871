/**
 * The one tier schema. The admin command, the founders' API and the TierEditor island all
 * validate with it, so the browser and the server can never disagree on what a tier is.
 */
import { z } from "zod";

export const TierIdSchema = z.string().regex(
  /^[a-z0-9][a-z0-9_-]{0,39}$/,
  "a slug: lowercase letters, digits, '-' or '_', at most 40 characters",
);

/** A feature id: a slug, like tier ids. */
export const FeatureIdSchema = z.string().regex(
  /^[a-z0-9][a-z0-9_-]{0,39}$/,
  "a slug: lowercase letters, digits, '-' or '_', at most 40 characters",
);

/** A metered feature of a tier: its own limit (`null` is unlimited) and period (default: the tier's). */
export const MeteredFeatureSchema = z.object({
  limit: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
  period: z.enum(["month", "day"]).optional(),
}).strict();

/** A tier's feature: metered (`{ limit, period? }`) or on/off (`true` / `false`). */
export const FeatureSchema = z.union([z.boolean(), MeteredFeatureSchema]);

/** Most features one tier may declare. */
export const MAX_FEATURES = 20;

export const TierSchema = z.object({
  id: TierIdSchema,
  name: z.string().trim().min(1, "a name is required").max(80),
  /** In the currency's major unit: 29 = $29. */
  price: z.number().finite().nonnegative().max(1_000_000),
  /** Units per period; `null` is unlimited. */
  limit: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
  period: z.enum(["month", "day"]).default("month"),
  stripePriceId: z.string().min(1).max(255).optional(),
  /**
   * What the tier includes beside its main meter (`limit`/`period`, used when a call names no
   * feature): feature id → metered `{ limit, period? }` or on/off `true`/`false`.
   */
  features: z.record(FeatureIdSchema, FeatureSchema).refine(
    (f) => Object.keys(f).length <= MAX_FEATURES,
    `at most ${MAX_FEATURES} features per tier`,
  ).optional(),
});

export type Tier = z.output<typeof TierSchema>;
export type Feature = z.output<typeof FeatureSchema>;
export type MeteredFeature = z.output<typeof MeteredFeatureSchema>;
export type TierInput = z.input<typeof TierSchema>;

export const TiersSchema = z.array(TierSchema).min(1, "at least one tier").max(20).superRefine(
  (tiers, ctx) => {
    const seen = new Set<string>();
    tiers.forEach((tier, i) => {
      if (seen.has(tier.id)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "id"],
          message: `duplicate tier id '${tier.id}'`,
        });
      }
      seen.add(tier.id);
    });
    tiers.forEach((tier, i) => {
      for (const [id, feature] of Object.entries(tier.features ?? {})) {
        const elsewhere = tiers.find((t) => t.features?.[id] !== undefined && t !== tier);
        const other = elsewhere?.features?.[id];
        if (other !== undefined && typeof other !== typeof feature) {
          ctx.addIssue({
            code: "custom",
            path: [i, "features", id],
            message: `feature '${id}' is metered in one tier and on/off in another`,
          });
        }
      }
    });
    if (!tiers.some((t) => t.price === 0)) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "one tier must be free (price 0): the first free tier is the default",
      });
    }
  },
);

/** A platform's tiers, as stored. */
export interface TierConfig {
  tiers: Tier[];
  updatedAt: string;
}

/** The tiers every new platform starts with. */
export const DEFAULT_TIERS: Tier[] = [
  { id: "free", name: "Free", price: 0, limit: 100, period: "month" },
];

/** The default tier: the first with price 0 (the schema guarantees one). */
export function defaultTier(tiers: readonly Tier[]): Tier {
  const tier = tiers.find((t) => t.price === 0);
  if (!tier) throw new Error("tier config without a free tier");
  return tier;
}

/** Every feature id any of the tiers defines, sorted. */
export function featureIdsOf(tiers: readonly Tier[]): string[] {
  return [...new Set(tiers.flatMap((t) => Object.keys(t.features ?? {})))].sort();
}

/** The cheapest tier that includes a feature (metered, or `true`); `undefined` if none does. */
export function cheapestTierWith(tiers: readonly Tier[], feature: string): Tier | undefined {
  let best: Tier | undefined;
  for (const tier of tiers) {
    const f = tier.features?.[feature];
    if (f === undefined || f === false) continue;
    if (!best || tier.price < best.price) best = tier;
  }
  return best;
}

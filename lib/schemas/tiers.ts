/**
 * The one tier schema. The admin command, the founders' API and the TierEditor island all
 * validate with it, so the browser and the server can never disagree on what a tier is.
 */
import { z } from "zod";

export const TierIdSchema = z.string().regex(
  /^[a-z0-9][a-z0-9_-]{0,39}$/,
  "a slug: lowercase letters, digits, '-' or '_', at most 40 characters",
);

export const TierSchema = z.object({
  id: TierIdSchema,
  name: z.string().trim().min(1, "a name is required").max(80),
  /** In the currency's major unit: 29 = $29. */
  price: z.number().finite().nonnegative().max(1_000_000),
  /** Units per period; `null` is unlimited. */
  limit: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable(),
  period: z.enum(["month", "day"]).default("month"),
  stripePriceId: z.string().min(1).max(255).optional(),
});

export type Tier = z.output<typeof TierSchema>;
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

/** Tiers with features, for the tenant-API tests of features, `/api/check` and `/api/usage`. */
import type { TierInput } from "../../lib/schemas/tiers.ts";

/**
 * free: exports 5/month, searches 3/day, sso off; pro: exports 50, reports unlimited, sso on;
 * team: everything unlimited except reports (10). `reports` is absent from free: its cheapest
 * tier is pro.
 */
export const FEATURE_TIERS: TierInput[] = [
  {
    id: "free",
    name: "Free",
    price: 0,
    limit: 100,
    period: "month",
    features: { exports: { limit: 5 }, searches: { limit: 3, period: "day" }, sso: false },
  },
  {
    id: "pro",
    name: "Pro",
    price: 29,
    limit: 1000,
    period: "month",
    features: { exports: { limit: 50 }, reports: { limit: null }, sso: true },
  },
  {
    id: "team",
    name: "Team",
    price: 99,
    limit: null,
    period: "month",
    features: { exports: { limit: null }, reports: { limit: 10 }, sso: true },
  },
  { id: "plain", name: "Plain", price: 5, limit: 10, period: "month" },
];

/** `Deps`: everything a request may use, built once by `main.ts` (or a test) and given to `createApp`. */
import type { Config } from "../fresh.config.ts";
import type { SnapshotCache } from "./analytics/snapshot.ts";
import type { DevSigner, VerifySession } from "./auth/clerk.ts";
import type { TenantCache } from "./auth/tenant_cache.ts";
import type { EndUserPlanCache } from "./billing/end_user_plans.ts";
import type { StripeFactory } from "./billing/stripe_client.ts";
import type { SecretBox } from "./crypto/secrets.ts";
import type { BodyBudget } from "./http/body_budget.ts";
import type { Logger } from "./log.ts";
import type { Meter } from "./usage/meter.ts";
import type { Resolver } from "./webhooks/url_policy.ts";

/** Everything a request may use, passed in once to `createApp`. */
export interface Deps {
  config: Config;
  kv: Deno.Kv;
  meter: Meter;
  tenants: TenantCache;
  log: Logger;
  now: () => Date;
  /** Stripe clients for any secret key (dream-api's own and founders'), honouring STRIPE_API_URL. */
  stripeFor: StripeFactory;
  /** Verifies a founder's session JWT (Clerk, or the development key). */
  verifySession: VerifySession;
  /** Issues development session tokens; `null` whenever development sign-in is off. */
  devSigner: DevSigner | null;
  /** Seals founders' Stripe secrets at rest (AES-256-GCM, platform id as context). */
  secrets: SecretBox;
  /** End-users' paid tiers from their Stripe subscriptions (cached like tenants; webhooks forget). */
  endUserPlans: EndUserPlanCache;
  /** Periods' end-users by count, read for the analytics API and the tier preview (short-lived). */
  usageSnapshots: SnapshotCache;
  /** This process's memory budget and read deadline for request bodies (one per process). */
  bodyBudget: BodyBudget;
  /** This process's founders' webhook loop, woken after queueing (absent: its 1 s poll finds it). */
  webhooks?: { wake(): void };
  /** Resolves host names for the webhook URL rules (default `Deno.resolveDns`; tests pass a fake). */
  resolveHost?: Resolver;
}

/**
 * What a signed-in founder sees: `GET /dashboard/api/me` answers exactly this, and the dashboard
 * pages render from it, so the two can never disagree. It never contains a secret.
 */
import { getFounderSubscription } from "../kv/founder_subscriptions.ts";
import { getStripeConnection, stripeConnectionView } from "../kv/platform_stripe.ts";
import { getPlatform } from "../kv/platforms.ts";
import { getTiers } from "../kv/tiers.ts";
import { keys } from "../kv/keys.ts";
import type { MeBody, MePlatform } from "../schemas/responses.ts";

/** The body's type is its schema's (`MeResponseSchema`): re-exported for the pages that render it. */
export type { MeBody };

/** The founder's platform id, or `null` when they have none yet. */
export async function platformIdOf(kv: Deno.Kv, userId: string): Promise<string | null> {
  return (await kv.get<string>(keys.platformByOwner(userId))).value;
}

/**
 * Everything the dashboard shows a founder, read from KV (and their email, from the session).
 * @example const me = await loadFounderView(c.get("deps"), c.get("founder"))
 */
export async function loadFounderView(
  deps: { kv: Deno.Kv },
  founder: { userId: string; email?: string },
): Promise<MeBody> {
  const { userId, email } = founder;
  const { kv } = deps;
  const [subscription, platformId] = await Promise.all([
    getFounderSubscription(kv, userId),
    platformIdOf(kv, userId),
  ]);
  return {
    user: { id: userId, ...(email && { email }) },
    subscription: { status: subscription?.status ?? "none" },
    platform: platformId ? await platformView(kv, platformId) : null,
  };
}

async function platformView(kv: Deno.Kv, platformId: string): Promise<MePlatform | null> {
  const [platform, tiers, connection] = await Promise.all([
    getPlatform(kv, platformId),
    getTiers(kv, platformId),
    getStripeConnection(kv, platformId),
  ]);
  if (!platform) return null;
  return {
    platformId,
    keyPrefix: platform.keyPrefix,
    tiers: tiers?.tiers ?? [],
    stripe: stripeConnectionView(connection),
  };
}

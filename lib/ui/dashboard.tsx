/** Pieces shared by the dashboard pages: the signed-in founder's view and common cards. */
import type { AppContext } from "../http/route.ts";
import { loadFounderView, type MeBody } from "../founders/me.ts";
import { isPaid } from "../kv/founder_subscriptions.ts";
import { featureIdsOf, type Tier } from "../schemas/tiers.ts";
import { formatLimit, formatPrice } from "./components.tsx";

/** The founder's view (the `GET /dashboard/api/me` body) for the page being rendered. */
export function founderView(c: AppContext): Promise<MeBody> {
  return loadFounderView(c.get("deps"), c.get("founder"));
}

/** Whether the founder may configure (subscription `active` or `trialing`). */
export function canConfigure(view: MeBody): boolean {
  return isPaid(view.subscription.status);
}

/**
 * What a tier includes of the platform's features, in words: "10 a month", "50 a day",
 * "Unlimited", "Included", or "Not included" (absent or `false`), in feature-id order.
 */
export function tierFeatureWords(
  tier: Tier,
  featureIds: readonly string[],
): { id: string; text: string; included: boolean }[] {
  return featureIds.map((id) => {
    const f = tier.features?.[id];
    if (f === undefined || f === false) return { id, text: "Not included", included: false };
    if (f === true) return { id, text: "Included", included: true };
    const per = (f.period ?? tier.period) === "day" ? "a day" : "a month";
    return {
      id,
      text: f.limit === null ? `Unlimited` : `${f.limit.toLocaleString("en-US")} ${per}`,
      included: true,
    };
  });
}

/** A tier's features as a short list (`reports: 10 a month`), the ones not included muted. */
export function TierFeatures({ tier, featureIds }: { tier: Tier; featureIds: readonly string[] }) {
  return (
    <ul class="tier-feature-summary" data-testid="tier-feature-summary">
      {tierFeatureWords(tier, featureIds).map((f) => (
        <li key={f.id} class={f.included ? undefined : "muted"}>
          <code>{f.id}</code> {f.text}
        </li>
      ))}
    </ul>
  );
}

/** The platform's tiers as a read-only table (with their features, when any tier has some). */
export function TiersTable({ tiers }: { tiers: readonly Tier[] }) {
  const defaultId = tiers.find((t) => t.price === 0)?.id;
  const featureIds = featureIdsOf(tiers);
  return (
    <div class="table-wrap">
      <table class="tiers-table" data-testid="tiers-table">
        <thead>
          <tr>
            <th>Tier</th>
            <th>Id</th>
            <th class="num">Price</th>
            <th class="num">Limit</th>
            <th>Resets</th>
            {featureIds.length > 0 && <th>Features</th>}
          </tr>
        </thead>
        <tbody>
          {tiers.map((t) => (
            <tr>
              <td>
                {t.name} {t.id === defaultId && <span class="badge">Default</span>}
              </td>
              <td data-label="Id">
                <code>{t.id}</code>
              </td>
              <td class="num" data-label="Price">
                {formatPrice(t.price)}
                {t.price > 0 && <span class="muted">/mo</span>}
              </td>
              <td class="num" data-label="Limit">{formatLimit(t.limit)}</td>
              <td data-label="Resets">{t.period === "day" ? "Daily" : "Monthly"}</td>
              {featureIds.length > 0 && (
                <td data-label="Features" class="tiers-table-features">
                  <TierFeatures tier={t} featureIds={featureIds} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Pieces shared by the dashboard pages: the signed-in founder's view and common cards. */
import type { AppContext } from "../http/route.ts";
import { loadFounderView, type MeBody } from "../founders/me.ts";
import { isPaid } from "../kv/founder_subscriptions.ts";
import type { Tier } from "../schemas/tiers.ts";
import { formatLimit, formatPrice } from "./components.tsx";

/** The founder's view (the `GET /dashboard/api/me` body) for the page being rendered. */
export function founderView(c: AppContext): Promise<MeBody> {
  return loadFounderView(c.get("deps"), c.get("founder"));
}

/** Whether the founder may configure (subscription `active` or `trialing`). */
export function canConfigure(view: MeBody): boolean {
  return isPaid(view.subscription.status);
}

/** The platform's tiers as a read-only table. */
export function TiersTable({ tiers }: { tiers: readonly Tier[] }) {
  const defaultId = tiers.find((t) => t.price === 0)?.id;
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
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

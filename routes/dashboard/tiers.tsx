/** GET /dashboard/tiers — the tier editor (paid founders; the gate sends others to billing). */
import TierEditor from "../../islands/TierEditor.tsx";
import { define, defineRoute } from "../../lib/http/route.ts";
import { warmTierPreview } from "../../lib/founders/analytics.ts";
import type { MeBody } from "../../lib/founders/me.ts";
import { Card, Notice, PageHeader } from "../../lib/ui/components.tsx";
import { founderView, TiersTable } from "../../lib/ui/dashboard.tsx";
import { Island } from "../../lib/ui/island.tsx";
import { Shell } from "../../lib/ui/layout.tsx";
import { renderPage } from "../../lib/ui/render.tsx";

const GET = define.handler(async (c) => {
  const view = await founderView(c);
  // The editor previews each limit against this period's usage: start reading it now.
  if (view.platform) warmTierPreview(c.get("deps"), view.platform.platformId, view.platform.tiers);
  return renderPage(c, <TiersPage view={view} />);
});

export const route = defineRoute({
  path: "/dashboard/tiers",
  auth: "paidPage",
  methods: { GET: { handler: GET } },
});

export function TiersPage({ view }: { view: MeBody }) {
  const platform = view.platform;
  return (
    <Shell title="Tiers" dashboard={{ active: "tiers", user: view.user }}>
      <PageHeader
        title="Tiers"
        lead={
          <>
            Your end-users' plans. Send the tier id as{" "}
            <code>X-User-Plan</code>; without it a call counts against the first free tier.
          </>
        }
      />
      {platform
        ? (
          <div class="stack-lg">
            <Card>
              <Island
                name="TierEditor"
                component={TierEditor}
                props={{ tiers: platform.tiers }}
              />
            </Card>
            {platform.tiers.some((t) => Object.keys(t.features ?? {}).length > 0) && (
              <Card title="What each tier includes" testid="tier-summary-card">
                <p class="muted small">
                  As saved. A call naming a metered feature (<code>"feature": "reports"</code> in
                  {" "}
                  <code>POST /api/data</code>) counts against that feature's limit; one naming none,
                  against the tier's.
                </p>
                <TiersTable tiers={platform.tiers} />
              </Card>
            )}
            <Notice tone="info">
              Changed a price or added a paid tier? Run{" "}
              <a href="/dashboard/settings#stripe">Sync tiers to Stripe</a>{" "}
              so checkout sells the new price. Limits apply to the next call at once.
            </Notice>
          </div>
        )
        : (
          <Notice tone="info">
            Create your platform first: <a href="/dashboard">go to the overview</a>.
          </Notice>
        )}
    </Shell>
  );
}

/**
 * GET /dashboard/webhooks — the founder's webhook endpoint: URL and events, the signing secret's
 * one-time reveal and rotation, a test event, and the deliveries table with a warning when the
 * endpoint keeps failing. Paid founders only (the gate sends others to billing).
 */
import WebhookSettings from "../../islands/WebhookSettings.tsx";
import { define, defineRoute } from "../../lib/http/route.ts";
import type { MeBody } from "../../lib/founders/me.ts";
import type { WebhookConfigResponse } from "../../lib/schemas/webhooks.ts";
import { Card, Notice, PageHeader } from "../../lib/ui/components.tsx";
import { founderView } from "../../lib/ui/dashboard.tsx";
import { Island } from "../../lib/ui/island.tsx";
import { Shell } from "../../lib/ui/layout.tsx";
import { renderPage } from "../../lib/ui/render.tsx";
import { readWebhookConfig } from "../../lib/webhooks/endpoint.ts";

/** What each event means, in the founder's words. */
export const EVENT_LABELS = [
  { type: "usage.near_limit", label: "an end-user reached 80 % of a limit" },
  { type: "usage.limit_reached", label: "an end-user has no room left" },
  { type: "subscription.updated", label: "an end-user's plan changed through Stripe" },
];

const GET = define.handler(async (c) => {
  const view = await founderView(c);
  const config = view.platform
    ? await readWebhookConfig(c.get("deps"), c.get("founder").userId)
    : null;
  return renderPage(c, <WebhooksPage view={view} config={config} />);
});

export const route = defineRoute({
  path: "/dashboard/webhooks",
  auth: "paidPage",
  methods: { GET: { handler: GET } },
});

export function WebhooksPage(
  { view, config }: { view: MeBody; config: WebhookConfigResponse | null },
) {
  return (
    <Shell title="Webhooks" dashboard={{ active: "webhooks", user: view.user }}>
      <PageHeader
        title="Webhooks"
        lead="Hear about your end-users nearing their limits and changing plans, at your own URL."
      />
      {config
        ? (
          <Card testid="webhooks-card">
            <Island
              name="WebhookSettings"
              component={WebhookSettings}
              props={{
                endpoint: config.endpoint,
                health: config.health,
                deliveries: config.deliveries,
                eventTypes: EVENT_LABELS,
              }}
            />
          </Card>
        )
        : (
          <Notice tone="info">
            Create your platform first: <a href="/dashboard">go to the overview</a>.
          </Notice>
        )}
    </Shell>
  );
}

/**
 * GET /dashboard — the overview: what to do next, the platform id and key prefix, the tiers,
 * the Stripe connection, a quick start with the founder's own values, and recent usage.
 */
import type { ComponentChildren } from "preact";
import CreatePlatform from "../../islands/CreatePlatform.tsx";
import StripeButton from "../../islands/StripeButton.tsx";
import { define, defineRoute } from "../../lib/http/route.ts";
import type { MeBody } from "../../lib/founders/me.ts";
import {
  Badge,
  Card,
  CopyField,
  KeyValues,
  KV,
  Notice,
  PageHeader,
  SubscriptionBadge,
} from "../../lib/ui/components.tsx";
import { canConfigure, founderView, TiersTable } from "../../lib/ui/dashboard.tsx";
import { Island } from "../../lib/ui/island.tsx";
import { Shell } from "../../lib/ui/layout.tsx";
import { QuickStart } from "../../lib/ui/quick_start.tsx";
import { renderPage } from "../../lib/ui/render.tsx";
import { type PeriodUsage, usageSummary } from "../../lib/ui/usage_summary.ts";

const GET = define.handler(async (c) => {
  const view = await founderView(c);
  const { kv, now, config } = c.get("deps");
  const usage = view.platform
    ? await usageSummary(
      kv,
      view.platform.platformId,
      view.platform.tiers.map((t) => t.period),
      now(),
    )
    : [];
  return renderPage(c, <OverviewPage view={view} usage={usage} baseUrl={config.publicUrl} />);
});

export const route = defineRoute({
  path: "/dashboard",
  auth: "founderPage",
  methods: { GET: { handler: GET } },
});

export function OverviewPage(
  { view, usage, baseUrl }: { view: MeBody; usage: PeriodUsage[]; baseUrl: string },
) {
  const paid = canConfigure(view);
  const platform = view.platform;
  const called = usage.some((u) => u.users > 0);
  return (
    <Shell title="Overview" dashboard={{ active: "overview", user: view.user }}>
      <PageHeader
        title="Overview"
        lead={platform
          ? "Your platform at a glance. Everything else is one click away in the menu."
          : "Set up dream-api in a few minutes."}
      />
      <div class="stack-lg">
        {!(paid && platform && platform.stripe.connected && called) && (
          <Checklist view={view} called={called} />
        )}

        {!paid && (
          <Card title="Subscribe to start" class="card-highlight" testid="subscribe-card">
            <p>
              dream-api is $29/month. Once you subscribe you get your platform, an API key, the tier
              editor and the Stripe connection.
            </p>
            {view.subscription.status !== "none" && (
              <Notice tone="warn">
                Your subscription is{" "}
                <SubscriptionBadge status={view.subscription.status} />. Configuration is paused
                until it is active again. <a href="/dashboard/billing">Go to billing</a>
              </Notice>
            )}
            <Island name="StripeButton" component={StripeButton} props={{}} />
          </Card>
        )}

        {paid && !platform && (
          <Card title="Create your platform" testid="create-platform-card">
            <p class="muted">
              Your platform holds your tiers and usage counts. Creating it gives you a platform id
              and your first API key, shown once.
            </p>
            <Island name="CreatePlatform" component={CreatePlatform} props={{ baseUrl }} />
          </Card>
        )}

        {platform && (
          <>
            <div class="grid">
              <Card
                title="Platform"
                actions={<a class="btn btn-ghost btn-sm" href="/dashboard/settings">Settings</a>}
                testid="platform-card"
              >
                <KeyValues>
                  <KV term="Platform id">
                    <CopyField value={platform.platformId} label="Copy platform id" />
                  </KV>
                  <KV term="API key">
                    <code data-testid="key-prefix">{platform.keyPrefix}</code>
                  </KV>
                  <KV term="Subscription">
                    <SubscriptionBadge status={view.subscription.status} />
                  </KV>
                </KeyValues>
              </Card>
              <Card
                title="Stripe"
                actions={
                  <a class="btn btn-ghost btn-sm" href="/dashboard/settings#stripe">
                    {platform.stripe.connected ? "Manage" : "Connect"}
                  </a>
                }
                testid="stripe-card"
              >
                {platform.stripe.connected
                  ? (
                    <KeyValues>
                      <KV term="Status">
                        <Badge tone="ok">Connected</Badge>
                      </KV>
                      <KV term="Account">
                        {platform.stripe.displayName && <>{platform.stripe.displayName}{" "}</>}
                        <code>{platform.stripe.accountId}</code>
                      </KV>
                      <KV term="Connected by">
                        {platform.stripe.mode === "connect"
                          ? "Stripe Connect"
                          : `Pasted key …${platform.stripe.keyLast4 ?? ""}`}
                      </KV>
                      <KV term="Mode">{platform.stripe.livemode ? "Live" : "Test"}</KV>
                      <KV term="Paid tiers in Stripe">
                        {platform.tiers.filter((t) => t.price > 0 && t.stripePriceId).length} of
                        {" "}
                        {platform.tiers.filter((t) => t.price > 0).length}
                      </KV>
                    </KeyValues>
                  )
                  : (
                    <p class="muted">
                      Not connected. Connect your Stripe account so your end-users can upgrade to
                      paid tiers through checkout.
                    </p>
                  )}
              </Card>
            </div>

            <Card
              title="Tiers"
              actions={<a class="btn btn-secondary btn-sm" href="/dashboard/tiers">Edit tiers</a>}
            >
              <TiersTable tiers={platform.tiers} />
            </Card>

            <Card title="Quick start" id="quick-start">
              <QuickStart
                baseUrl={baseUrl}
                platformId={platform.platformId}
                keyPrefix={platform.keyPrefix}
                tiers={platform.tiers}
              />
            </Card>

            <RecentUsage usage={usage} />
          </>
        )}
      </div>
    </Shell>
  );
}

function Checklist({ view, called }: { view: MeBody; called: boolean }) {
  const platform = view.platform;
  const done = [
    canConfigure(view),
    platform !== null,
    (platform?.tiers.length ?? 0) > 1,
    platform?.stripe.connected ?? false,
    called,
  ];
  const count = done.filter(Boolean).length;
  return (
    <Card
      title="Get started"
      actions={<span class="muted small">{count} of {done.length} done</span>}
      testid="checklist"
    >
      <ol class="steps">
        <Step n={1} done={done[0]}>
          <a href="/dashboard/billing">Subscribe to dream-api</a>
        </Step>
        <Step n={2} done={done[1]}>Create your platform and save your API key</Step>
        <Step n={3} done={done[2]}>
          <a href="/dashboard/tiers">Define your pricing tiers</a>
        </Step>
        <Step n={4} done={done[3]}>
          <a href="/dashboard/settings#stripe">Connect Stripe and sync your tiers</a>
        </Step>
        <Step n={5} done={done[4]}>
          <a href="#quick-start">Count your first call</a>
        </Step>
      </ol>
    </Card>
  );
}

function Step({ n, done, children }: { n: number; done: boolean; children: ComponentChildren }) {
  return (
    <li class={done ? "is-done" : undefined}>
      <span class="step-dot">{done ? "✓" : n}</span>
      <span class="step-text">{children}</span>
    </li>
  );
}

function RecentUsage({ usage }: { usage: PeriodUsage[] }) {
  return (
    <Card title="End-users this period" testid="recent-usage">
      {usage.every((u) => u.users === 0)
        ? (
          <p class="muted" data-testid="no-usage">
            No calls counted yet this period. Run the quick start above: the first end-user shows up
            here.
          </p>
        )
        : usage.map((u) => (
          <div class="stack-sm">
            <p class="muted small">
              {u.unit === "month" ? "Month" : "Day"} <code>{u.key}</code>:{" "}
              <strong data-testid={`usage-users-${u.unit}`}>
                {u.users}
                {u.truncated ? "+" : ""}
              </strong>{" "}
              {u.users === 1 ? "end-user" : "end-users"},{" "}
              <strong data-testid={`usage-units-${u.unit}`}>
                {u.units.toLocaleString("en-US")}
              </strong>{" "}
              {u.units === 1 ? "unit" : "units"}
              {u.truncated ? " (first 1,000 end-users scanned)" : ""}.
            </p>
            {u.top.length > 0 && (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>End-user</th>
                      <th class="num">Units</th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.top.map((row) => (
                      <tr data-testid="usage-row">
                        <td>
                          <code>{row.userId}</code>
                        </td>
                        <td class="num">{row.count.toLocaleString("en-US")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        ))}
    </Card>
  );
}

/**
 * GET /dashboard/settings — the API key (prefix and rotation with a one-time reveal), the
 * Stripe connection (Connect with Stripe where configured, or a pasted restricted key), sync and
 * disconnect, and the account. Paid founders only (the gate sends others to billing).
 * `?stripe=connected|sync_failed` is the return from Stripe Connect's callback.
 */
import KeyReveal from "../../islands/KeyReveal.tsx";
import StripeConnect from "../../islands/StripeConnect.tsx";
import type { Config } from "../../fresh.config.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import type { MeBody } from "../../lib/founders/me.ts";
import {
  Card,
  CopyField,
  KeyValues,
  KV,
  Notice,
  PageHeader,
  SubscriptionBadge,
} from "../../lib/ui/components.tsx";
import { founderView } from "../../lib/ui/dashboard.tsx";
import { founderWebhookUrl } from "../../lib/billing/founder_stripe.ts";
import { connectConfigured } from "../../lib/billing/stripe_connect.ts";
import { Island } from "../../lib/ui/island.tsx";
import { Shell } from "../../lib/ui/layout.tsx";
import { renderPage } from "../../lib/ui/render.tsx";

/**
 * Where founders' Stripe calls go when it is not Stripe: outside production, `STRIPE_API_URL`
 * is the local Stripe-compatible server (`deno task dev` starts one), where any `sk_test_…` works.
 */
function localStripeUrl(config: Config): string | undefined {
  return config.appEnv !== "production" ? config.stripe.apiUrl : undefined;
}

const GET = define.handler(async (c) => {
  const view = await founderView(c);
  const { config } = c.get("deps");
  const webhookUrl = view.platform
    ? founderWebhookUrl(config.publicUrl, view.platform.platformId)
    : `${config.publicUrl}/webhook/stripe`;
  const returned = c.req.query("stripe");
  return renderPage(
    c,
    <SettingsPage
      view={view}
      baseUrl={config.publicUrl}
      webhookUrl={webhookUrl}
      localStripeUrl={localStripeUrl(config)}
      connectAvailable={connectConfigured(config)}
      connectReturn={returned === "connected" || returned === "sync_failed" ? returned : null}
    />,
  );
});

/** The return from Stripe Connect's callback. */
export type ConnectReturn = "connected" | "sync_failed" | null;

export const route = defineRoute({
  path: "/dashboard/settings",
  auth: "paidPage",
  methods: { GET: { handler: GET } },
});

export function SettingsPage(
  { view, baseUrl, webhookUrl, localStripeUrl, connectAvailable = false, connectReturn = null }: {
    view: MeBody;
    baseUrl: string;
    webhookUrl: string;
    localStripeUrl?: string;
    connectAvailable?: boolean;
    connectReturn?: ConnectReturn;
  },
) {
  const platform = view.platform;
  const stripe = platform?.stripe;
  const viaConnect = !!stripe?.connected && stripe.mode === "connect";
  const paidTiers = platform?.tiers.filter((t) => t.price > 0) ?? [];
  return (
    <Shell title="Settings" dashboard={{ active: "settings", user: view.user }}>
      <PageHeader title="Settings" lead="API key, Stripe connection and account." />
      <div class="stack-lg">
        {platform
          ? (
            <>
              <Card title="API key" id="api-key" testid="api-key-card">
                <p class="muted">
                  Your backend sends this key as{" "}
                  <code>Authorization: Bearer …</code>. We store only its hash, so a lost key cannot
                  be shown again: roll a new one. Give the old key a grace period if your product
                  needs time to switch.
                </p>
                <KeyValues>
                  <KV term="Platform id">
                    <CopyField value={platform.platformId} label="Copy platform id" />
                  </KV>
                </KeyValues>
                <Island
                  name="KeyReveal"
                  component={KeyReveal}
                  props={{
                    keyPrefix: platform.keyPrefix,
                    baseUrl,
                    platformId: platform.platformId,
                  }}
                />
              </Card>
              <Card title="Stripe" id="stripe" testid="stripe-settings">
                <p class="muted">
                  Your end-users pay you through your own Stripe account. Connecting it lets
                  dream-api create products and prices for your paid tiers and receive subscription
                  events{connectAvailable || viaConnect
                    ? ": through Stripe Connect, or, with a pasted key, "
                    : " "}at <code>{webhookUrl}</code>.
                </p>
                {connectReturn && stripe?.connected && (
                  <Notice tone={connectReturn === "connected" ? "ok" : "warn"}>
                    <span data-testid="connect-return">
                      {connectReturn === "connected"
                        ? (
                          <>
                            <strong>Connected with Stripe</strong>
                            {stripe.displayName && <>: {stripe.displayName}</>}{" "}
                            (<code>{stripe.accountId}</code>). Your paid tiers are synced.
                          </>
                        )
                        : (
                          <>
                            <strong>Connected with Stripe</strong> (<code>{stripe.accountId}</code>)
                            {" "}
                            but the sync of your tiers failed: retry with “Sync tiers to Stripe”.
                          </>
                        )}
                    </span>
                  </Notice>
                )}
                {localStripeUrl && !viaConnect && (
                  <Notice tone="info">
                    <span data-testid="local-stripe-hint">
                      <strong>No Stripe account needed here.</strong>{" "}
                      This server talks to the built-in local Stripe (<code>
                        {localStripeUrl}
                      </code>){connectAvailable
                        ? ": “Connect with Stripe” opens its consent page, where you pick or create a test account. Or paste"
                        : ":"} any key that starts with <code>sk_test_</code>, e.g.{" "}
                      <code>sk_test_my_shop</code>, connects (each key is its own account).
                      Connecting also syncs your paid tiers.
                    </span>
                  </Notice>
                )}
                <Island
                  name="StripeConnect"
                  component={StripeConnect}
                  props={{
                    ...platform.stripe,
                    paidTiers: paidTiers.length,
                    syncedTiers: paidTiers.filter((t) => t.stripePriceId).length,
                    connectAvailable,
                  }}
                />
              </Card>
            </>
          )
          : (
            <Notice tone="info">
              Create your platform first: <a href="/dashboard">go to the overview</a>.
            </Notice>
          )}
        <Card title="Account">
          <KeyValues>
            {view.user.email && (
              <KV term="Email">
                <span data-testid="account-email">{view.user.email}</span>
              </KV>
            )}
            <KV term="User id">
              <code>{view.user.id}</code>
            </KV>
            <KV term="Subscription">
              <SubscriptionBadge status={view.subscription.status} />
            </KV>
          </KeyValues>
        </Card>
      </div>
    </Shell>
  );
}

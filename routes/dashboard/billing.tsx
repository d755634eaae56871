/**
 * GET /dashboard/billing — the founder's own dream-api subscription: its status, the subscribe
 * button, and the return from Stripe's checkout (`?checkout=success|canceled`): once paid, the
 * founder goes on to the overview, waiting there for Stripe's webhook if it has not landed yet.
 */
import AwaitSubscription from "../../islands/AwaitSubscription.tsx";
import StripeButton from "../../islands/StripeButton.tsx";
import { define, defineRoute } from "../../lib/http/route.ts";
import type { MeBody } from "../../lib/founders/me.ts";
import { Card, Notice, PageHeader, SubscriptionBadge } from "../../lib/ui/components.tsx";
import { canConfigure, founderView } from "../../lib/ui/dashboard.tsx";
import { Island } from "../../lib/ui/island.tsx";
import { Shell } from "../../lib/ui/layout.tsx";
import { renderPage } from "../../lib/ui/render.tsx";

export type CheckoutReturn = "success" | "canceled" | null;

const GET = define.handler(async (c) => {
  const view = await founderView(c);
  const q = c.req.query("checkout");
  const checkout: CheckoutReturn = q === "success" || q === "canceled" ? q : null;
  // Back from a paid checkout whose webhook already landed: the next step is on the overview.
  if (checkout === "success" && canConfigure(view)) return c.redirect("/dashboard", 303);
  return renderPage(c, <BillingPage view={view} checkout={checkout} />);
});

export const route = defineRoute({
  path: "/dashboard/billing",
  auth: "founderPage",
  methods: { GET: { handler: GET } },
});

export function BillingPage({ view, checkout }: { view: MeBody; checkout: CheckoutReturn }) {
  const paid = canConfigure(view);
  const status = view.subscription.status;
  // The subscription still exists: the card is fixed in the portal, not with a second checkout.
  const failed = status === "past_due" || status === "unpaid";
  return (
    <Shell title="Billing" dashboard={{ active: "billing", user: view.user }}>
      <PageHeader title="Billing" lead="Your dream-api subscription." />
      <div class="stack-lg">
        {checkout === "success" && !paid && (
          <Island
            name="AwaitSubscription"
            component={AwaitSubscription}
            props={{ redirectTo: "/dashboard" }}
          />
        )}
        {checkout === "canceled" && !paid && (
          <Notice tone="info">Checkout was canceled. Nothing was charged.</Notice>
        )}

        <div class="grid-2">
          <Card title="dream-api" class={paid ? undefined : "card-highlight"} testid="plan-card">
            <div class="row">
              <span class="price">
                $29<small>/month</small>
              </span>
              <span class="grow" />
              <SubscriptionBadge status={status} />
            </div>
            {paid
              ? (
                <>
                  <p class="muted">
                    {status === "trialing"
                      ? "You are in your trial. Everything is open."
                      : "Your subscription is active and renews monthly. Stripe emails your receipts."}
                  </p>
                  <PortalButton label="Manage billing" secondary />
                  <p class="muted small">
                    Change your card, read your invoices or cancel in Stripe's billing portal.
                  </p>
                </>
              )
              : failed
              ? (
                <>
                  <p class="muted">
                    Your last payment failed. Configuration is paused until a payment succeeds.
                  </p>
                  <PortalButton label="Update your payment method" />
                  <p class="muted small">
                    Stripe retries the payment with the new card; you return here when it is done.
                  </p>
                </>
              )
              : (
                <>
                  <p class="muted">
                    {status === "none"
                      ? "Subscribe to open your platform, API keys, tiers and the Stripe connection."
                      : "Your subscription is not active. Subscribe again to reopen configuration."}
                  </p>
                  <Island name="StripeButton" component={StripeButton} props={{}} />
                  <p class="muted small">
                    Checkout is hosted by Stripe. You return here when it is done.
                  </p>
                </>
              )}
          </Card>
          <Card title="Included">
            <ul class="checklist">
              <li>One platform with its API key and key rotation</li>
              <li>Unlimited end-users and tenant API calls</li>
              <li>Up to 20 tiers with monthly or daily limits</li>
              <li>Stripe products, prices and checkout for your end-users</li>
              <li>Encrypted storage of your Stripe key</li>
            </ul>
          </Card>
        </div>
      </div>
    </Shell>
  );
}

/** The way to Stripe's billing portal for dream-api's own subscription. */
function PortalButton({ label, secondary = false }: { label: string; secondary?: boolean }) {
  return (
    <Island
      name="StripeButton"
      component={StripeButton}
      props={{
        endpoint: "/dashboard/api/billing-portal",
        label,
        busyLabel: "Opening the billing portal…",
        secondary,
      }}
    />
  );
}

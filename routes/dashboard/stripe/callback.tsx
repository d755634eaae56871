/**
 * GET /dashboard/stripe/callback — where Stripe sends the founder back from its consent page. The
 * state is spent first (forged, reused, expired or another founder's: 400, nothing stored); then a
 * connected and synced platform goes on to Settings, which shows "Connected"; any other ending is
 * a page saying what happened, with the way on (try again, or paste a restricted key).
 */
import {
  completeConnect,
  ConnectCallbackQuery,
  type ConnectOutcome,
} from "../../../lib/billing/stripe_connect.ts";
import type { Founder } from "../../../lib/founders/session.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { Notice } from "../../../lib/ui/components.tsx";
import { Shell } from "../../../lib/ui/layout.tsx";
import { type RenderOptions, renderPage } from "../../../lib/ui/render.tsx";

type Refusal = Extract<ConnectOutcome, { ok: false }>["reason"];

const STATUS: Record<Refusal, NonNullable<RenderOptions["status"]>> = {
  invalid_state: 400,
  denied: 200,
  refused: 422,
  taken: 409,
  unavailable: 503,
};

const GET = define.handler(async (c) => {
  const query = ConnectCallbackQuery.safeParse(c.req.query());
  const outcome = await completeConnect(
    c.get("deps"),
    c.get("founder").userId,
    // An oversized or odd query is no state of ours: refused like a forged one.
    query.success ? query.data : { state: undefined },
  );
  if (outcome.ok) {
    const result = outcome.sync.ok ? "connected" : "sync_failed";
    return c.redirect(`/dashboard/settings?stripe=${result}#stripe`, 303);
  }
  return renderPage(
    c,
    <ConnectProblemPage
      reason={outcome.reason}
      message={outcome.message}
      user={userOf(c.get("founder"))}
    />,
    {
      status: STATUS[outcome.reason],
      ...(outcome.reason === "unavailable" && { headers: { "retry-after": "5" } }),
    },
  );
});

/** The founder as the dashboard's header shows them. */
export function userOf(founder: Founder): { id: string; email?: string } {
  return { id: founder.userId, ...(founder.email && { email: founder.email }) };
}

export const route = defineRoute({
  path: "/dashboard/stripe/callback",
  auth: "paidPage",
  methods: { GET: { handler: GET } },
});

/** Why a Connect attempt could not even start. */
export type NotStarted = "not_configured" | "no_platform";

const TITLES: Record<Refusal | NotStarted, string> = {
  invalid_state: "This link is not valid",
  denied: "Stripe was not connected",
  refused: "Stripe did not connect this account",
  taken: "This Stripe account is already in use",
  unavailable: "Stripe is not answering",
  not_configured: "Connect with Stripe is not available",
  no_platform: "Create your platform first",
};

/** The page of a Connect attempt that did not connect (also used by `/dashboard/stripe/connect`). */
export function ConnectProblemPage(
  { reason, message, user }: {
    reason: Refusal | NotStarted;
    message: string;
    /** The signed-in founder: the page keeps the dashboard's navigation. */
    user: { id: string; email?: string };
  },
) {
  const canRetry = reason !== "not_configured" && reason !== "no_platform" && reason !== "taken";
  const offerKey = reason !== "invalid_state" && reason !== "no_platform";
  return (
    <Shell title={TITLES[reason]} width="narrow" dashboard={{ active: "settings", user }}>
      <div class="stack" data-testid="connect-problem" data-reason={reason}>
        <h1>{TITLES[reason]}</h1>
        <Notice tone={reason === "denied" ? "info" : "warn"}>
          <span data-testid="connect-message">{message}</span>
        </Notice>
        {offerKey && (
          <p class="muted">
            You can also connect by pasting a restricted key (<code>rk_…</code>) in Settings: it
            works with any Stripe account, including one another platform controls.
          </p>
        )}
        <div class="row">
          {canRetry && <a class="btn btn-primary" href="/dashboard/stripe/connect">Try again</a>}
          <a
            class={`btn ${canRetry ? "btn-secondary" : "btn-primary"}`}
            href="/dashboard/settings#stripe"
          >
            {offerKey ? "Use a key instead" : "Back to settings"}
          </a>
        </div>
      </div>
    </Shell>
  );
}

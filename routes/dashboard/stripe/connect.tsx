/**
 * GET /dashboard/stripe/connect — "Connect with Stripe": a fresh single-use state bound to the
 * founder, then 302 to Stripe's consent page. Where Connect is not configured, a page says so and
 * points to the pasted key.
 */
import { connectConfigured, startConnect } from "../../../lib/billing/stripe_connect.ts";
import { ApiError } from "../../../lib/errors.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { renderPage } from "../../../lib/ui/render.tsx";
import { ConnectProblemPage, userOf } from "./callback.tsx";

const GET = define.handler(async (c) => {
  try {
    return c.redirect(await startConnect(c.get("deps"), c.get("founder").userId), 302);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "not_found") throw error;
    return renderPage(
      c,
      <ConnectProblemPage
        reason={connectConfigured(c.get("deps").config) ? "no_platform" : "not_configured"}
        message={error.message}
        user={userOf(c.get("founder"))}
      />,
      { status: 404 },
    );
  }
});

export const route = defineRoute({
  path: "/dashboard/stripe/connect",
  auth: "paidPage",
  methods: { GET: { handler: GET } },
});

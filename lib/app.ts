/** `createApp(deps)`: the whole HTTP surface of dream-api, with its one error handler. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import * as createCheckout from "../routes/api/create-checkout.ts";
import * as customerPortal from "../routes/api/customer-portal.ts";
import * as data from "../routes/api/data.ts";
import * as usage from "../routes/api/usage.ts";
import * as dashboardKeys from "../routes/dashboard/api/keys.ts";
import * as dashboardMe from "../routes/dashboard/api/me.ts";
import * as dashboardPlatform from "../routes/dashboard/api/platform.ts";
import * as dashboardStripe from "../routes/dashboard/api/stripe.ts";
import * as dashboardStripeSync from "../routes/dashboard/api/stripe/sync.ts";
import * as dashboardSubscribe from "../routes/dashboard/api/subscribe.ts";
import * as dashboardBillingPortal from "../routes/dashboard/api/billing-portal.ts";
import * as dashboardTiers from "../routes/dashboard/api/tiers.ts";
import * as dashboardTiersPreview from "../routes/dashboard/api/tiers/preview.ts";
import * as dashboardUsage from "../routes/dashboard/api/usage.ts";
import * as dashboardUsageCsv from "../routes/dashboard/api/usage.csv.ts";
import * as health from "../routes/health.ts";
import * as openapi from "../routes/openapi.json.ts";
import * as docs from "../routes/docs.tsx";
import * as clientSource from "../routes/client/dream_api.ts.ts";
import * as signInDev from "../routes/sign-in/dev.ts";
import * as signOut from "../routes/sign-out.ts";
import * as webhookPlatform from "../routes/webhook/platform.ts";
import * as webhookStripe from "../routes/webhook/stripe.ts";
import * as home from "../routes/index.tsx";
import * as signIn from "../routes/sign-in.tsx";
import * as dashboardPage from "../routes/dashboard/index.tsx";
import * as analyticsPage from "../routes/dashboard/analytics.tsx";
import * as billingPage from "../routes/dashboard/billing.tsx";
import * as tiersPage from "../routes/dashboard/tiers.tsx";
import * as settingsPage from "../routes/dashboard/settings.tsx";
import { serveStatic } from "./ui/assets.ts";
import { notFoundPage, serverErrorPage, wantsHtml } from "./ui/error_page.tsx";
import { type AppEnv, type Deps, mountRoute } from "./define.ts";
import { ApiError, errorBody } from "./errors.ts";
import { MAX_BODY_BYTES } from "./http/body.ts";
import { hotRoutes } from "./http/hot_routes.ts";
import { errorResponse } from "./http/json.ts";
import { REQUEST_ID_HEADER, requestIdOf } from "./http/request_id.ts";
import { requireApiKey } from "./middleware/api_key.ts";
import { limitBody } from "./middleware/body_limit.ts";
import {
  requireActiveSubscription,
  requireFounder,
  requireSameOrigin,
} from "./middleware/founder.ts";

export type { Deps } from "./define.ts";

/** Largest `/webhook/stripe` body accepted (Stripe's events are far smaller); more is 413. */
export const WEBHOOK_MAX_BYTES = 512 * 1024;

/**
 * Builds the app around its dependencies; nothing here opens KV or reads the environment.
 * `hotRoutes: false` serves the metered routes through Hono too (tests compare the two).
 */
export function createApp(deps: Deps, options: { hotRoutes?: boolean } = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Global middleware does not run for the hot routes (below); tests/http/hot_routes_test.ts
  // compares their answers with Hono's and fails if one added here changes what a caller sees.
  // The request id comes first so that every answer, 404s and errors included, carries it.
  app.use(async (c, next) => {
    const requestId = requestIdOf(c.req.raw.headers.get(REQUEST_ID_HEADER));
    c.set("requestId", requestId);
    c.set("deps", deps);
    await next();
    c.header(REQUEST_ID_HEADER, requestId);
  });

  mountRoute(app, "/health", health);
  mountRoute(app, "/openapi.json", openapi);
  mountRoute(app, "/client/dream_api.ts", clientSource);
  mountRoute(app, "/docs", docs);
  mountRoute(app, "/api/data", data, limitBody(), requireApiKey());
  mountRoute(app, "/api/usage", usage, requireApiKey());
  mountRoute(app, "/api/create-checkout", createCheckout, limitBody(), requireApiKey());
  mountRoute(app, "/api/customer-portal", customerPortal, limitBody(), requireApiKey());
  // Every founder's Stripe account: end-users' subscriptions. Raw body, verified per platform.
  mountRoute(app, "/webhook/stripe", webhookStripe, limitBody(WEBHOOK_MAX_BYTES));

  // Founders: sign-in and the dashboard's JSON API (pages are mounted with their own middleware).
  mountRoute(app, "/sign-in/dev", signInDev, limitBody());
  mountRoute(app, "/sign-out", signOut, requireSameOrigin());
  mountRoute(app, "/dashboard/api/me", dashboardMe, requireFounder());
  mountRoute(app, "/dashboard/api/subscribe", dashboardSubscribe, limitBody(), requireFounder());
  // Not behind the paid gate: a founder whose payment failed fixes it there.
  mountRoute(
    app,
    "/dashboard/api/billing-portal",
    dashboardBillingPortal,
    limitBody(),
    requireFounder(),
  );
  // Configuration: signed in (cheap, no KV) → paid (one KV read) → the handler.
  const config = [limitBody(), requireFounder(), requireActiveSubscription()];
  mountRoute(app, "/dashboard/api/platform", dashboardPlatform, ...config);
  mountRoute(app, "/dashboard/api/keys", dashboardKeys, ...config);
  mountRoute(app, "/dashboard/api/tiers", dashboardTiers, ...config);
  mountRoute(app, "/dashboard/api/tiers/preview", dashboardTiersPreview, ...config);
  mountRoute(app, "/dashboard/api/usage", dashboardUsage, ...config);
  mountRoute(app, "/dashboard/api/usage.csv", dashboardUsageCsv, ...config);
  mountRoute(app, "/dashboard/api/stripe", dashboardStripe, ...config);
  mountRoute(app, "/dashboard/api/stripe/sync", dashboardStripeSync, ...config);
  // dream-api's own Stripe account: founders' subscriptions.
  mountRoute(app, "/webhook/platform", webhookPlatform, limitBody(256 * 1024));

  // Pages: server-rendered Preact; only islands ship JavaScript. Unpaid founders are sent to
  // billing from the pages that configure.
  app.use("/static/*", serveStatic());
  mountRoute(app, "/", home);
  mountRoute(app, "/sign-in", signIn);
  const page = requireFounder({ page: true });
  const paidPage = requireActiveSubscription({ page: true });
  mountRoute(app, "/dashboard", dashboardPage, page);
  mountRoute(app, "/dashboard/billing", billingPage, page);
  mountRoute(app, "/dashboard/tiers", tiersPage, page, paidPage);
  mountRoute(app, "/dashboard/analytics", analyticsPage, page, paidPage);
  mountRoute(app, "/dashboard/settings", settingsPage, page, paidPage);

  app.notFound((c) =>
    wantsHtml(c) ? notFoundPage(c) : c.json(
      errorBody(
        "not_found",
        `No route for ${c.req.method} ${c.req.path}.`,
        undefined,
        c.get("requestId"),
      ),
      404,
    )
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      error = new ApiError("invalid_request", error.message || "Bad request.");
    }
    const requestId = c.get("requestId");
    const unexpected = (error: unknown) =>
      deps.log.log("error", "unhandled error", {
        method: c.req.method,
        path: c.req.path,
        requestId,
        error,
      });
    if (!(error instanceof ApiError) && wantsHtml(c)) {
      unexpected(error);
      return serverErrorPage(c);
    }
    return errorResponse(error, unexpected, requestId);
  });

  // The two metered tenant routes skip Hono's per-request machinery: the same handlers, checks
  // and envelope (lib/http/hot_routes.ts). `app.request()` calls `app.fetch`, so tests see it too.
  if (options.hotRoutes === false) return app;
  app.fetch = hotRoutes(deps, [
    { method: "POST", path: "/api/data", handler: data.POST, maxBody: MAX_BODY_BYTES },
    { method: "GET", path: "/api/usage", handler: usage.GET },
  ], app.fetch);
  return app;
}

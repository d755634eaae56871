/**
 * Every route of dream-api, one line each: `createApp` mounts them (lib/app.ts) and the OpenAPI
 * document is made from their docs (lib/openapi/routes.ts). Adding a route = its file under
 * `routes/` (exporting `route = defineRoute(…)`) + one line here; tests/http/manifest_test.ts fails
 * while a file is missing here or a route's path is not its file's.
 *
 * The order is the OpenAPI document's order of operations (mounting does not depend on it: every
 * path is exact).
 */
import type { RouteDefinition } from "../lib/http/route.ts";
import * as health from "./health.ts";
import * as openapiJson from "./openapi.json.ts";
import * as clientSource from "./client/dream_api.ts.ts";
import * as docs from "./docs.tsx";
import * as apiData from "./api/data.ts";
import * as apiUsage from "./api/usage.ts";
import * as apiCheck from "./api/check.ts";
import * as apiCreateCheckout from "./api/create-checkout.ts";
import * as apiCustomerPortal from "./api/customer-portal.ts";
import * as webhookStripe from "./webhook/stripe.ts";
import * as signInDev from "./sign-in/dev.ts";
import * as signOut from "./sign-out.ts";
import * as dashboardApiMe from "./dashboard/api/me.ts";
import * as dashboardApiSubscribe from "./dashboard/api/subscribe.ts";
import * as dashboardApiBillingPortal from "./dashboard/api/billing-portal.ts";
import * as dashboardApiPlatform from "./dashboard/api/platform.ts";
import * as dashboardApiKeys from "./dashboard/api/keys.ts";
import * as dashboardApiTiers from "./dashboard/api/tiers.ts";
import * as dashboardApiStripe from "./dashboard/api/stripe.ts";
import * as dashboardApiStripeSync from "./dashboard/api/stripe/sync.ts";
import * as dashboardApiStripeDisconnect from "./dashboard/api/stripe/disconnect.ts";
import * as dashboardApiTiersPreview from "./dashboard/api/tiers/preview.ts";
import * as dashboardApiUsage from "./dashboard/api/usage.ts";
import * as dashboardApiUsageCsv from "./dashboard/api/usage.csv.ts";
import * as dashboardApiWebhooks from "./dashboard/api/webhooks.ts";
import * as dashboardApiWebhooksRotate from "./dashboard/api/webhooks/rotate.ts";
import * as dashboardApiWebhooksTest from "./dashboard/api/webhooks/test.ts";
import * as webhookPlatform from "./webhook/platform.ts";
import * as home from "./index.tsx";
import * as signIn from "./sign-in.tsx";
import * as dashboard from "./dashboard/index.tsx";
import * as dashboardBilling from "./dashboard/billing.tsx";
import * as dashboardTiers from "./dashboard/tiers.tsx";
import * as dashboardAnalytics from "./dashboard/analytics.tsx";
import * as dashboardSettings from "./dashboard/settings.tsx";
import * as dashboardStripeConnect from "./dashboard/stripe/connect.tsx";
import * as dashboardStripeCallback from "./dashboard/stripe/callback.tsx";
import * as dashboardWebhooks from "./dashboard/webhooks.tsx";

export const MANIFEST: readonly RouteDefinition[] = [
  health.route,
  openapiJson.route,
  clientSource.route,
  docs.route,
  apiData.route,
  apiUsage.route,
  apiCheck.route,
  apiCreateCheckout.route,
  apiCustomerPortal.route,
  webhookStripe.route,
  signInDev.route,
  signOut.route,
  dashboardApiMe.route,
  dashboardApiSubscribe.route,
  dashboardApiBillingPortal.route,
  dashboardApiPlatform.route,
  dashboardApiKeys.route,
  dashboardApiTiers.route,
  dashboardApiStripe.route,
  dashboardApiStripeSync.route,
  dashboardApiStripeDisconnect.route,
  dashboardApiTiersPreview.route,
  dashboardApiUsage.route,
  dashboardApiUsageCsv.route,
  dashboardApiWebhooks.route,
  dashboardApiWebhooksRotate.route,
  dashboardApiWebhooksTest.route,
  webhookPlatform.route,
  home.route,
  signIn.route,
  dashboard.route,
  dashboardBilling.route,
  dashboardTiers.route,
  dashboardAnalytics.route,
  dashboardSettings.route,
  dashboardStripeConnect.route,
  dashboardStripeCallback.route,
  dashboardWebhooks.route,
];

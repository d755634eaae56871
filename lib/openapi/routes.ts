/**
 * Every `/api/*` and `/dashboard/api/*` operation, registered for the OpenAPI document with the
 * same zod schemas its handler validates with. Adding a route = one entry here; the OpenAPI test
 * fails while a mounted route is missing (or a registered one is not mounted).
 */
import {
  PreviewTiersBodySchema,
  TierPreviewResponseSchema,
  UsageCsvQuerySchema,
  UsageQuerySchema,
  UsageReportSchema,
} from "../schemas/analytics.ts";
import { CreateCheckoutBodySchema, CustomerPortalBodySchema } from "../schemas/billing.ts";
import {
  ConnectStripeBodySchema,
  CreatePlatformBodySchema,
  PutTiersBodySchema,
  RotateKeyBodySchema,
} from "../schemas/dashboard.ts";
import {
  ApiKeyResponseSchema,
  CheckoutResponseSchema,
  LimitExceededResponseSchema,
  MeResponseSchema,
  PlatformCreatedResponseSchema,
  PortalResponseSchema,
  StripeConnectedResponseSchema,
  StripeSyncResponseSchema,
  TiersResponseSchema,
  UrlResponseSchema,
  UsageResponseSchema,
} from "../schemas/responses.ts";
import { TrackBodySchema } from "../schemas/tenant.ts";
import { z } from "zod";
import type { ResponseHeader, RouteDoc } from "./types.ts";

const RATE_LIMIT: ResponseHeader[] = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];

export const ROUTES: RouteDoc[] = [
  // ── Tenant API ────────────────────────────────────────────────────────────────────────────
  {
    method: "post",
    path: "/api/data",
    tag: "Tenant API",
    summary: "Count usage for an end-user",
    description:
      "Counts `amount` units (default 1) for the end-user in the current period, atomically checked against their plan's limit. When the amount does not fit, nothing is counted and the answer is 429. With an `Idempotency-Key`, a repeat within 24 hours (same key, platform and end-user) with the same body returns the first answer again and counts nothing; it carries `Idempotent-Replayed: true`. The same key with another body (another `amount`) is 409 `conflict` and counts nothing, also when the two arrive at once.",
    auth: "apiKey",
    headers: ["X-User-Id", "X-User-Plan", "Idempotency-Key"],
    body: TrackBodySchema,
    example: { amount: 1 },
    responses: {
      200: {
        description: "Counted. The usage after this call.",
        schema: UsageResponseSchema,
        headers: [...RATE_LIMIT, "Idempotent-Replayed"],
      },
      429: {
        description:
          "The amount does not fit in the limit: nothing was counted. The body carries the usage as it stands.",
        schema: LimitExceededResponseSchema,
        headers: [...RATE_LIMIT, "Retry-After", "Idempotent-Replayed"],
      },
    },
    errors: ["invalid_request", "conflict"],
  },
  {
    method: "get",
    path: "/api/usage",
    tag: "Tenant API",
    summary: "Read an end-user's usage",
    description: "The end-user's usage in the current period, without counting anything.",
    auth: "apiKey",
    headers: ["X-User-Id", "X-User-Plan"],
    responses: {
      200: {
        description: "The usage this period.",
        schema: UsageResponseSchema,
        headers: RATE_LIMIT,
      },
    },
    errors: ["invalid_request"],
  },

  // ── End-user billing ──────────────────────────────────────────────────────────────────────
  {
    method: "post",
    path: "/api/create-checkout",
    tag: "End-user billing",
    summary: "Open Checkout for an end-user's upgrade",
    description:
      "Creates a Checkout Session in your Stripe account for a paid tier (its `stripePriceId`, set by syncing your tiers), reusing the end-user's Stripe customer when one is known. When the end-user completes it, their plan becomes that tier at once. A retry with the same `Idempotency-Key` returns the same session; 409 `conflict` when the end-user already pays (send them to the portal) or the key was used with another body.",
    auth: "apiKey",
    headers: ["X-User-Id", "Idempotency-Key"],
    body: CreateCheckoutBodySchema,
    example: {
      tier: "pro",
      successUrl: "https://app.example.com/billing/done",
      cancelUrl: "https://app.example.com/billing",
      email: "ada@example.com",
    },
    bodyRequired: true,
    responses: {
      200: { description: "Send the end-user to `url`.", schema: CheckoutResponseSchema },
    },
    errors: ["invalid_request", "conflict", "stripe_not_connected", "stripe_error"],
  },
  {
    method: "post",
    path: "/api/customer-portal",
    tag: "End-user billing",
    summary: "Open the billing portal for an end-user",
    description:
      "A Stripe billing-portal session where the end-user manages or cancels their subscription. 404 when the end-user has never had a Stripe customer.",
    auth: "apiKey",
    headers: ["X-User-Id", "Idempotency-Key"],
    body: CustomerPortalBodySchema,
    example: { returnUrl: "https://app.example.com/account" },
    bodyRequired: true,
    responses: {
      200: { description: "Send the end-user to `url`.", schema: PortalResponseSchema },
    },
    errors: ["invalid_request", "not_found", "conflict", "stripe_not_connected", "stripe_error"],
  },

  // ── Founders' API ─────────────────────────────────────────────────────────────────────────
  {
    method: "get",
    path: "/dashboard/api/me",
    tag: "Founders' API",
    summary: "Your account, platform and Stripe connection",
    description:
      "Your dream-api subscription, your platform (id, key prefix, tiers) and Stripe connection. Never contains a secret.",
    auth: "session",
    responses: { 200: { description: "The signed-in founder.", schema: MeResponseSchema } },
  },
  {
    method: "post",
    path: "/dashboard/api/subscribe",
    tag: "Founders' API",
    summary: "Start your dream-api subscription",
    description:
      "Creates a Stripe Checkout Session for dream-api's monthly plan; send the browser to `url`. 409 while you pay, or after a failed payment (fix the card in the billing portal instead).",
    auth: "session",
    responses: { 200: { description: "The Checkout page.", schema: UrlResponseSchema } },
    errors: ["conflict", "stripe_error"],
  },
  {
    method: "post",
    path: "/dashboard/api/billing-portal",
    tag: "Founders' API",
    summary: "Manage your dream-api subscription",
    description:
      "Creates a Stripe billing-portal session for your dream-api subscription (card, invoices, cancel); send the browser to `url`. 409 before your first checkout.",
    auth: "session",
    responses: { 200: { description: "The billing portal.", schema: UrlResponseSchema } },
    errors: ["conflict", "stripe_error"],
  },
  {
    method: "post",
    path: "/dashboard/api/platform",
    tag: "Founders' API",
    summary: "Create your platform",
    description:
      "Creates your platform with the default tiers (`free`, 100 a month) and answers its API key: the only time the key is shown.",
    auth: "session",
    body: CreatePlatformBodySchema,
    example: { name: "Acme Notes" },
    responses: {
      201: { description: "Created; store the key now.", schema: PlatformCreatedResponseSchema },
    },
    errors: ["invalid_request", "subscription_required", "conflict", "unavailable"],
  },
  {
    method: "post",
    path: "/dashboard/api/keys",
    tag: "Founders' API",
    summary: "Rotate your API key",
    description:
      "Issues a new API key. The previous key keeps working for `graceSeconds` (default 0: it stops at once), so you can deploy the new one first.",
    auth: "session",
    body: RotateKeyBodySchema,
    example: { graceSeconds: 3600 },
    responses: { 201: { description: "The new key, shown once.", schema: ApiKeyResponseSchema } },
    errors: ["invalid_request", "subscription_required", "not_found"],
  },
  {
    method: "put",
    path: "/dashboard/api/tiers",
    tag: "Founders' API",
    summary: "Replace your tiers",
    description:
      "Replaces your platform's tiers. The first tier with price 0 is the default for end-users without a plan. Field-level problems come back in `error.details`.",
    auth: "session",
    body: PutTiersBodySchema,
    example: {
      tiers: [
        { id: "free", name: "Free", price: 0, limit: 100, period: "month" },
        { id: "pro", name: "Pro", price: 29, limit: 10000, period: "month" },
        { id: "unlimited", name: "Unlimited", price: 99, limit: null, period: "month" },
      ],
    },
    bodyRequired: true,
    responses: { 200: { description: "The tiers as saved.", schema: TiersResponseSchema } },
    errors: ["invalid_request", "subscription_required", "not_found", "unavailable"],
  },
  {
    method: "post",
    path: "/dashboard/api/stripe",
    tag: "Founders' API",
    summary: "Connect your Stripe account",
    description:
      "Checks the secret key with a real Stripe call, then stores it encrypted. It is never returned again beyond its last 4 characters.",
    auth: "session",
    body: ConnectStripeBodySchema,
    example: { secretKey: "sk_test_51Nv0FGQ9RKHgCVdKexample" },
    bodyRequired: true,
    responses: {
      200: { description: "Connected.", schema: StripeConnectedResponseSchema },
    },
    errors: ["invalid_request", "subscription_required", "not_found", "stripe_rejected"],
  },
  {
    method: "post",
    path: "/dashboard/api/stripe/sync",
    tag: "Founders' API",
    summary: "Sync your tiers to Stripe",
    description:
      "Creates or updates a product and a monthly price in your Stripe account for every paid tier (no duplicates on a second run), stores each `stripePriceId`, and creates the webhook endpoint that keeps your end-users' plans current.",
    auth: "session",
    responses: {
      200: {
        description: "The tiers with their prices, and the webhook.",
        schema: StripeSyncResponseSchema,
      },
    },
    errors: ["subscription_required", "not_found", "stripe_not_connected", "stripe_error"],
  },
  {
    method: "post",
    path: "/dashboard/api/tiers/preview",
    tag: "Founders' API",
    summary: "Preview the impact of edited tiers",
    description:
      "For each tier as edited (validated like `PUT /dashboard/api/tiers`, nothing is saved): how many of its end-users this period (this month, or today for a daily tier) are already above its limit, and how many are at 90–100% of it. Usage is read at most 15 s before `asOf`.",
    auth: "session",
    body: PreviewTiersBodySchema,
    example: {
      tiers: [
        { id: "free", name: "Free", price: 0, limit: 50, period: "month" },
        { id: "pro", name: "Pro", price: 29, limit: 5000, period: "month" },
      ],
    },
    bodyRequired: true,
    responses: { 200: { description: "Each tier's impact.", schema: TierPreviewResponseSchema } },
    errors: ["invalid_request", "subscription_required", "not_found"],
  },
  {
    method: "get",
    path: "/dashboard/api/usage",
    tag: "Founders' API",
    summary: "Usage analytics of a period",
    description:
      "Totals and a daily series (units, calls allowed, calls refused with 429, active end-users) and your end-users by count, descending, 100 a page: pass `next` as `cursor` for the following page. `q` keeps end-users whose id starts with it. `totals.activeUsers` is exact; `daily[].activeUsers` is approximate (see `accuracy`).",
    auth: "session",
    query: UsageQuerySchema,
    responses: { 200: { description: "The period's usage.", schema: UsageReportSchema } },
    errors: ["invalid_request", "subscription_required", "not_found"],
  },
  {
    method: "get",
    path: "/dashboard/api/usage.csv",
    tag: "Founders' API",
    summary: "Every end-user of a period as CSV",
    description:
      "Streams `user_id,plan,count,limit` for every end-user counted in the period, in user-id order (RFC 4180; ids a spreadsheet would run as a formula get a leading `'`).",
    auth: "session",
    query: UsageCsvQuerySchema,
    responses: {
      200: {
        description: "The CSV file.",
        contentType: "text/csv",
        schema: z.string(),
      },
    },
    errors: ["invalid_request", "subscription_required", "not_found"],
  },
];

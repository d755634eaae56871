/**
 * Response bodies of every JSON endpoint, as zod schemas. The OpenAPI document (`/openapi.json`)
 * is generated from them, and the OpenAPI tests check real answers against that document, so a
 * response that drifts from what is written here fails a test.
 */
import { SUBSCRIPTION_STATUSES } from "./subscriptions.ts";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors.ts";
import { TierSchema } from "./tiers.ts";

const isoDate = (description: string, example: string) =>
  z.iso.datetime({ offset: false }).meta({ description, examples: [example] });

/** The end-user's usage in the current period; `limit`/`remaining` are `null` when unlimited. */
export const UsageSchema = z.object({
  count: z.number().int().nonnegative().meta({ description: "Units counted this period." }),
  limit: z.number().int().nonnegative().nullable().meta({
    description: "The plan's limit per period; null for an unlimited plan.",
  }),
  remaining: z.number().int().nonnegative().nullable().meta({
    description: "limit − count (never below 0); null for an unlimited plan.",
  }),
}).meta({ examples: [{ count: 45, limit: 100, remaining: 55 }] });

/** The period the usage belongs to: `[start, end)` in UTC. */
export const PeriodSchema = z.object({
  start: isoDate("Start of the period (inclusive, UTC).", "2026-11-01T00:00:00.000Z"),
  end: isoDate("End of the period (exclusive, UTC).", "2026-12-01T00:00:00.000Z"),
});

/** Where the plan came from: an active Stripe subscription, the `X-User-Plan` header, or the default. */
export const PlanSourceSchema = z.enum(["subscription", "header", "default"]).meta({
  description:
    "Which rule chose the plan: an active/trialing/past_due Stripe subscription, the X-User-Plan header, or the platform's default (first free) tier.",
});

/** The feature a call counted or read; absent: the tier's main meter. */
const FeatureNameSchema = z.string().meta({
  description: "The feature counted or read (absent: the tier's main meter).",
  examples: ["exports"],
});

/** An on/off feature of the end-user's tier: whether the tier includes it. */
export const SwitchStateSchema = z.object({ enabled: z.boolean() });

/** `GET /api/usage`'s `features`: each feature of the end-user's tier, metered or on/off. */
export const FeaturesUsageSchema = z.record(z.string(), z.union([UsageSchema, SwitchStateSchema]))
  .meta({
    description:
      "Every feature of the end-user's tier (present when the tier declares features): a metered feature's usage in its own period, or whether an on/off feature is enabled.",
    examples: [{ exports: { count: 3, limit: 50, remaining: 47 }, sso: { enabled: false } }],
  });

/** `POST /api/data` (200) and `GET /api/usage`. */
export const UsageResponseSchema = z.object({
  success: z.literal(true),
  usage: UsageSchema,
  plan: z.string().meta({ description: "The tier id the call was counted under." }),
  planSource: PlanSourceSchema,
  period: PeriodSchema,
  feature: FeatureNameSchema.optional(),
  features: FeaturesUsageSchema.optional(),
}).meta({
  examples: [{
    success: true,
    usage: { count: 45, limit: 100, remaining: 55 },
    plan: "free",
    planSource: "default",
    period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
  }],
});

const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** Every error code the API answers with (`lib/errors.ts`). */
export const ErrorCodeSchema = z.enum(ERROR_CODES).meta({
  description: "Machine-readable error code; the HTTP status follows from it (see the table).",
});

/** The answer's `X-Request-Id`, repeated in every error envelope. */
export const RequestIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).meta({
  description:
    "This answer's id (also its X-Request-Id header): the caller's own X-Request-Id when it is 1–128 characters of letters, digits, '.', '_', ':' and '-', else one the server made. Quote it when you contact support.",
  examples: ["k3x9q2m7ab-1f"],
});

/** `feature_not_included`'s details: what to offer the end-user instead. */
export const FeatureNotIncludedDetailsSchema = z.object({
  feature: z.string(),
  plan: z.string().meta({ description: "The end-user's tier, which lacks the feature." }),
  upgradeTo: z.string().nullable().meta({
    description: "The cheapest tier that includes the feature; null when none does.",
  }),
}).meta({ examples: [{ feature: "exports", plan: "free", upgradeTo: "pro" }] });

/** The one error envelope: `{"success":false,"error":{"code","message","requestId"}}`. */
export const ErrorEnvelopeSchema = z.object({
  success: z.literal(false),
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string().meta({ description: "Human-readable; names the field when input is bad." }),
    details: z.union([
      z.array(z.object({ path: z.string(), message: z.string() })),
      FeatureNotIncludedDetailsSchema,
    ]).optional().meta({
      description:
        "Field-level problems when input failed validation; for `feature_not_included`, the feature, the plan and the cheapest plan that includes it.",
    }),
    requestId: RequestIdSchema,
  }),
});

/** `POST /api/data` (429): the envelope plus the usage that did not fit. */
export const LimitExceededResponseSchema = z.object({
  success: z.literal(false),
  error: z.object({
    code: z.literal("limit_exceeded"),
    message: z.string(),
    requestId: RequestIdSchema,
  }),
  usage: UsageSchema,
  plan: z.string(),
  planSource: PlanSourceSchema,
  period: PeriodSchema,
  feature: FeatureNameSchema.optional(),
}).meta({
  examples: [{
    success: false,
    error: {
      code: "limit_exceeded",
      message: "Usage limit reached: 1 more would exceed 100 for plan 'free' this period.",
      requestId: "k3x9q2m7ab-1f",
    },
    usage: { count: 100, limit: 100, remaining: 0 },
    plan: "free",
    planSource: "default",
    period: { start: "2026-11-01T00:00:00.000Z", end: "2026-12-01T00:00:00.000Z" },
  }],
});

/** `GET /api/check`: whether a call would be allowed now; counts nothing. */
export const CheckResponseSchema = z.object({
  success: z.literal(true),
  allowed: z.boolean().meta({
    description:
      "Whether the call would be allowed now: the amount fits the metered limit, or the tier includes the on/off feature.",
  }),
  feature: z.string().nullable().meta({
    description: "The feature checked; null for the tier's main meter.",
  }),
  plan: z.string().meta({ description: "The end-user's tier id." }),
  usage: UsageSchema.optional().meta({
    description:
      "The usage as it stands, for a metered check (absent for on/off features and features the tier lacks).",
  }),
}).meta({
  examples: [{
    success: true,
    allowed: true,
    feature: "exports",
    plan: "pro",
    usage: { count: 3, limit: 50, remaining: 47 },
  }],
});
export type CheckResponse = z.infer<typeof CheckResponseSchema>;

/** A URL to send the browser to (Stripe Checkout, the billing portal). */
export const UrlResponseSchema = z.object({
  url: z.url().meta({ examples: ["https://checkout.stripe.com/c/pay/cs_test_a1b2c3"] }),
});
export type UrlResponse = z.infer<typeof UrlResponseSchema>;

/** `POST /api/create-checkout`. */
export const CheckoutResponseSchema = z.object({
  url: z.url().meta({ description: "Stripe Checkout page to redirect the end-user to." }),
  sessionId: z.string().meta({ examples: ["cs_test_a1b2c3"] }),
}).meta({
  examples: [{
    url: "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
    sessionId: "cs_test_a1b2c3",
  }],
});
export type CheckoutResponse = z.infer<typeof CheckoutResponseSchema>;

/** `POST /api/customer-portal`. */
export const PortalResponseSchema = z.object({
  url: z.url().meta({ description: "Stripe billing-portal page for the end-user." }),
}).meta({ examples: [{ url: "https://billing.stripe.com/p/session/test_a1b2c3" }] });
export type PortalResponse = z.infer<typeof PortalResponseSchema>;

/** Stripe's subscription statuses, plus `none` for a founder who never subscribed. */
export const SubscriptionStatusSchema = z.enum(["none", ...SUBSCRIPTION_STATUSES]);

/** The founder's Stripe connection, never with the key beyond its last 4 characters. */
export const StripeConnectionSchema = z.object({
  connected: z.boolean(),
  mode: z.enum(["connect", "key"]).optional().meta({
    description:
      "How it is connected: `connect` (Stripe Connect, no secret of yours stored) or `key` (a pasted secret or restricted key).",
  }),
  accountId: z.string().optional().meta({ examples: ["acct_1Nv0FGQ9RKHgCVdK"] }),
  displayName: z.string().optional().meta({
    description: "Connect: the account's name in Stripe, when it has one.",
    examples: ["Acme Notes"],
  }),
  livemode: z.boolean().optional(),
  keyLast4: z.string().length(4).optional().meta({
    description: "The last 4 characters of the connected key: all that is ever shown again.",
  }),
}).meta({
  examples: [{
    connected: true,
    mode: "connect",
    accountId: "acct_1Nv0FGQ9RKHgCVdK",
    displayName: "Acme Notes",
    livemode: false,
  }],
});

/** `GET /dashboard/api/me`. */
export const MeResponseSchema = z.object({
  user: z.object({
    id: z.string().meta({ examples: ["user_2abc"] }),
    email: z.string().optional().meta({
      description: "The session's `email` claim, when it has one.",
      examples: ["ada@example.com"],
    }),
  }),
  subscription: z.object({ status: SubscriptionStatusSchema }),
  platform: z.object({
    platformId: z.string().meta({ examples: ["plt_8f3k2m9q"] }),
    keyPrefix: z.string().meta({
      description: "The start of the current API key, safe to show.",
      examples: ["dk_live_AbC1…"],
    }),
    tiers: z.array(TierSchema),
    stripe: StripeConnectionSchema,
  }).nullable().meta({ description: "null until the founder creates their platform." }),
});

/** The founder's Stripe connection as `GET /dashboard/api/me` shows it. */
export type StripeConnectionView = z.infer<typeof StripeConnectionSchema>;
/** `GET /dashboard/api/me`'s body, which the dashboard pages render from too. */
export type MeBody = z.infer<typeof MeResponseSchema>;
/** The founder's platform as `MeBody` shows it. */
export type MePlatform = NonNullable<MeBody["platform"]>;

/** `POST /dashboard/api/platform` (201): the only time the key is shown. */
export const PlatformCreatedResponseSchema = z.object({
  platformId: z.string(),
  apiKey: z.string().meta({ description: "The secret API key, shown this once." }),
}).meta({
  examples: [{
    platformId: "plt_8f3k2m9q",
    apiKey: "dk_live_c2hvd24gb25jZS1zdG9yZS1pdC1zYWZlbHktbm93LXBsZWFzZQ",
  }],
});
export type PlatformCreatedResponse = z.infer<typeof PlatformCreatedResponseSchema>;

/** `POST /dashboard/api/keys` (201). */
export const ApiKeyResponseSchema = z.object({
  apiKey: z.string().meta({ description: "The new secret API key, shown this once." }),
});
export type ApiKeyResponse = z.infer<typeof ApiKeyResponseSchema>;

/** `PUT /dashboard/api/tiers`. */
export const TiersResponseSchema = z.object({ tiers: z.array(TierSchema) });
export type TiersResponse = z.infer<typeof TiersResponseSchema>;

/** `POST /dashboard/api/stripe`. */
export const StripeConnectedResponseSchema = z.object({
  connected: z.literal(true),
  accountId: z.string().meta({ examples: ["acct_1Nv0FGQ9RKHgCVdK"] }),
  livemode: z.boolean(),
});
export type StripeConnectedResponse = z.infer<typeof StripeConnectedResponseSchema>;

/** `POST /dashboard/api/stripe/sync`. */
export const StripeSyncResponseSchema = z.object({
  tiers: z.array(TierSchema).meta({
    description: "The tiers, each paid one with its stripePriceId.",
  }),
  webhook: z.object({
    id: z.string().meta({ examples: ["we_1Nv0FGQ9RKHgCVdK"] }),
    url: z.url().meta({
      examples: ["https://dream-api.example/webhook/stripe?platform=plt_8f3k2m9q"],
    }),
  }).nullable().meta({
    description:
      "The endpoint made in your account for a pasted key; `null` with Stripe Connect, whose events reach dream-api's own Connect endpoint.",
  }),
});
export type StripeSyncResponse = z.infer<typeof StripeSyncResponseSchema>;

/**
 * Request bodies of the founders' JSON API (`/dashboard/api/*`). The handlers validate with these
 * and the OpenAPI document is generated from them.
 */
import { z } from "zod";
import { TiersSchema } from "./tiers.ts";

/** `POST /dashboard/api/platform`. */
export const CreatePlatformBodySchema = z.object({
  name: z.string().trim().min(1, "a name is required").max(80).optional(),
});

/** `POST /dashboard/api/keys`. */
export const RotateKeyBodySchema = z.object({
  graceSeconds: z.number().int("whole seconds").min(0).max(86_400, "at most 86400 (a day)")
    .default(0),
});

/** `PUT /dashboard/api/tiers`. */
export const PutTiersBodySchema = z.object({ tiers: TiersSchema });

/**
 * A Stripe secret key: `sk_test_`, `sk_live_`, or a restricted `rk_test_`/`rk_live_` key.
 * Only the shape is checked here; Stripe itself says whether it works.
 */
export const StripeSecretKeySchema = z.string().trim().regex(
  /^(sk|rk)_(test|live)_[A-Za-z0-9_]{10,247}$/,
  "a Stripe secret key: sk_test_…, sk_live_…, or a restricted rk_… key",
);

/** `POST /dashboard/api/stripe`. */
export const ConnectStripeBodySchema = z.object({ secretKey: StripeSecretKeySchema });

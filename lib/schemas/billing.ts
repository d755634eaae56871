/** Request bodies of end-user billing: `POST /api/create-checkout` and `POST /api/customer-portal`. */
import { z } from "zod";

/** An absolute http(s) URL, where Stripe sends the end-user back. */
export const ReturnUrlSchema = z.string({ error: "an http(s) URL is required" })
  .max(2048, "at most 2048 characters")
  .refine(
    (s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol),
    "must be an absolute http(s) URL",
  );

/** `POST /api/create-checkout`. */
export const CreateCheckoutBodySchema = z.object({
  tier: z.string({ error: "tier is required: the id of a paid tier" }).min(1).max(64),
  successUrl: ReturnUrlSchema,
  cancelUrl: ReturnUrlSchema,
  /** Prefills Checkout for an end-user Stripe does not know yet. */
  email: z.email("must be an email address").max(512).optional(),
});

/** `POST /api/customer-portal`. */
export const CustomerPortalBodySchema = z.object({ returnUrl: ReturnUrlSchema });

export type CreateCheckoutBody = z.output<typeof CreateCheckoutBodySchema>;
export type CustomerPortalBody = z.output<typeof CustomerPortalBodySchema>;

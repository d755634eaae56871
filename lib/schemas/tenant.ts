/** Request schemas of the tenant API: headers and bodies of `/api/*`. */
import { z } from "zod";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export const UserIdSchema = z.string({ error: "X-User-Id header is required" })
  .min(1, "X-User-Id must not be empty")
  .max(256, "X-User-Id must be at most 256 characters")
  .refine((s) => !CONTROL.test(s), "X-User-Id must not contain control characters");

export const IdempotencyKeySchema = z.string()
  .min(1, "Idempotency-Key must not be empty")
  .max(255, "Idempotency-Key must be at most 255 characters")
  .refine((s) => !CONTROL.test(s), "Idempotency-Key must not contain control characters");

export const TrackBodySchema = z.object({
  amount: z.number({ error: "must be an integer from 1 to 1000000" })
    .int("must be an integer from 1 to 1000000")
    .min(1, "must be an integer from 1 to 1000000")
    .max(1_000_000, "must be an integer from 1 to 1000000")
    .default(1),
});

export type TrackBody = z.output<typeof TrackBodySchema>;

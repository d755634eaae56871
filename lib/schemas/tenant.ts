/** Request schemas of the tenant API: headers and bodies of `/api/*`. */
import { z } from "zod";
import { FeatureIdSchema } from "./tiers.ts";

/** The common case, settled by one test: printable ASCII only. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Control (C0, DEL, C1), format (bidi overrides, zero-width, BOM, tags …) and line/paragraph separators. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** A character above U+00FF: not a header value as `Headers` holds it (one character per byte). */
const BEYOND_BYTE = /[\u0100-\uffff]/;
/** A UTF-16 surrogate encoded like UTF-8 (WTF-8/CESU-8): not UTF-8, and a lone surrogate once decoded. */
const ENCODED_SURROGATE = /\xed[\xa0-\xbf][\x80-\xbf]/;

/**
 * Whether an identifier is free of characters that hide or change how it reads: control, format
 * and line/paragraph-separator characters and lone surrogates. A header arrives with one character
 * per byte (`Deno.serve`, like `fetch`, maps bytes Latin-1 style), so a value that is valid UTF-8
 * is judged by what it decodes to (UTF-8 `U+202E` arrives as "\xe2\x80\xae"), and any other by its
 * bytes as Latin-1 (what `fetch` sends for "José"). The value itself is never rewritten: it stays
 * the key usage is counted under. Printable ASCII, nearly every id, costs one regex test.
 */
export function isPlainText(value: string): boolean {
  if (PRINTABLE_ASCII.test(value)) return true;
  if (BEYOND_BYTE.test(value)) return value.isWellFormed() && !FORBIDDEN.test(value);
  let text = value;
  try {
    // Strict UTF-8 decoding of one-character-per-byte text (ECMA-262 Decode: overlong forms,
    // surrogates and truncated sequences throw; a BOM is kept), 3–4× faster than a TextDecoder.
    text = decodeURIComponent(escape(value));
  } catch {
    if (ENCODED_SURROGATE.test(value)) return false;
  }
  return !FORBIDDEN.test(text);
}

const PLAIN =
  "must not contain control, format (such as U+200B, U+202E, U+FEFF) or line/paragraph separator characters";

export const UserIdSchema = z.string({ error: "X-User-Id header is required" })
  .min(1, "X-User-Id must not be empty")
  .max(256, "X-User-Id must be at most 256 characters")
  .refine(isPlainText, `X-User-Id ${PLAIN}`);

export const IdempotencyKeySchema = z.string()
  .min(1, "Idempotency-Key must not be empty")
  .max(255, "Idempotency-Key must be at most 255 characters")
  .refine(isPlainText, `Idempotency-Key ${PLAIN}`);

const AMOUNT = "must be an integer from 1 to 1000000";
const AmountSchema = z.number({ error: AMOUNT }).int(AMOUNT).min(1, AMOUNT).max(1_000_000, AMOUNT);

/** A metered feature to count, check or read instead of the tier's main meter. */
const FeatureParamSchema = FeatureIdSchema.optional().meta({
  description:
    "A feature id of the end-user's tier; absent: the tier's main meter (its own `limit` and `period`).",
  examples: ["exports"],
});

export const TrackBodySchema = z.object({
  amount: AmountSchema.default(1),
  feature: FeatureParamSchema,
});

export type TrackBody = z.output<typeof TrackBodySchema>;

/** `GET /api/usage`'s query: `?feature=<id>` answers that feature's usage as `usage`. */
export const UsageQuerySchema = z.object({ feature: FeatureParamSchema });

/** `GET /api/check`'s query: the feature (default: the main meter) and the amount to check. */
export const CheckQuerySchema = z.object({
  feature: FeatureParamSchema,
  amount: z.coerce.number({ error: AMOUNT }).pipe(AmountSchema).default(1).meta({
    description: "The units the call would count (default 1).",
  }),
});

/** Request bodies of end-user billing: `POST /api/create-checkout` and `POST /api/customer-portal`. */
import { z } from "zod";

const MAX_URL = 2048;
/** `http://` or `https://`, then the authority (up to the first `/`, `?` or `#`). */
const HTTP_URL = /^https?:\/\/([^/?#]*)/i;
/** Whitespace (incl. U+2028, U+00A0, U+FEFF), control characters (C0, DEL, C1) and backslashes. */
const UNSAFE = /[\s\p{Cc}\\]/u;

/**
 * Why `value` cannot be a return URL, or its serialisation by the URL parser. A URL the parser
 * would have to repair is refused rather than repaired (WHATWG URL turns `https:evil.example`,
 * `https:/evil.example` and backslashes into `https://evil.example/`, and drops tabs and newlines),
 * so what reaches Stripe is what the tenant evidently meant, and nothing else.
 */
export function returnUrl(value: string): { href: string } | { problem: string } {
  if (UNSAFE.test(value)) {
    return { problem: "must not contain whitespace, control characters or backslashes" };
  }
  const authority = HTTP_URL.exec(value)?.[1];
  if (authority === undefined) {
    return { problem: "must be an absolute URL starting with http:// or https://" };
  }
  if (authority === "") return { problem: "must have a host right after http:// or https://" };
  if (authority.includes("@")) return { problem: "must not contain credentials (user@host)" };
  if (!URL.canParse(value)) return { problem: "must be a valid http:// or https:// URL" };
  const url = new URL(value);
  if (url.hostname === "" || url.username !== "" || url.password !== "") {
    return { problem: "must be a valid http:// or https:// URL with a host and no credentials" };
  }
  if (url.href.length > MAX_URL) return { problem: `at most ${MAX_URL} characters` };
  return { href: url.href };
}

/**
 * An absolute `http://` or `https://` URL with a host and no credentials, where Stripe sends the
 * end-user back; its output is the parser's serialisation (`new URL(s).href`).
 */
export const ReturnUrlSchema = z.string({ error: "an http(s) URL is required" })
  .max(MAX_URL, `at most ${MAX_URL} characters`)
  .transform((value, ctx) => {
    const checked = returnUrl(value);
    if ("href" in checked) return checked.href;
    ctx.addIssue({ code: "custom", message: checked.problem, input: value });
    return z.NEVER;
  })
  .meta({
    description:
      "An absolute `http://` or `https://` URL with a host and no credentials (`user@`). Refused with 400, never repaired, when a URL parser would have to fix it up: a scheme not followed by `//` (`https:evil.example`), backslashes, whitespace or control characters anywhere (also leading or trailing). Stripe receives the parser's serialisation (`new URL(s).href`: lower-case scheme and host, default port dropped, non-ASCII percent-encoded or punycoded).",
    pattern: "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s\\\\]+([/?#][^\\s\\\\]*)?$",
  });

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

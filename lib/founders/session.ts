/** The session cookie and the development sign-in identity. */
import { createHash } from "node:crypto";
import type { CookieOptions } from "hono/utils/cookie";
import { z } from "zod";
import { DEV_SESSION_TTL_SECONDS } from "../auth/clerk.ts";

/** `__session` cookie attributes: HttpOnly, SameSite=Lax, Secure when the public URL is https. */
export function sessionCookieOptions(publicUrl: string, maxAgeSeconds?: number): CookieOptions {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: publicUrl.startsWith("https:"),
    ...(maxAgeSeconds !== undefined && { maxAge: maxAgeSeconds }),
  };
}

/** How long the development session cookie lives (as long as its token). */
export const DEV_COOKIE_MAX_AGE = DEV_SESSION_TTL_SECONDS;

/** The development sign-in form: an email or a name. */
export const DevSignInSchema = z.object({
  email: z.string().trim().max(200).optional(),
  name: z.string().trim().max(200).optional(),
}).refine((v) => Boolean(v.email || v.name), {
  message: "enter an email or a name to sign in",
  path: ["email"],
});

/**
 * A stable, Clerk-looking user id for a development identity: the same email (case-insensitive)
 * always signs into the same account.
 * @example devUserId("ada@example.com") // "user_dev_3f5c…"
 */
export function devUserId(identity: string): string {
  const digest = createHash("sha256").update(identity.trim().toLowerCase()).digest("hex");
  return `user_dev_${digest.slice(0, 24)}`;
}

/** The signed-in founder: made from a verified session by `requireFounder`. */
export interface Founder {
  userId: string;
  /** The session's `email` claim, when it carries a valid one (see `sessionEmail`). */
  email?: string;
}

/**
 * The security headers of every HTML answer, built in this one place from the configuration.
 *
 * The Content-Security-Policy allows scripts only from our own origin (the islands' modules under
 * `/static/`; their props travel as `<script type="application/json">`, which is data, not code)
 * and, when founders sign in with Clerk, from the Clerk Frontend API origin named in
 * `CLERK_PUBLISHABLE_KEY`. Styles come from our stylesheets only: the server's HTML carries no
 * `style` attribute, and what scripts set through the CSSOM (uPlot, islands) needs no allowance.
 * Clerk's components inject their styles at run time, so with Clerk configured `style-src` also
 * allows inline styles (Clerk's documented requirement; scripts never get that allowance).
 */
import type { Config } from "../../fresh.config.ts";
import { frontendApiOf } from "../../islands/ClerkAuth.tsx";

/** Where Clerk serves user avatars from (its documented `img-src`). */
const CLERK_IMAGES = "https://img.clerk.com";

const built = new WeakMap<Config, Readonly<Record<string, string>>>();

/**
 * The headers for an HTML response under `config` (computed once per configuration).
 * @example c.html(page, 200, { ...htmlSecurityHeaders(config), "cache-control": "no-store" })
 */
export function htmlSecurityHeaders(config: Config): Readonly<Record<string, string>> {
  let headers = built.get(config);
  if (!headers) built.set(config, headers = Object.freeze(buildHeaders(config)));
  return headers;
}

function buildHeaders(config: Config): Record<string, string> {
  const clerkHost = config.clerk.publishableKey && frontendApiOf(config.clerk.publishableKey);
  const clerk = clerkHost ? `https://${clerkHost}` : null;
  const directives: Record<string, string[]> = {
    "default-src": ["'none'"],
    "script-src": ["'self'", ...(clerk ? [clerk] : [])],
    "style-src": ["'self'", ...(clerk ? ["'unsafe-inline'"] : [])],
    "img-src": ["'self'", ...(clerk ? [CLERK_IMAGES] : [])],
    "font-src": ["'self'"],
    "connect-src": ["'self'", ...(clerk ? [clerk] : [])],
    "manifest-src": ["'self'"],
    ...(clerk ? { "worker-src": ["'self'", "blob:"] } : {}),
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
  };
  const headers: Record<string, string> = {
    "content-security-policy": Object.entries(directives)
      .map(([name, sources]) => `${name} ${sources.join(" ")}`).join("; "),
    "x-content-type-options": "nosniff",
    // Same-origin only: a page's address (a dashboard path, a checkout return) never leaves us.
    "referrer-policy": "same-origin",
    // frame-ancestors for current browsers, X-Frame-Options for those that predate it.
    "x-frame-options": "DENY",
  };
  if (new URL(config.publicUrl).protocol === "https:") {
    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
  }
  return headers;
}

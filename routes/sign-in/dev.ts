/** POST /sign-in/dev — local development sign-in (404 unless development sign-in is on). */
import { setCookie } from "hono/cookie";
import { MAX_BODY_BYTES } from "../../lib/http/body.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { ApiError, invalidRequest } from "../../lib/errors.ts";
import {
  DEV_COOKIE_MAX_AGE,
  DevSignInSchema,
  devUserId,
  sessionCookieOptions,
} from "../../lib/founders/session.ts";
import { csrfRefused, isSameOrigin, SESSION_COOKIE } from "../../lib/middleware/founder.ts";

const POST = define.handler(async (c) => {
  const { devSigner, config } = c.get("deps");
  if (!devSigner) throw new ApiError("not_found", `No route for POST ${c.req.path}.`);
  // Login CSRF: another site must not sign a visitor into an account of its choosing.
  if (!isSameOrigin(c)) throw csrfRefused();
  const form = await c.req.parseBody().catch(() => ({}));
  const parsed = DevSignInSchema.safeParse(form);
  if (!parsed.success) throw invalidRequest(parsed.error, { brief: true });
  const identity = parsed.data.email || parsed.data.name!;
  // The email claim, as Clerk's customized session token carries it (README): pages show it.
  const token = await devSigner.sign(devUserId(identity), {
    claims: { email: identity.includes("@") ? identity : undefined },
  });
  setCookie(c, SESSION_COOKIE, token, sessionCookieOptions(config.publicUrl, DEV_COOKIE_MAX_AGE));
  return c.redirect("/dashboard", 303);
});

export const route = defineRoute({
  path: "/sign-in/dev",
  auth: "public",
  bodyLimit: MAX_BODY_BYTES,
  methods: { POST: { handler: POST } },
});

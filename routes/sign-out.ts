/** POST /sign-out — clears the session cookie and goes home. */
import { deleteCookie } from "hono/cookie";
import { define, defineRoute } from "../lib/http/route.ts";
import { sessionCookieOptions } from "../lib/founders/session.ts";
import { SESSION_COOKIE } from "../lib/middleware/founder.ts";

const POST = define.handler((c) => {
  deleteCookie(c, SESSION_COOKIE, sessionCookieOptions(c.get("deps").config.publicUrl));
  return c.redirect("/", 303);
});

export const route = defineRoute({
  path: "/sign-out",
  auth: "sameOrigin",
  methods: { POST: { handler: POST } },
});

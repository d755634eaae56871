/**
 * GET /sign-in — Clerk's sign-in (its browser script, from the Frontend API host encoded in
 * `CLERK_PUBLISHABLE_KEY`) when Clerk verifies sessions; otherwise, outside production, the local
 * development sign-in form (which posts to `/sign-in/dev`). Signed-in visitors go to the dashboard.
 */
import ClerkAuth from "../islands/ClerkAuth.tsx";
import { define, defineRoute } from "../lib/http/route.ts";
import { sessionToken } from "../lib/middleware/founder.ts";
import { Card, Notice } from "../lib/ui/components.tsx";
import { Island } from "../lib/ui/island.tsx";
import { Logo, Shell } from "../lib/ui/layout.tsx";
import { renderPage } from "../lib/ui/render.tsx";

const GET = define.handler(async (c) => {
  const { verifySession, devSigner, config } = c.get("deps");
  const { token } = sessionToken(c);
  if (token && (await verifySession(token)).ok) return c.redirect("/dashboard", 302);
  // The server's verifier decides: development sign-in whenever it is on (no Clerk JWT key
  // configured, never in production), Clerk's browser sign-in otherwise.
  const mode: SignInMode = devSigner
    ? { kind: "dev" }
    : config.clerk.publishableKey
    ? { kind: "clerk", publishableKey: config.clerk.publishableKey }
    : { kind: "unconfigured" };
  return renderPage(c, <SignInPage mode={mode} />);
});

export const route = defineRoute({
  path: "/sign-in",
  auth: "public",
  methods: { GET: { handler: GET } },
});

export type SignInMode =
  | { kind: "clerk"; publishableKey: string }
  | { kind: "dev" }
  | { kind: "unconfigured" };

export function SignInPage({ mode }: { mode: SignInMode }) {
  return (
    <Shell title="Sign in" width="narrow">
      <Card class="auth-card">
        <div class="stack">
          <Logo size={36} />
          <div class="stack-sm">
            <h1>Sign in to dream-api</h1>
            <p class="muted">
              New here? Signing in creates your account. You subscribe ($29/month) on the next page.
            </p>
          </div>
          {mode.kind === "clerk" && (
            <Island
              name="ClerkAuth"
              component={ClerkAuth}
              props={{
                publishableKey: mode.publishableKey,
                mode: "sign-in",
                redirectUrl: "/dashboard",
              }}
            />
          )}
          {mode.kind === "dev" && <DevSignIn />}
          {mode.kind === "unconfigured" && (
            <Notice tone="danger">
              Sign-in is not configured: set <code>CLERK_PUBLISHABLE_KEY</code>.
            </Notice>
          )}
        </div>
      </Card>
    </Shell>
  );
}

function DevSignIn() {
  return (
    <form method="post" action="/sign-in/dev" class="stack" data-testid="dev-sign-in">
      <Notice tone="warn">
        <strong>Development sign-in.</strong>{" "}
        No password: any email signs in as its own account. It is off in production, where Clerk
        signs founders in.
      </Notice>
      <label class="field">
        <span class="field-label">Email</span>
        <input
          class="input"
          type="email"
          name="email"
          required
          autocomplete="email"
          placeholder="you@example.com"
        />
      </label>
      <button type="submit" class="btn btn-primary btn-block">Sign in</button>
    </form>
  );
}

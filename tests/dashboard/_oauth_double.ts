/**
 * A stand-in for Stripe's OAuth endpoints (`/oauth/token`, `/oauth/deauthorize`), for the cases
 * the local Stripe cannot be made to produce on demand: a token endpoint that fails with a 5xx,
 * one that refuses with a given reason, and a record of every call with its credentials. The
 * shapes are Stripe's (https://docs.stripe.com/connect/oauth-reference).
 */
export interface OAuthCall {
  path: string;
  authorization: string | null;
  form: Record<string, string>;
}

export interface OAuthDouble extends AsyncDisposable {
  url: string;
  calls: OAuthCall[];
  /** code → the account it connects, or Stripe's refusal of it. */
  codes: Map<
    string,
    { accountId: string; livemode?: boolean } | {
      status: number;
      error: string;
      description: string;
    }
  >;
  /** While set, every call answers this status (a Stripe outage). */
  failing: number | null;
}

/** Starts the double on a random port. */
export function startOAuthDouble(): OAuthDouble {
  const double = {
    calls: [] as OAuthCall[],
    codes: new Map(),
    failing: null as number | null,
  } as OAuthDouble;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const form = Object.fromEntries(new URLSearchParams(await req.text()));
    double.calls.push({ path, authorization: req.headers.get("authorization"), form });
    if (double.failing !== null) {
      return Response.json({ error: "api_error" }, { status: double.failing });
    }
    if (path === "/oauth/token") {
      const grant = double.codes.get(form.code);
      if (!grant) {
        return Response.json({
          error: "invalid_grant",
          error_description: `Authorization code does not exist: ${form.code}`,
        }, { status: 400 });
      }
      double.codes.delete(form.code);
      if ("status" in grant) {
        return Response.json({ error: grant.error, error_description: grant.description }, {
          status: grant.status,
        });
      }
      return Response.json({
        access_token: "sk_test_access_not_kept",
        livemode: grant.livemode ?? false,
        refresh_token: "rt_not_kept",
        token_type: "bearer",
        stripe_publishable_key: "pk_test_x",
        stripe_user_id: grant.accountId,
        scope: "read_write",
      });
    }
    if (path === "/oauth/deauthorize") {
      return Response.json({ stripe_user_id: form.stripe_user_id });
    }
    return new Response("not found", { status: 404 });
  });
  return Object.assign(double, {
    url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  });
}

/**
 * Connect's OAuth endpoints, served where `connect.stripe.com` serves them
 * (https://docs.stripe.com/connect/oauth-reference): the consent page `GET /oauth/authorize` (choose
 * an account or create one; "Connect" or "Deny"), `POST /oauth/token` and `POST /oauth/deauthorize`.
 * The rules live in connect.ts.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Ctx } from "./api.ts";
import { AuthorizeError, type AuthorizeRequest, OAuthError } from "./connect.ts";
import { parseForm } from "./form.ts";
import { h, layout } from "./pages.ts";

/** The `/oauth` routes, to mount at `/`. */
export function oauthRoutes(ctx: Ctx): Hono {
  const { connect } = ctx;
  const routes = new Hono();

  routes.get("/oauth/authorize", (c) => {
    const request = authorizeRequest(c, c.req.query());
    if (request instanceof Response) return request;
    return c.html(consentPage(ctx, request, c.req.query()));
  });

  routes.post("/oauth/authorize", async (c) => {
    const form = Object.fromEntries(
      Object.entries(await c.req.parseBody()).map(([k, v]) => [k, String(v)]),
    );
    const request = authorizeRequest(c, form);
    if (request instanceof Response) return request;
    if (form.decision === "deny") return c.redirect(connect.deny(request), 302);
    try {
      const url = connect.approve(
        request,
        !form.account || form.account === "new"
          ? { newAccount: { name: form.name ?? "", email: form.email } }
          : { account: form.account },
      );
      return c.redirect(url, 302);
    } catch (error) {
      if (!(error instanceof AuthorizeError)) throw error;
      return c.html(consentPage(ctx, request, form, error.message), 400);
    }
  });

  routes.post("/oauth/token", async (c) => {
    const params = parseForm(await c.req.text());
    return c.json(await connect.token(keyOf(c, params.client_secret), params));
  });

  routes.post("/oauth/deauthorize", async (c) => {
    const params = parseForm(await c.req.text());
    return c.json(await connect.deauthorize(keyOf(c, params.client_secret), params));
  });

  routes.onError((error, c) => {
    if (error instanceof OAuthError) {
      return c.json(error.toJSON(), error.status as ContentfulStatusCode);
    }
    throw error;
  });

  /** The checked request, or the JSON error Stripe shows instead of its page. */
  function authorizeRequest(
    c: Context,
    params: Record<string, string | undefined>,
  ): AuthorizeRequest | Response {
    try {
      return connect.authorizeRequest(params);
    } catch (error) {
      if (!(error instanceof AuthorizeError)) throw error;
      return c.json({ error: { message: error.message } }, 400);
    }
  }

  return routes;
}

/** The platform's secret key: `Authorization: Bearer` (the SDK) or the `client_secret` parameter. */
function keyOf(c: Context, clientSecret: unknown): string | undefined {
  const [scheme, value] = (c.req.header("authorization") ?? "").split(/\s+/, 2);
  if (/^bearer$/i.test(scheme) && value) return value;
  if (/^basic$/i.test(scheme) && value) return atob(value).split(":")[0];
  return typeof clientSecret === "string" && clientSecret ? clientSecret : undefined;
}

const CONSENT_STYLE = `
  .app { display: flex; align-items: center; gap: .75rem; margin: 1rem 0 .25rem; }
  .logo { flex: none; width: 2.5rem; height: 2.5rem; border-radius: 8px; background: #635bff;
    color: #fff; font-weight: 700; display: grid; place-items: center; }
  .scope { color: #3c4257; font-size: .9rem; }
  fieldset { border: 0; padding: 0; margin: 1rem 0 0; }
  legend { font-weight: 600; margin-bottom: .5rem; padding: 0; }
  .choice { display: flex; gap: .6rem; align-items: flex-start; border: 1px solid #e3e8ee;
    border-radius: 8px; padding: .7rem .8rem; margin: 0 0 .5rem; cursor: pointer; }
  .choice input[type=radio] { display: inline; width: auto; margin: .2rem 0 0; flex: none; }
  .choice.blocked { background: #f6f9fc; color: #8792a2; cursor: not-allowed; }
  .choice span { display: block; min-width: 0; overflow-wrap: anywhere; }
  .choice small { display: block; color: #697386; font-size: .75rem; }
  .choice .why { color: #a04c00; }
  .new-fields { margin: .25rem 0 0 1.6rem; }
  .error { background: #fff0f0; color: #b3093c; border-radius: 6px; padding: .6rem .75rem; }
  /* Connect comes first in the form (Enter submits it), Deny shows first. */
  .actions { display: flex; flex-direction: row-reverse; gap: .75rem; }
  .actions button { flex: 1; }
`;

/** Stripe's consent page, with the request carried in hidden fields to the POST. */
function consentPage(
  ctx: Ctx,
  request: AuthorizeRequest,
  params: Record<string, string | undefined>,
  error?: string,
): string {
  const { app, scope } = request;
  const candidates = ctx.connect.candidates(app, scope);
  const chosen = params.account ?? "new";
  const hidden = ["client_id", "response_type", "scope", "redirect_uri", "state"]
    .filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${h(params[name]!)}">`)
    .join("");
  const choices = candidates.map(({ account, name, connectedHere, blocked }) => `
    <label class="choice${blocked ? " blocked" : ""}">
      <input type="radio" name="account" value="${h(account.id)}"${blocked ? " disabled" : ""}${
    chosen === account.id && !blocked ? " checked" : ""
  }>
      <span>${h(name)}<small>${
    h(
      [name.includes(account.id) ? "" : account.id, connectedHere ? "already connected" : ""]
        .filter(Boolean).join(" · "),
    )
  }</small>${blocked ? `<small class="why">${h(blocked)}</small>` : ""}</span>
    </label>`).join("");
  const newName = params.name ?? params["stripe_user[business_name]"] ?? "";
  const newEmail = params.email ?? params["stripe_user[email]"] ?? "";
  return layout(
    `Connect to ${app.name}`,
    `<div class="app"><div class="logo" aria-hidden="true">${
      h(app.name.slice(0, 1).toUpperCase())
    }</div><h1>Connect to <span style="white-space:nowrap">${h(app.name)}</span></h1></div>
    <p class="scope">${h(app.name)} ${
      scope === "read_write"
        ? "will be able to see your account data and create customers, prices, Checkout " +
          "Sessions and subscriptions in your account."
        : "will be able to see your account data."
    }</p>
    ${error ? `<p class="error" role="alert">${h(error)}</p>` : ""}
    <form method="post" action="/oauth/authorize">
      ${hidden}
      <fieldset>
        <legend>Choose an account</legend>
        ${choices}
        <label class="choice">
          <input type="radio" name="account" value="new" id="new-account"${
      chosen === "new" ? " checked" : ""
    }>
          <span>Create a new account</span>
        </label>
        <div class="new-fields">
          <label>Business name <input name="name" id="account-name" value="${
      h(newName)
    }" placeholder="Acme Inc." maxlength="100"></label>
          <label>Email (optional) <input type="email" name="email" id="account-email" value="${
      h(newEmail)
    }" placeholder="you@example.com"></label>
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" name="decision" value="allow" id="connect">Connect</button>
        <button type="submit" name="decision" value="deny" class="secondary" id="deny">Deny</button>
      </div>
      <p class="hint">Local test mode: you go back to ${h(new URL(request.redirectUri).host)}.</p>
    </form>`,
    CONSENT_STYLE,
  );
}

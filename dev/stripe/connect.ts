/**
 * Stripe Connect with OAuth for Standard accounts (https://docs.stripe.com/connect/oauth-reference):
 * a platform's application (`ca_…`, its redirect URIs), the single-use codes the consent page issues,
 * the token exchange that connects an account, and deauthorization with its
 * `account.application.deauthorized` event. The HTTP side is in oauth.ts.
 */
import { createHash } from "node:crypto";
import { mask } from "./errors.ts";
import { type FormObject, str } from "./form.ts";
import {
  type Account,
  type Application,
  type AuthCode,
  type Connection,
  keyProblem,
  newId,
  type Store,
} from "./store.ts";
import type { Webhooks } from "./webhooks.ts";

/** How long a code from the consent page can be exchanged (Stripe does not publish its own). */
export const CODE_LIFETIME_SECONDS = 300;

/**
 * What Stripe shows, since June 2021, for an account another platform controls when `read_write`
 * is asked: the account cannot be chosen and the user is told to create a new one
 * (https://docs.stripe.com/connect/oauth-changes-for-standard-platforms).
 */
export const CONTROLLED_BY_ANOTHER_PLATFORM =
  "This account is connected to another platform. Please create a new account.";

export type Scope = "read_write" | "read_only";

/** An OAuth error as `/oauth/token` and `/oauth/deauthorize` answer it: `{ error, error_description }`. */
export class OAuthError extends Error {
  constructor(readonly status: number, readonly error: string, readonly description: string) {
    super(description);
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * An `/oauth/authorize` request Stripe refuses without redirecting (only `access_denied` goes
 * back to the platform): the browser shows `{ "error": { "message" } }`.
 */
export class AuthorizeError extends Error {}

/** A platform's client id, stable for its account (like `accountIdFor`). */
export function clientIdFor(platformAccountId: string): string {
  return `ca_${createHash("sha256").update(platformAccountId).digest("hex").slice(0, 32)}`;
}

/** The name an account shows: its profile's, or a stable made-up one for key accounts. */
export function displayName(account: Account): string {
  return account.profile?.display_name ?? `Local ${account.id}`;
}

export interface AuthorizeRequest {
  app: Application;
  scope: Scope;
  redirectUri: string;
  state: string | null;
}

/** One account the consent page offers, with why it cannot be chosen (if it cannot). */
export interface Candidate {
  account: Account;
  name: string;
  connectedHere: boolean;
  blocked: string | null;
}

export class Connect {
  constructor(private store: Store, private webhooks: Webhooks) {}

  /**
   * Registers the platform's application, or adds to it: `redirect_uris` are added (Stripe keeps a
   * list; the first is the default), `name` replaces the shown name.
   */
  register(platform: Account, options: { redirectUris?: string[]; name?: string } = {}) {
    const id = clientIdFor(platform.id);
    const app: Application = this.store.applications[id] ?? {
      id,
      account: platform.id,
      livemode: platform.livemode,
      name: displayName(platform),
      redirect_uris: [],
    };
    for (const uri of options.redirectUris ?? []) {
      if (!app.redirect_uris.includes(uri)) app.redirect_uris.push(uri);
    }
    if (options.name) app.name = options.name;
    this.store.applications[id] = app;
    return app;
  }

  /** The platform's application, if it registered one. */
  applicationOf(platform: Account): Application | undefined {
    return this.store.applications[clientIdFor(platform.id)];
  }

  /** The platform connected to `account` (read_write or read_only), if any. */
  connectionOf(accountId: string): Connection | undefined {
    return this.store.connections[accountId];
  }

  /**
   * Checks an authorize request's parameters as Stripe does before showing its page; the
   * `AuthorizeError` otherwise (shown as JSON, nothing is sent back to the platform).
   */
  authorizeRequest(params: Record<string, string | undefined>): AuthorizeRequest {
    const clientId = params.client_id;
    const app = clientId ? this.store.applications[clientId] : undefined;
    if (!app) throw new AuthorizeError("No application matches the supplied client identifier");
    if (!params.response_type) {
      throw new AuthorizeError("Invalid request: Missing response_type parameter.");
    }
    if (params.response_type !== "code") {
      throw new AuthorizeError(
        `Unsupported response_type: '${params.response_type}'. The only option is 'code'.`,
      );
    }
    // The SDK's documented default scope is read_only.
    const scope = params.scope || "read_only";
    if (scope !== "read_write" && scope !== "read_only") {
      throw new AuthorizeError(`Invalid scope: '${scope}'. Use read_write or read_only.`);
    }
    const redirectUri = params.redirect_uri || app.redirect_uris[0];
    if (!redirectUri || !app.redirect_uris.includes(redirectUri)) {
      throw new AuthorizeError(
        `Invalid request: Invalid redirect URI '${params.redirect_uri ?? ""}'. Ensure this uri ` +
          `exactly matches one of the uris specified in your application settings`,
      );
    }
    return { app, scope, redirectUri, state: params.state ?? null };
  }

  /**
   * The accounts the consent page offers: every account of the application's mode but the
   * platform's own, newest first; one controlled by another platform is shown but cannot be
   * chosen for `read_write`.
   */
  candidates(app: Application, scope: Scope): Candidate[] {
    return Object.values(this.store.accounts)
      .filter((a) => a.livemode === app.livemode && a.id !== app.account)
      .reverse()
      .slice(0, 50)
      .map((account) => ({
        account,
        name: displayName(account),
        connectedHere: this.store.connections[account.id]?.application === app.id,
        blocked: this.blockedReason(account.id, app, scope),
      }));
  }

  /**
   * The user approved on the consent page: connects the chosen account (or a new one named
   * `newAccount.name`) by issuing a code; returns the URL to send the browser to.
   * Throws `AuthorizeError` when the choice cannot be made (the page shows it again).
   */
  approve(
    request: AuthorizeRequest,
    choice: { account?: string; newAccount?: { name: string; email?: string } },
  ): string {
    const { app, scope } = request;
    let account: Account;
    if (choice.account) {
      const found = this.store.accounts[choice.account];
      if (!found || found.livemode !== app.livemode || found.id === app.account) {
        throw new AuthorizeError("Choose one of your accounts, or create a new one.");
      }
      const blocked = this.blockedReason(found.id, app, scope);
      if (blocked) throw new AuthorizeError(blocked);
      account = found;
    } else {
      const name = choice.newAccount?.name.trim();
      if (!name) throw new AuthorizeError("Enter a name for the new account.");
      const id = `acct_1${newId("x", 15).slice(2)}`;
      account = this.store.newAccount(id, app.livemode, {
        display_name: name.slice(0, 100),
        email: choice.newAccount?.email?.trim() || null,
      });
      this.store.accounts[id] = account;
    }
    this.pruneCodes();
    const code: AuthCode = {
      code: newId("ac", 32),
      application: app.id,
      account: account.id,
      scope,
      livemode: app.livemode,
      redirect_uri: request.redirectUri,
      expires: this.store.unix() + CODE_LIFETIME_SECONDS,
      used: false,
    };
    this.store.codes[code.code] = code;
    return redirectTo(request, { code: code.code, scope });
  }

  /** The user clicked "Deny": Stripe's `access_denied` redirect (the one error it sends back). */
  deny(request: AuthorizeRequest): string {
    return redirectTo(request, {
      error: "access_denied",
      error_description: "The user denied your request",
    });
  }

  /**
   * `POST /oauth/token`: exchanges a code (or a refresh token) for the connection, authenticated
   * with the platform's secret key. Every refusal is an `OAuthError` with Stripe's status.
   */
  async token(key: string | undefined, params: FormObject): Promise<Record<string, unknown>> {
    const platform = this.platformFor(key);
    const grant = str(params, "grant_type");
    if (!grant) throw new OAuthError(400, "invalid_request", "No grant type specified");
    if (grant === "refresh_token") return this.refresh(platform, str(params, "refresh_token"));
    if (grant !== "authorization_code") {
      throw new OAuthError(400, "unsupported_grant_type", `Unsupported grant type: ${grant}`);
    }
    const value = str(params, "code");
    if (!value) throw new OAuthError(400, "invalid_request", "No authorization code provided");
    const code = this.store.codes[value];
    if (!code || this.store.applications[code.application]?.account !== platform.id) {
      throw new OAuthError(400, "invalid_grant", `Authorization code does not exist: ${value}`);
    }
    if (code.livemode !== platform.livemode) {
      throw new OAuthError(
        400,
        "invalid_grant",
        `Authorization code provided was created in ${mode(code.livemode)} mode, but you used a ` +
          `${mode(platform.livemode)} mode API key.`,
      );
    }
    if (code.used) {
      // "Consuming an authorization code more than once revokes the account connection."
      const made = this.store.connections[code.account];
      if (made?.code === code.code) await this.revoke(made);
      throw new OAuthError(
        400,
        "invalid_grant",
        "This authorization code has already been used. All tokens issued with this code have " +
          "been revoked.",
      );
    }
    if (this.store.unix() > code.expires) {
      throw new OAuthError(400, "invalid_grant", `Authorization code expired: ${value}`);
    }
    code.used = true;
    const app = this.store.applications[code.application];
    // The 2021 rule, again at exchange: another platform may have connected it since the consent.
    const blocked = this.blockedReason(code.account, app, code.scope);
    if (blocked) throw new OAuthError(400, "invalid_grant", blocked);
    const previous = this.store.connections[code.account];
    if (previous) this.store.tokens[previous.access_token].active = false;
    const connection: Connection = {
      account: code.account,
      application: app.id,
      platform: platform.id,
      scope: code.scope,
      livemode: code.livemode,
      created: this.store.unix(),
      code: code.code,
      access_token: "",
      refresh_token: newId("rt", 32),
      publishable_key: `pk_${mode(code.livemode)}_${newId("x", 40).slice(2)}`,
    };
    this.issueAccessToken(connection);
    this.store.connections[code.account] = connection;
    return tokenBody(connection);
  }

  /**
   * `POST /oauth/deauthorize`: the platform disconnects `stripe_user_id`; the platform's Connect
   * endpoints get `account.application.deauthorized`.
   */
  async deauthorize(
    key: string | undefined,
    params: FormObject,
  ): Promise<{ stripe_user_id: string }> {
    const platform = this.platformFor(key);
    const clientId = str(params, "client_id");
    if (!clientId) throw new OAuthError(400, "invalid_request", "No client_id provided");
    const app = this.store.applications[clientId];
    if (!app || app.account !== platform.id || app.livemode !== platform.livemode) {
      throw new OAuthError(401, "invalid_client", `No such application: '${clientId}'`);
    }
    const user = str(params, "stripe_user_id");
    if (!user) throw new OAuthError(400, "invalid_request", "No stripe_user_id provided");
    const connection = this.store.connections[user];
    if (!connection || connection.application !== app.id) {
      throw new OAuthError(
        401,
        "invalid_client",
        `This application is not connected to stripe account ${user}, or that account does not exist.`,
      );
    }
    await this.revoke(connection);
    return { stripe_user_id: user };
  }

  /**
   * Ends a connection (the platform deauthorized, the account's owner revoked it in their
   * dashboard, or a code was reused): its tokens stop working, `Stripe-Account` is refused, and
   * `account.application.deauthorized` goes to the account's and the platform's Connect endpoints.
   */
  async revoke(connection: Connection) {
    if (this.store.connections[connection.account] === connection) {
      delete this.store.connections[connection.account];
    }
    const token = this.store.tokens[connection.access_token];
    if (token) token.active = false;
    const app = this.store.applications[connection.application];
    return await this.webhooks.publish(this.store.accounts[connection.account], [{
      type: "account.application.deauthorized",
      object: { id: app.id, object: "application", name: app.name },
    }]);
  }

  private refresh(platform: Account, refreshToken: string | undefined) {
    if (!refreshToken) {
      throw new OAuthError(400, "invalid_request", "No refresh token provided");
    }
    const connection = Object.values(this.store.connections).find((c) =>
      c.refresh_token === refreshToken && c.platform === platform.id
    );
    if (!connection) {
      throw new OAuthError(400, "invalid_grant", `Invalid refresh token: ${refreshToken}`);
    }
    this.store.tokens[connection.access_token].active = false;
    this.issueAccessToken(connection);
    return tokenBody(connection);
  }

  private issueAccessToken(connection: Connection) {
    connection.access_token = `sk_${mode(connection.livemode)}_${newId("x", 40).slice(2)}`;
    this.store.tokens[connection.access_token] = { account: connection.account, active: true };
  }

  /** The platform behind the key of `/oauth/token` or `/oauth/deauthorize`. */
  private platformFor(key: string | undefined): Account {
    if (!key) {
      throw new OAuthError(
        401,
        "invalid_client",
        "No authentication was provided. Send your secret API key in the Authorization header " +
          "(Bearer), or as the client_secret parameter.",
      );
    }
    if (keyProblem(key) || this.store.tokens[key]) {
      throw new OAuthError(401, "invalid_client", `Invalid API Key provided: ${mask(key)}`);
    }
    return this.store.accountForKey(key);
  }

  /** Why `app` may not connect `accountId` with `scope` now (Stripe's 2021 rule), or null. */
  private blockedReason(accountId: string, app: Application, scope: Scope): string | null {
    const other = this.store.connections[accountId];
    return scope === "read_write" && other && other.application !== app.id &&
        other.scope === "read_write"
      ? CONTROLLED_BY_ANOTHER_PLATFORM
      : null;
  }

  /** Forgets codes that expired more than an hour ago (they would answer "does not exist" then). */
  private pruneCodes() {
    const cutoff = this.store.unix() - 3600;
    for (const [id, code] of Object.entries(this.store.codes)) {
      if (code.expires < cutoff) delete this.store.codes[id];
    }
  }
}

function mode(livemode: boolean): "live" | "test" {
  return livemode ? "live" : "test";
}

/** The answer of a successful token request (https://docs.stripe.com/connect/oauth-reference). */
function tokenBody(connection: Connection): Record<string, unknown> {
  return {
    access_token: connection.access_token,
    livemode: connection.livemode,
    refresh_token: connection.refresh_token,
    token_type: "bearer",
    stripe_publishable_key: connection.publishable_key,
    stripe_user_id: connection.account,
    scope: connection.scope,
  };
}

/** The redirect URI with `params` and the request's `state` added to its query. */
function redirectTo(request: AuthorizeRequest, params: Record<string, string>): string {
  const url = new URL(request.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (request.state !== null) url.searchParams.set("state", request.state);
  return url.toString();
}

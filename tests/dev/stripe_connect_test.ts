/**
 * Stripe Connect in the local Stripe (OAuth for Standard accounts, `Stripe-Account`, Connect
 * webhooks), driven by the real stripe SDK. Behaviour follows Stripe's Connect OAuth reference
 * (https://docs.stripe.com/connect/oauth-reference), not dream-api's code.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import {
  CODE_LIFETIME_SECONDS,
  CONTROLLED_BY_ANOTHER_PLATFORM,
  LocalStripeError,
  type LocalStripeServer,
  startLocalStripe,
} from "../../dev/stripe/mod.ts";
import { startReceiver } from "./_receiver.ts";
import { refusal } from "../_helpers/stripe.ts";

const PLATFORM_KEY = "sk_test_platform_connect_0001";
const OTHER_PLATFORM_KEY = "sk_test_other_platform_0002";
const REDIRECT = "http://app.test/dashboard/stripe/callback";

/** The authorize URL a platform sends its user to (`STRIPE_CONNECT_URL` = the local Stripe). */
function authorizeUrl(server: LocalStripeServer, params: Record<string, string>): string {
  const url = new URL("/oauth/authorize", server.url);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/** A platform with an application, and a helper connecting a new account to it. */
async function platformOn(server: LocalStripeServer, key = PLATFORM_KEY, name = "Platform") {
  const stripe = createStripeFactory({ apiUrl: server.url })(key);
  const app = await server.registerApplication(key, { name, redirectUris: [REDIRECT] });
  const connect = async (choice: { account: string } | { newAccountName: string }) => {
    const back = await server.approveConnect(
      authorizeUrl(server, {
        response_type: "code",
        client_id: app.id,
        scope: "read_write",
        redirect_uri: REDIRECT,
        state: "s1",
      }),
      choice,
    );
    return await stripe.oauth.token({
      grant_type: "authorization_code",
      code: back.searchParams.get("code")!,
    });
  };
  return { stripe, app, connect };
}

Deno.test("a platform connects a new account on the consent page, exchanges the code with stripe.oauth.token, and acts on it with stripeAccount", async () => {
  await using server = await startLocalStripe();
  const { stripe, app } = await platformOn(server);
  assert.match(app.id, /^ca_[0-9a-f]{32}$/);

  const url = authorizeUrl(server, {
    response_type: "code",
    client_id: app.id,
    scope: "read_write",
    redirect_uri: REDIRECT,
    state: "state-123",
  });
  const page = await fetch(url);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  assert.match(html, /Connect to Platform/);
  assert.match(html, /id="connect"/);
  assert.match(html, /id="deny"/);

  const back = await server.approveConnect(url, { newAccountName: "Acme Studio" });
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
  assert.equal(back.searchParams.get("state"), "state-123");
  assert.equal(back.searchParams.get("scope"), "read_write");
  const code = back.searchParams.get("code")!;
  assert.match(code, /^ac_/);

  const token = await stripe.oauth.token({ grant_type: "authorization_code", code });
  assert.deepEqual(Object.keys(token).sort(), [
    "access_token",
    "livemode",
    "refresh_token",
    "scope",
    "stripe_publishable_key",
    "stripe_user_id",
    "token_type",
  ]);
  assert.equal(token.token_type, "bearer");
  assert.equal(token.scope, "read_write");
  assert.equal(token.livemode, false);
  assert.match(token.stripe_user_id!, /^acct_1/);
  assert.match(token.stripe_publishable_key!, /^pk_test_/);
  assert.match(token.access_token!, /^sk_test_/);
  const accountId = token.stripe_user_id!;

  const account = await stripe.accounts.retrieveCurrent({}, { stripeAccount: accountId });
  assert.equal(account.id, accountId);
  assert.equal(account.settings?.dashboard.display_name, "Acme Studio");
  assert.equal(account.business_profile?.name, "Acme Studio");
  assert.equal((await stripe.accounts.retrieve(accountId)).id, accountId);

  const product = await stripe.products.create({ name: "Pro" }, { stripeAccount: accountId });
  assert.deepEqual(
    (await stripe.products.list({}, { stripeAccount: accountId })).data.map((p) => p.id),
    [product.id],
    "the product lives in the connected account",
  );
  assert.deepEqual((await stripe.products.list()).data, [], "and not in the platform's own");
  const asOwner = createStripeFactory({ apiUrl: server.url })(token.access_token!);
  assert.equal(
    (await asOwner.products.retrieve(product.id)).id,
    product.id,
    "the access token is the account's key",
  );
});

Deno.test("Stripe-Account naming an account not connected to the platform answers 403 account_invalid; a key that is no platform answers Stripe's 'Only Stripe Connect platforms' 403", async () => {
  await using server = await startLocalStripe();
  const { stripe, connect } = await platformOn(server);
  const { stripe_user_id: connected } = await connect({ newAccountName: "Connected" });
  const stranger = await server.createAccount({ displayName: "Not connected" });

  const refused = await refusal(() => stripe.customers.list({}, { stripeAccount: stranger.id }));
  assert.ok(refused instanceof Stripe.errors.StripePermissionError, refused.constructor.name);
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.code, "account_invalid");
  assert.match(refused.message, new RegExp(`does not have access to account '${stranger.id}'`));
  assert.doesNotMatch(refused.message, /platform_connect_0001/, "the key is masked");

  const other = createStripeFactory({ apiUrl: server.url })(OTHER_PLATFORM_KEY);
  const notPlatform = await refusal(() => other.customers.list({}, { stripeAccount: connected }));
  assert.ok(notPlatform instanceof Stripe.errors.StripePermissionError);
  assert.match(notPlatform.message, /^Only Stripe Connect platforms can work with other accounts/);
});

Deno.test("authorization codes are single-use and short-lived: reuse answers invalid_grant and revokes the connection, expiry and unknown codes answer invalid_grant", async () => {
  let now = new Date("2026-03-01T12:00:00Z");
  await using server = await startLocalStripe({ now: () => now });
  const { stripe, app } = await platformOn(server);
  const url = authorizeUrl(server, {
    response_type: "code",
    client_id: app.id,
    scope: "read_write",
  });

  const first = (await server.approveConnect(url, { newAccountName: "Reused" })).searchParams
    .get("code")!;
  const token = await stripe.oauth.token({ grant_type: "authorization_code", code: first });
  const reused = await refusal(() =>
    stripe.oauth.token({ grant_type: "authorization_code", code: first })
  );
  assert.ok(reused instanceof Stripe.errors.StripeInvalidGrantError, reused.constructor.name);
  assert.equal(reused.statusCode, 400);
  assert.match(reused.message, /already been used/);
  assert.equal(await server.connection(token.stripe_user_id!), null, "the connection is revoked");
  const revoked = await refusal(() =>
    stripe.customers.list({}, { stripeAccount: token.stripe_user_id! })
  );
  assert.equal(revoked.statusCode, 403);

  const late = (await server.approveConnect(url, { newAccountName: "Late" })).searchParams
    .get("code")!;
  now = new Date(now.getTime() + (CODE_LIFETIME_SECONDS + 1) * 1000);
  const expired = await refusal(() =>
    stripe.oauth.token({ grant_type: "authorization_code", code: late })
  );
  assert.ok(expired instanceof Stripe.errors.StripeInvalidGrantError);
  assert.match(expired.message, /^Authorization code expired/);

  const unknown = await refusal(() =>
    stripe.oauth.token({ grant_type: "authorization_code", code: "ac_forged" })
  );
  assert.ok(unknown instanceof Stripe.errors.StripeInvalidGrantError);
  assert.equal(unknown.message, "Authorization code does not exist: ac_forged");
});

Deno.test("the token exchange is the platform's: another platform's key cannot use the code, a missing key is invalid_client, and client_secret works like Bearer", async () => {
  await using server = await startLocalStripe();
  const { app } = await platformOn(server);
  await platformOn(server, OTHER_PLATFORM_KEY, "Other");
  const url = authorizeUrl(server, {
    response_type: "code",
    client_id: app.id,
    scope: "read_write",
  });
  const code = (await server.approveConnect(url, { newAccountName: "Mine" })).searchParams
    .get("code")!;

  const other = createStripeFactory({ apiUrl: server.url })(OTHER_PLATFORM_KEY);
  const stolen = await refusal(() => other.oauth.token({ grant_type: "authorization_code", code }));
  assert.ok(stolen instanceof Stripe.errors.StripeInvalidGrantError);
  assert.match(stolen.message, /does not exist/);

  const anonymous = await fetch(new URL("/oauth/token", server.url), {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", code }),
  });
  const anonymousBody = await anonymous.json();
  assert.equal(anonymous.status, 401, JSON.stringify(anonymousBody));
  assert.equal(anonymousBody.error, "invalid_client");

  const withSecret = await fetch(new URL("/oauth/token", server.url), {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      client_secret: PLATFORM_KEY,
    }),
  });
  const body = await withSecret.json();
  assert.equal(withSecret.status, 200, JSON.stringify(body));
  assert.match(body.stripe_user_id, /^acct_/);

  const badGrant = await fetch(new URL("/oauth/token", server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${PLATFORM_KEY}` },
    body: new URLSearchParams({ grant_type: "password" }),
  });
  assert.equal(badGrant.status, 400);
  assert.equal((await badGrant.json()).error, "unsupported_grant_type");
});

Deno.test("Deny sends the user back with error=access_denied and the state; an unknown client_id or an unregistered redirect_uri is answered by Stripe without redirecting", async () => {
  await using server = await startLocalStripe();
  const { app } = await platformOn(server);

  const denied = await server.denyConnect(authorizeUrl(server, {
    response_type: "code",
    client_id: app.id,
    scope: "read_write",
    state: "xyz",
  }));
  assert.equal(
    `${denied.origin}${denied.pathname}`,
    REDIRECT,
    "the first redirect URI is the default",
  );
  assert.equal(denied.searchParams.get("error"), "access_denied");
  assert.equal(denied.searchParams.get("error_description"), "The user denied your request");
  assert.equal(denied.searchParams.get("state"), "xyz");
  assert.equal(denied.searchParams.get("code"), null);

  for (
    const [params, message] of [
      [{ response_type: "code", client_id: "ca_unknown" }, /No application matches/],
      [
        { response_type: "code", client_id: app.id, redirect_uri: "https://evil.test/cb" },
        /Invalid redirect URI 'https:\/\/evil.test\/cb'/,
      ],
      [{ response_type: "token", client_id: app.id }, /Unsupported response_type/],
      [{ response_type: "code", client_id: app.id, scope: "admin" }, /Invalid scope/],
    ] as const
  ) {
    const response = await fetch(authorizeUrl(server, params), { redirect: "manual" });
    const body = await response.json();
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(response.headers.get("location"), null);
    assert.match(body.error.message, message);
  }
});

Deno.test("an account connected to another platform cannot be chosen for read_write (Stripe's 2021 rule): the page says so and a forced choice is refused", async () => {
  await using server = await startLocalStripe();
  const other = await platformOn(server, OTHER_PLATFORM_KEY, "Other platform");
  const { stripe_user_id: taken } = await other.connect({ newAccountName: "Taken" });
  const free = await server.createAccount({ displayName: "Free account" });
  const { app, connect } = await platformOn(server);

  const url = authorizeUrl(server, {
    response_type: "code",
    client_id: app.id,
    scope: "read_write",
  });
  const html = await (await fetch(url)).text();
  assert.match(html, new RegExp(`value="${taken}" disabled`));
  assert.match(html, /This account is connected to another platform/);
  assert.doesNotMatch(html, new RegExp(`value="${free.id}" disabled`));

  await assert.rejects(
    server.approveConnect(url, { account: taken! }),
    (error: LocalStripeError) => {
      assert.equal(error.status, 400);
      assert.equal(error.body.message, CONTROLLED_BY_ANOTHER_PLATFORM);
      return true;
    },
  );
  const token = await connect({ account: free.id });
  assert.equal(token.stripe_user_id, free.id, "an existing free account connects");
  assert.equal((await server.connection(taken!))?.application, other.app.id, "untouched");
});

Deno.test("Connect endpoints receive the connected accounts' events with account set; the platform's own endpoints and the account's own keep their own events", async () => {
  await using platformHook = startReceiver();
  await using connectHook = startReceiver();
  await using otherConnectHook = startReceiver();
  await using server = await startLocalStripe();
  const { stripe, connect } = await platformOn(server);
  const own = await stripe.webhookEndpoints.create({
    url: platformHook.url,
    enabled_events: ["*"],
  });
  const connectEndpoint = await stripe.webhookEndpoints.create({
    url: connectHook.url,
    connect: true,
    enabled_events: ["checkout.session.completed", "customer.subscription.created"],
  });
  assert.equal(own.application, null);
  assert.match(connectEndpoint.application ?? "", /^ca_/);
  const other = await platformOn(server, OTHER_PLATFORM_KEY, "Other");
  await other.stripe.webhookEndpoints.create({
    url: otherConnectHook.url,
    connect: true,
    enabled_events: ["*"],
  });

  const { stripe_user_id: accountId } = await connect({ newAccountName: "Shop" });
  const options = { stripeAccount: accountId! };
  const price = await stripe.prices.create({
    currency: "usd",
    unit_amount: 900,
    recurring: { interval: "month" },
    product_data: { name: "Shop Pro" },
  }, options);
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://app.test/ok",
  }, options);
  assert.match(await (await fetch(session.url!)).text(), /Shop · acct_/, "Checkout names the shop");
  await server.payCheckout(session.id, { email: "buyer@example.com" });

  assert.deepEqual(connectHook.types(), [
    "customer.subscription.created",
    "checkout.session.completed",
  ]);
  for (const request of connectHook.received) {
    const event = await stripe.webhooks.constructEventAsync(
      request.body,
      request.signature!,
      connectEndpoint.secret!,
    );
    assert.equal(event.account, accountId, "the event names the connected account");
  }
  assert.deepEqual(platformHook.types(), [], "the platform's own endpoint sees none of them");
  const [latest] = (await stripe.events.list({ limit: 1 }, options)).data;
  assert.equal(latest.type, "checkout.session.completed");
  assert.equal(
    latest.account,
    accountId,
    "read through Stripe-Account, an event names its account",
  );
  assert.deepEqual(otherConnectHook.types(), [], "another platform's Connect endpoint neither");

  await stripe.products.create({ name: "Platform's own" });
  const ownEvent = await server.sendEvent({
    secretKey: PLATFORM_KEY,
    type: "customer.subscription.created",
    object: { id: "sub_own", object: "subscription" },
  });
  assert.deepEqual(platformHook.types(), ["customer.subscription.created"]);
  assert.equal(JSON.parse(platformHook.received[0].body).account, undefined);
  assert.equal(
    ownEvent.deliveries.length,
    1,
    "the platform's own events skip its Connect endpoint",
  );
});

Deno.test("stripe.oauth.deauthorize ends the connection: account.application.deauthorized reaches the Connect endpoint, Stripe-Account is refused, and deauthorizing again is invalid_client", async () => {
  await using hook = startReceiver();
  await using server = await startLocalStripe();
  const { stripe, app, connect } = await platformOn(server);
  const endpoint = await stripe.webhookEndpoints.create({
    url: hook.url,
    connect: true,
    enabled_events: ["account.application.deauthorized"],
  });
  const { stripe_user_id: accountId } = await connect({ newAccountName: "Leaving" });

  const answer = await stripe.oauth.deauthorize({ client_id: app.id, stripe_user_id: accountId! });
  assert.deepEqual({ ...answer }, { stripe_user_id: accountId });
  assert.deepEqual(hook.types(), ["account.application.deauthorized"]);
  const event = await stripe.webhooks.constructEventAsync(
    hook.received[0].body,
    hook.received[0].signature!,
    endpoint.secret!,
  );
  assert.equal(event.account, accountId);
  assert.deepEqual(event.data.object, { id: app.id, object: "application", name: "Platform" });

  const refused = await refusal(() => stripe.customers.list({}, { stripeAccount: accountId! }));
  assert.equal(refused.code, "account_invalid");
  const again = await refusal(() =>
    stripe.oauth.deauthorize({ client_id: app.id, stripe_user_id: accountId! })
  );
  assert.ok(again instanceof Stripe.errors.StripeInvalidClientError, again.constructor.name);
  assert.equal(again.statusCode, 401);
  assert.equal(
    again.message,
    `This application is not connected to stripe account ${accountId}, or that account does not exist.`,
  );
  const notMine = await refusal(() =>
    createStripeFactory({ apiUrl: server.url })(OTHER_PLATFORM_KEY).oauth.deauthorize({
      client_id: app.id,
      stripe_user_id: accountId!,
    })
  );
  assert.ok(notMine instanceof Stripe.errors.StripeInvalidClientError);
});

Deno.test("the owner revoking the platform in their dashboard sends account.application.deauthorized to the Connect endpoint", async () => {
  await using hook = startReceiver();
  await using server = await startLocalStripe();
  const { stripe, connect } = await platformOn(server);
  await stripe.webhookEndpoints.create({ url: hook.url, connect: true, enabled_events: ["*"] });
  const { stripe_user_id: accountId } = await connect({ newAccountName: "Revoker" });

  const { deliveries } = await server.revokeConnection(accountId!);
  assert.deepEqual(deliveries.map((d) => [d.type, d.ok]), [
    ["account.application.deauthorized", true],
  ]);
  assert.equal(JSON.parse(hook.received[0].body).account, accountId);
  assert.equal(await server.connection(accountId!), null);
});

Deno.test("faults make /oauth/token answer 503 (StripeAPIError) or break the connection (StripeConnectionError) until cleared", async () => {
  await using server = await startLocalStripe();
  const { stripe, app } = await platformOn(server);
  const url = authorizeUrl(server, {
    response_type: "code",
    client_id: app.id,
    scope: "read_write",
  });
  const code = (await server.approveConnect(url, { newAccountName: "Patient" })).searchParams
    .get("code")!;
  const exchange = () => stripe.oauth.token({ grant_type: "authorization_code", code });

  await server.injectFault({ path: "/oauth/token", status: 503 });
  const unavailable = await refusal(exchange);
  assert.ok(unavailable instanceof Stripe.errors.StripeAPIError, unavailable.constructor.name);
  assert.equal(unavailable.statusCode, 503);

  await server.clearFaults();
  await server.injectFault({ path: "/oauth/token", down: true });
  const down = await refusal(exchange);
  assert.ok(down instanceof Stripe.errors.StripeConnectionError, down.constructor.name);

  await server.clearFaults();
  assert.match(
    (await exchange()).stripe_user_id!,
    /^acct_/,
    "the code was not spent by the failures",
  );
});

Deno.test("applications and connections survive a restart with a state file (deno task dev keeps founders connected)", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/stripe-local.json`;
  try {
    let accountId: string;
    {
      await using server = await startLocalStripe({ statePath });
      const { connect } = await platformOn(server);
      accountId = (await connect({ newAccountName: "Kept" })).stripe_user_id!;
    }
    await using server = await startLocalStripe({ statePath });
    const stripe = createStripeFactory({ apiUrl: server.url })(PLATFORM_KEY);
    const account = await stripe.accounts.retrieveCurrent({}, { stripeAccount: accountId });
    assert.equal(account.settings?.dashboard.display_name, "Kept");
    const platform = await stripe.accounts.retrieveCurrent();
    assert.equal((await server.connection(accountId))?.platform, platform.id);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

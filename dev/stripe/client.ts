/**
 * Typed helpers over the `/_test` controls, for tests (also against a local Stripe in another
 * process, e.g. the one `deno task dev` starts). Objects are typed as the stripe SDK's types;
 * fields the local server does not model are absent.
 * @example
 * const local = new LocalStripeClient("http://127.0.0.1:12111");
 * const { subscription, deliveries } = await local.payCheckout(session.id);
 */
import type Stripe from "stripe";
import type { StripeErrorBody } from "./errors.ts";
import type { Fault } from "./faults.ts";
import type { Application, Connection, Delivery } from "./store.ts";

export type { Application, Connection, Delivery, Fault };

export interface EventsResult {
  /** The events published, in order. */
  events: Stripe.Event[];
  /** One delivery attempt per event and subscribed endpoint. */
  deliveries: Delivery[];
}
export interface CheckoutPaid extends EventsResult {
  session: Stripe.Checkout.Session;
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice;
}
export interface SubscriptionChanged extends EventsResult {
  subscription: Stripe.Subscription;
  invoice?: Stripe.Invoice;
}

/** A `/_test` call the local Stripe refused; `body` is Stripe's error object. */
export class LocalStripeError extends Error {
  constructor(readonly status: number, readonly body: StripeErrorBody) {
    super(`local Stripe ${status}: ${body.message}`);
  }
}

export class LocalStripeClient {
  constructor(readonly url: string) {}

  /** Pays an open Checkout Session (what the hosted page's Pay button does), delivering its events. */
  payCheckout(sessionId: string, options: { email?: string } = {}): Promise<CheckoutPaid> {
    return this.call("POST", `/_test/checkout/${sessionId}/pay`, options);
  }

  /** Cancels now, as the portal does: `customer.subscription.deleted`. */
  cancelSubscription(subscriptionId: string): Promise<SubscriptionChanged> {
    return this.call("POST", `/_test/subscriptions/${subscriptionId}/cancel`);
  }

  /** Switches the subscription to `priceId`, as the portal does: `customer.subscription.updated`. */
  changeSubscriptionPrice(subscriptionId: string, priceId: string): Promise<SubscriptionChanged> {
    return this.call("POST", `/_test/subscriptions/${subscriptionId}/change`, { price: priceId });
  }

  /** The renewal payment fails: `past_due`, `invoice.payment_failed`, `customer.subscription.updated`. */
  failPayment(subscriptionId: string): Promise<SubscriptionChanged> {
    return this.call("POST", `/_test/subscriptions/${subscriptionId}/fail_payment`);
  }

  /** The next payment succeeds (pays a past-due invoice, or bills the next period): `invoice.paid`. */
  renewSubscription(subscriptionId: string): Promise<SubscriptionChanged> {
    return this.call("POST", `/_test/subscriptions/${subscriptionId}/renew`);
  }

  /**
   * Signs and delivers an arbitrary event to the webhook endpoints of the account of `secretKey`
   * (or `account`, an `acct_…` id) subscribed to `type`.
   */
  async sendEvent(input: {
    secretKey?: string;
    account?: string;
    type: string;
    object: object;
    previousAttributes?: object;
  }): Promise<{ event: Stripe.Event; deliveries: Delivery[] }> {
    return await this.call("POST", "/_test/events", {
      account: input.account,
      type: input.type,
      object: input.object,
      previous_attributes: input.previousAttributes,
    }, input.secretKey);
  }

  /** Delivers a stored event again: same id and body, a fresh signature (as a Stripe retry). */
  async redeliverEvent(eventId: string): Promise<Delivery[]> {
    return (await this.call<{ deliveries: Delivery[] }>("POST", `/_test/events/${eventId}/deliver`))
      .deliveries;
  }

  /**
   * Makes `/v1` requests whose path starts with `fault.path` fail with `fault.status` (and Stripe's
   * error body for it) until `clearFaults()`: 5xx, 429, 403 (a restricted key), 404.
   */
  async injectFault(fault: Fault): Promise<void> {
    await this.call("POST", "/_test/faults", fault);
  }

  /**
   * Connect: registers the OAuth application of the platform whose key is `secretKey` (adding
   * `redirectUris`); its `id` is the `ca_…` client id.
   */
  registerApplication(
    secretKey: string,
    options: { redirectUris?: string[]; name?: string } = {},
  ): Promise<Application> {
    return this.call("POST", "/_test/connect/applications", {
      redirect_uris: options.redirectUris,
      name: options.name,
    }, secretKey);
  }

  /** Creates a Standard account (no key of its own) that the consent page then offers. */
  createAccount(
    options: { displayName: string; email?: string; livemode?: boolean },
  ): Promise<Stripe.Account> {
    return this.call("POST", "/_test/accounts", {
      display_name: options.displayName,
      email: options.email,
      livemode: options.livemode,
    });
  }

  /**
   * Approves an `/oauth/authorize` URL as a user clicking "Connect" on the consent page would,
   * with an existing `account` or a new one named `newAccountName`; resolves to the URL Stripe
   * sends the browser back to (`code`, `scope`, `state`).
   */
  async approveConnect(
    authorizeUrl: string,
    choice: { account: string } | { newAccountName: string; email?: string },
  ): Promise<URL> {
    return await this.consent(authorizeUrl, {
      decision: "allow",
      ...("account" in choice
        ? { account: choice.account }
        : { account: "new", name: choice.newAccountName, email: choice.email ?? "" }),
    });
  }

  /** Clicks "Deny" on the consent page: resolves to the redirect with `error=access_denied`. */
  async denyConnect(authorizeUrl: string): Promise<URL> {
    return await this.consent(authorizeUrl, { decision: "deny" });
  }

  /** The connection of `accountId` to a platform, or null. */
  async connection(accountId: string): Promise<Connection | null> {
    try {
      return await this.call<Connection>("GET", `/_test/connect/connections/${accountId}`);
    } catch (error) {
      if (error instanceof LocalStripeError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * The account's owner revokes the platform in their dashboard: `account.application.deauthorized`
   * reaches the platform's Connect endpoints.
   */
  revokeConnection(accountId: string): Promise<EventsResult> {
    return this.call("POST", `/_test/connect/connections/${accountId}/revoke`);
  }

  /** Removes every injected fault. */
  async clearFaults(): Promise<void> {
    await this.call("DELETE", "/_test/faults");
  }

  /** Delivery attempts so far, oldest first, optionally filtered. */
  async deliveries(
    filter: Partial<Record<"account" | "event" | "type" | "endpoint" | "url", string>> = {},
  ): Promise<Delivery[]> {
    const query = new URLSearchParams(filter as Record<string, string>);
    return (await this.call<{ data: Delivery[] }>("GET", `/_test/deliveries?${query}`)).data;
  }

  private async consent(authorizeUrl: string, fields: Record<string, string>): Promise<URL> {
    const url = new URL(authorizeUrl);
    const form = new URLSearchParams(url.searchParams);
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    const response = await fetch(new URL("/oauth/authorize", url), {
      method: "POST",
      body: form,
      redirect: "manual",
    });
    const text = await response.text();
    const location = response.headers.get("location");
    if (response.status !== 302 || !location) {
      const alert = /role="alert">([^<]*)</.exec(text)?.[1]
        ?.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
      const message = alert ??
        (() => {
          try {
            return JSON.parse(text).error.message as string;
          } catch {
            return text.slice(0, 200);
          }
        })();
      throw new LocalStripeError(response.status, { type: "invalid_request_error", message });
    }
    return new URL(location);
  }

  private async call<T>(method: string, path: string, body?: object, key?: string): Promise<T> {
    const response = await fetch(new URL(path, this.url), {
      method,
      headers: {
        "Content-Type": "application/json",
        ...(key && { Authorization: `Bearer ${key}` }),
      },
      body: body && JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new LocalStripeError(response.status, json.error);
    return json as T;
  }
}

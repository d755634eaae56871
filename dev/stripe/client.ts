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
import type { Delivery } from "./store.ts";

export type { Delivery, Fault };

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

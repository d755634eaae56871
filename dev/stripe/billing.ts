/**
 * What happens to subscriptions, shared by the API, the hosted pages and the test controls:
 * each operation changes the state first, then publishes its events (delivered before it resolves,
 * so a test never has to wait for a webhook).
 */
import { StripeApiError } from "./errors.ts";
import { bool, type FormObject, int, metadata, objects, required, str } from "./form.ts";
import { createCustomer, type Price } from "./catalog.ts";
import {
  newInvoice,
  newSubscription,
  periodEnd,
  type Subscription,
  subscriptionItem,
  syncPeriod,
} from "./subscriptions.ts";
import type { Account, Delivery, Obj, Store } from "./store.ts";
import type { EventSpec, Webhooks } from "./webhooks.ts";

export interface Outcome {
  events: Obj[];
  deliveries: Delivery[];
}
export interface CheckoutOutcome extends Outcome {
  session: Obj;
  customer: Obj;
  subscription: Subscription;
  invoice: Obj;
}
export interface SubscriptionOutcome extends Outcome {
  subscription: Subscription;
  invoice?: Obj;
}

const LIVE = ["active", "trialing", "past_due", "unpaid", "incomplete"];

export class Billing {
  constructor(private store: Store, private webhooks: Webhooks) {}

  /** Finds any object by id across accounts, checking its kind (Stripe's 404 otherwise). */
  find(object: string, id: string): { account: Account; obj: Obj } {
    const found = this.store.locate(id);
    if (!found || found.obj.object !== object) throw StripeApiError.noSuch(object, id);
    return found;
  }

  /**
   * Pays an open Checkout Session, as the hosted page's Pay button does: creates the customer
   * (unless the session named one), an active subscription with a paid invoice, completes the
   * session, then delivers `customer.created`, `customer.subscription.created`, `invoice.paid`,
   * `invoice.payment_succeeded` and `checkout.session.completed`.
   */
  async payCheckout(sessionId: string, options: { email?: string } = {}): Promise<CheckoutOutcome> {
    const { account, obj: session } = this.find("checkout.session", sessionId);
    if (session.status !== "open") {
      throw StripeApiError.invalid(
        `This Checkout Session is ${session.status} and can no longer be paid.`,
        undefined,
        "checkout_session_not_open",
      );
    }
    const extras = account.checkout[session.id];
    const specs: EventSpec[] = [];
    let customer: Obj;
    if (session.customer) {
      customer = this.store.get(account, "customer", String(session.customer));
    } else {
      const email = options.email || String(session.customer_email ?? "") || "customer@example.com";
      customer = createCustomer(this.store, account, { email });
      specs.push({ type: "customer.created", object: customer });
    }
    const items = extras.lineItems.map((l) => ({
      price: this.store.get(account, "price", l.price) as Price,
      quantity: l.quantity,
    }));
    const subscription = this.store.insert(
      account,
      newSubscription(this.store, account, customer.id, items, extras.subscriptionMetadata),
    );
    const invoice = newInvoice(this.store, account, subscription, "paid", "subscription_create");
    subscription.latest_invoice = invoice.id;
    Object.assign(session, {
      status: "complete",
      payment_status: "paid",
      customer: customer.id,
      subscription: subscription.id,
      invoice: invoice.id,
      customer_details: {
        address: null,
        email: customer.email,
        name: customer.name,
        phone: null,
        tax_exempt: "none",
        tax_ids: [],
      },
      url: null,
    });
    specs.push(
      { type: "customer.subscription.created", object: subscription },
      { type: "invoice.paid", object: invoice },
      { type: "invoice.payment_succeeded", object: invoice },
      { type: "checkout.session.completed", object: session },
    );
    const published = await this.webhooks.publish(account, specs);
    return { session, customer, subscription, invoice, ...published };
  }

  /** `POST /v1/subscriptions`: starts an active subscription paid at once. */
  async createSubscription(account: Account, p: FormObject): Promise<SubscriptionOutcome> {
    const customer = this.store.get(account, "customer", required(p, "customer"), "customer");
    const lines = objects(p, "items");
    if (!lines?.length) throw StripeApiError.missingParam("items");
    const items = lines.map((line, i) => ({
      price: this.recurringPrice(account, required(line, "price"), `items[${i}][price]`),
      quantity: int(line, "quantity") ?? 1,
    }));
    const subscription = this.store.insert(
      account,
      newSubscription(this.store, account, customer.id, items, metadata(p)),
    );
    const invoice = newInvoice(this.store, account, subscription, "paid", "subscription_create");
    subscription.latest_invoice = invoice.id;
    return {
      subscription,
      invoice,
      ...await this.webhooks.publish(account, [
        { type: "customer.subscription.created", object: subscription },
        { type: "invoice.paid", object: invoice },
        { type: "invoice.payment_succeeded", object: invoice },
      ]),
    };
  }

  /**
   * `POST /v1/subscriptions/:id`: `items[n][id]` with `price`/`quantity` changes that item,
   * `items[n][deleted]=true` removes it, an item without `id` is added (as Stripe does);
   * `cancel_at_period_end` and `metadata` as documented. One `customer.subscription.updated`.
   */
  async updateSubscription(
    account: Account,
    subscription: Subscription,
    p: FormObject,
  ): Promise<SubscriptionOutcome> {
    return await this.change(account, subscription, () => {
      const onlyMetadata = Object.keys(p).every((k) => k === "metadata" || k === "expand");
      if (subscription.status === "canceled" && !onlyMetadata) {
        throw StripeApiError.invalid(
          "A canceled subscription can only update its cancellation_details and metadata.",
        );
      }
      (objects(p, "items") ?? []).forEach((line, i) => {
        const param = `items[${i}]`;
        const id = str(line, "id");
        const price = str(line, "price");
        if (!id) {
          if (!price) throw StripeApiError.missingParam(`${param}[price]`);
          subscription.items.data.push(subscriptionItem(
            this.store,
            subscription.id,
            this.recurringPrice(account, price, `${param}[price]`),
            int(line, "quantity") ?? 1,
            Number(subscription.current_period_start),
          ));
          return;
        }
        const item = subscription.items.data.find((it) => it.id === id);
        if (!item) throw StripeApiError.noSuch("subscription_item", id, `${param}[id]`);
        if (bool(line, "deleted")) {
          subscription.items.data = subscription.items.data.filter((it) => it !== item);
          return;
        }
        if (price) {
          item.price = structuredClone(this.recurringPrice(account, price, `${param}[price]`));
        }
        item.quantity = int(line, "quantity") ?? item.quantity;
      });
      const atPeriodEnd = bool(p, "cancel_at_period_end");
      if (atPeriodEnd !== undefined) {
        Object.assign(subscription, {
          cancel_at_period_end: atPeriodEnd,
          cancel_at: atPeriodEnd ? subscription.current_period_end : null,
          cancellation_details: {
            comment: null,
            feedback: null,
            reason: atPeriodEnd ? "cancellation_requested" : null,
          },
        });
      }
      subscription.metadata = metadata(p, subscription.metadata);
    });
  }

  /** Switches the subscription's (first) item to `priceId`, as the portal's plan switch does. */
  async changePrice(
    account: Account,
    subscription: Subscription,
    priceId: string,
  ): Promise<SubscriptionOutcome> {
    const item = subscription.items.data[0];
    return await this.updateSubscription(account, subscription, {
      items: [item ? { id: item.id, price: priceId } : { price: priceId }],
    });
  }

  /** Cancels now (`DELETE /v1/subscriptions/:id`, the portal's Cancel): `customer.subscription.deleted`. */
  async cancel(account: Account, subscription: Subscription): Promise<SubscriptionOutcome> {
    if (subscription.status === "canceled") {
      throw StripeApiError.invalid(
        "A canceled subscription can only update its cancellation_details and metadata.",
      );
    }
    const now = this.store.unix();
    Object.assign(subscription, {
      status: "canceled",
      canceled_at: now,
      ended_at: now,
      cancel_at_period_end: false,
      cancellation_details: { comment: null, feedback: null, reason: "cancellation_requested" },
    });
    return {
      subscription,
      ...await this.webhooks.publish(account, [
        { type: "customer.subscription.deleted", object: subscription },
      ]),
    };
  }

  /**
   * The renewal payment fails: the period advances, an open invoice is attempted and fails, the
   * subscription becomes `past_due`. Events: `invoice.payment_failed`, `customer.subscription.updated`.
   */
  async failPayment(account: Account, subscription: Subscription): Promise<SubscriptionOutcome> {
    this.requireLive(subscription);
    let invoice!: Obj;
    const outcome = await this.change(account, subscription, () => {
      this.advancePeriod(subscription);
      invoice = newInvoice(this.store, account, subscription, "open", "subscription_cycle");
      Object.assign(subscription, { status: "past_due", latest_invoice: invoice.id });
    }, () => [{ type: "invoice.payment_failed", object: invoice }]);
    return { ...outcome, invoice };
  }

  /**
   * The next payment succeeds: a `past_due` subscription's open invoice is paid, otherwise the
   * period advances with a new paid invoice. Events: `invoice.paid`, `invoice.payment_succeeded`,
   * `customer.subscription.updated`.
   */
  async renew(account: Account, subscription: Subscription): Promise<SubscriptionOutcome> {
    this.requireLive(subscription);
    let invoice!: Obj;
    const open = account.objects[String(subscription.latest_invoice)];
    const outcome = await this.change(account, subscription, () => {
      if (open?.status === "open") {
        invoice = Object.assign(open, {
          status: "paid",
          amount_paid: open.amount_due,
          amount_remaining: 0,
          attempt_count: Number(open.attempt_count) + 1,
          next_payment_attempt: null,
          status_transitions: {
            ...(open.status_transitions as object),
            paid_at: this.store.unix(),
          },
        });
      } else {
        this.advancePeriod(subscription);
        invoice = newInvoice(this.store, account, subscription, "paid", "subscription_cycle");
      }
      Object.assign(subscription, { status: "active", latest_invoice: invoice.id });
    }, () => [
      { type: "invoice.paid", object: invoice },
      { type: "invoice.payment_succeeded", object: invoice },
    ]);
    return { ...outcome, invoice };
  }

  /**
   * Applies `mutate` to the subscription and publishes `before` events, then one
   * `customer.subscription.updated` carrying the changed fields' old values (when anything changed).
   */
  private async change(
    account: Account,
    subscription: Subscription,
    mutate: () => void,
    before: EventSpec[] | (() => EventSpec[]) = [],
  ): Promise<SubscriptionOutcome> {
    const old = structuredClone(subscription);
    mutate();
    syncPeriod(subscription);
    const previous: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(old)) {
      if (JSON.stringify(value) !== JSON.stringify(subscription[key])) previous[key] = value;
    }
    const specs = typeof before === "function" ? before() : before;
    if (Object.keys(previous).length > 0) {
      specs.push({
        type: "customer.subscription.updated",
        object: subscription,
        previousAttributes: previous,
      });
    }
    return { subscription, ...await this.webhooks.publish(account, specs) };
  }

  private advancePeriod(subscription: Subscription) {
    for (const item of subscription.items.data) {
      item.current_period_start = item.current_period_end;
      item.current_period_end = periodEnd(item.current_period_start, item.price.recurring!);
    }
  }

  private requireLive(subscription: Subscription) {
    if (!LIVE.includes(subscription.status)) {
      throw StripeApiError.invalid(`The subscription is ${subscription.status}.`);
    }
  }

  private recurringPrice(account: Account, id: string, param: string): Price {
    const price = this.store.get(account, "price", id, param) as Price;
    if (!price.active) {
      throw StripeApiError.invalid(
        "The price specified is inactive. This field only accepts active prices.",
        param,
      );
    }
    if (!price.recurring) {
      throw StripeApiError.invalid(
        "The price specified is not recurring. This field only accepts recurring prices.",
        param,
      );
    }
    return price;
  }
}

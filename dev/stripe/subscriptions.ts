/**
 * Subscriptions, their items and invoices. Periods follow the price's interval; an item and its
 * subscription both carry the current period (see `syncPeriod`).
 */
import { formatPrice, type Interval, type Price, productName } from "./catalog.ts";
import { type Account, newId, type Obj, type Store } from "./store.ts";

export interface Subscription extends Obj {
  object: "subscription";
  status: string;
  customer: string;
  metadata: Record<string, string>;
  cancel_at_period_end: boolean;
  items: { object: "list"; data: SubscriptionItem[]; [field: string]: unknown };
}
export interface SubscriptionItem extends Obj {
  price: Price;
  quantity: number;
  current_period_start: number;
  current_period_end: number;
}

/** The end of a billing period that starts at `start` (unix seconds), month ends clamped. */
export function periodEnd(
  start: number,
  recurring: { interval: Interval; interval_count: number },
): number {
  const d = new Date(start * 1000);
  const n = recurring.interval_count;
  if (recurring.interval === "day") d.setUTCDate(d.getUTCDate() + n);
  if (recurring.interval === "week") d.setUTCDate(d.getUTCDate() + 7 * n);
  if (recurring.interval === "month" || recurring.interval === "year") {
    const day = d.getUTCDate();
    d.setUTCDate(1);
    if (recurring.interval === "month") d.setUTCMonth(d.getUTCMonth() + n);
    else d.setUTCFullYear(d.getUTCFullYear() + n);
    const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, lastDay));
  }
  return Math.floor(d.getTime() / 1000);
}

export function subscriptionItem(
  store: Store,
  subscription: string,
  price: Price,
  quantity: number,
  periodStart: number,
): SubscriptionItem {
  return {
    id: newId("si", 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: store.unix(),
    current_period_start: periodStart,
    current_period_end: periodEnd(periodStart, price.recurring!),
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price: structuredClone(price),
    quantity,
    subscription,
    tax_rates: [],
  };
}

/** An active subscription (not yet stored) for `customer` with `items`. */
export function newSubscription(
  store: Store,
  account: Account,
  customer: string,
  items: { price: Price; quantity: number }[],
  meta: Record<string, string>,
): Subscription {
  const id = newId("sub");
  const now = store.unix();
  const subscription: Subscription = {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, disabled_reason: null, liability: null },
    billing_cycle_anchor: now,
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: "charge_automatically",
    created: now,
    currency: items[0].price.currency,
    customer,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    description: null,
    discounts: [],
    ended_at: null,
    items: {
      object: "list",
      data: items.map((i) => subscriptionItem(store, id, i.price, i.quantity, now)),
      has_more: false,
      total_count: items.length,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    livemode: account.livemode,
    metadata: meta,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: "active",
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_start: null,
  };
  syncPeriod(subscription);
  return subscription;
}

/**
 * Stripe moved `current_period_start/end` from the subscription to its items (API 2025-03-31);
 * both are kept so code written for either version reads them.
 */
export function syncPeriod(subscription: Subscription) {
  const first = subscription.items.data[0];
  subscription.current_period_start = first?.current_period_start ?? null;
  subscription.current_period_end = first?.current_period_end ?? null;
  subscription.items.total_count = subscription.items.data.length;
}

/** An invoice for the subscription's current period: `paid`, or `open` after a failed attempt. */
export function newInvoice(
  store: Store,
  account: Account,
  subscription: Subscription,
  status: "paid" | "open",
  reason: "subscription_create" | "subscription_cycle" | "subscription_update",
): Obj {
  const id = newId("in");
  const now = store.unix();
  const customer = account.objects[subscription.customer];
  const lines = subscription.items.data.map((item) => ({
    id: newId("il"),
    object: "line_item",
    amount: (item.price.unit_amount ?? 0) * item.quantity,
    currency: item.price.currency,
    description: `${item.quantity} × ${productName(account, item.price)} (at ${
      formatPrice(item.price)
    })`,
    discountable: true,
    invoice: id,
    livemode: account.livemode,
    metadata: {},
    parent: {
      type: "subscription_item_details",
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        subscription: subscription.id,
        subscription_item: item.id,
      },
    },
    period: { start: item.current_period_start, end: item.current_period_end },
    pricing: {
      type: "price_details",
      price_details: { price: item.price.id, product: item.price.product },
      unit_amount_decimal: item.price.unit_amount_decimal,
    },
    quantity: item.quantity,
  }));
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const paid = status === "paid";
  return store.insert(account, {
    id,
    object: "invoice",
    account_country: "US",
    account_name: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: paid ? total : 0,
    amount_remaining: paid ? 0 : total,
    amount_shipping: 0,
    application: null,
    attempt_count: 1,
    attempted: true,
    auto_advance: !paid,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_reason: reason,
    collection_method: "charge_automatically",
    created: now,
    currency: subscription.currency,
    customer: subscription.customer,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: now,
    ending_balance: 0,
    footer: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: account.livemode,
    metadata: {},
    next_payment_attempt: paid ? null : now + 3 * 24 * 3600,
    number: `${String(customer?.invoice_prefix ?? "LOCAL")}-${
      String(Object.keys(account.objects).length).padStart(4, "0")
    }`,
    on_behalf_of: null,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: {
        metadata: { ...subscription.metadata },
        subscription: subscription.id,
      },
    },
    period_end: subscription.current_period_end,
    period_start: subscription.current_period_start,
    starting_balance: 0,
    statement_descriptor: null,
    status,
    status_transitions: {
      finalized_at: now,
      marked_uncollectible_at: null,
      paid_at: paid ? now : null,
      voided_at: null,
    },
    // Before API 2025-03-31 the subscription id sat on the invoice itself; kept for older code.
    subscription: subscription.id,
    subtotal: total,
    total,
    webhooks_delivered_at: now,
  });
}

function planOf(price: Price) {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval,
    interval_count: price.recurring?.interval_count,
    livemode: price.livemode,
    metadata: price.metadata,
    nickname: price.nickname,
    product: price.product,
    usage_type: "licensed",
  };
}

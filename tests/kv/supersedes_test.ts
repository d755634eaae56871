/** The one rule by which a subscription's state replaces a stored record (founders and end-users). */
import assert from "node:assert/strict";
import {
  type HeldSubscription,
  type IncomingSubscription,
  type SameSubscriptionOrder,
  supersedes,
} from "../../lib/kv/supersedes.ts";

const held = (over: Partial<HeldSubscription> = {}): HeldSubscription => ({
  subscriptionId: "sub_1",
  status: "active",
  subscriptionCreated: 100,
  eventCreated: 200,
  ...over,
});
const next = (over: Partial<IncomingSubscription> = {}): IncomingSubscription => ({
  subscriptionId: "sub_1",
  status: "active",
  created: 100,
  eventCreated: 200,
  ...over,
});

const cases: {
  name: string;
  current: HeldSubscription | null;
  next: IncomingSubscription;
  event: boolean;
  fetched: boolean;
}[] = [
  { name: "no record", current: null, next: next(), event: true, fetched: true },
  {
    name: "a record without a subscription (customer only)",
    current: held({ subscriptionId: null, status: "none" }),
    next: next(),
    event: true,
    fetched: true,
  },
  {
    name: "same subscription, newer event",
    current: held(),
    next: next({ status: "past_due", eventCreated: 201 }),
    event: true,
    fetched: true,
  },
  {
    name: "same subscription, same event time",
    current: held(),
    next: next({ status: "past_due" }),
    event: true,
    fetched: true,
  },
  {
    name: "same subscription, older event",
    current: held(),
    next: next({ status: "past_due", eventCreated: 199 }),
    event: false,
    fetched: true,
  },
  {
    name: "same subscription, an older event that ends it",
    current: held(),
    next: next({ status: "canceled", eventCreated: 10 }),
    event: true,
    fetched: true,
  },
  {
    name: "same subscription, ended, a later event would revive it",
    current: held({ status: "canceled" }),
    next: next({ status: "active", eventCreated: 900 }),
    event: false,
    fetched: true,
  },
  {
    name: "same subscription, ended, ended again (incomplete_expired)",
    current: held({ status: "canceled" }),
    next: next({ status: "incomplete_expired", eventCreated: 10 }),
    event: true,
    fetched: true,
  },
  {
    name: "another subscription: the late end of an old one never ends a live one",
    current: held({ subscriptionId: "sub_2", subscriptionCreated: 500 }),
    next: next({ status: "canceled", eventCreated: 900 }),
    event: false,
    fetched: false,
  },
  {
    name: "another subscription: a live one replaces an ended one, even if older",
    current: held({ status: "canceled", subscriptionCreated: 500 }),
    next: next({ subscriptionId: "sub_2", created: 100 }),
    event: true,
    fetched: true,
  },
  {
    name: "another subscription: two live ones, the newer wins",
    current: held({ subscriptionId: "sub_2", subscriptionCreated: 500 }),
    next: next({ created: 100, eventCreated: 999 }),
    event: false,
    fetched: false,
  },
  {
    name: "another subscription: two live ones, created at the same second",
    current: held({ subscriptionId: "sub_2", subscriptionCreated: 500 }),
    next: next({ created: 500 }),
    event: true,
    fetched: true,
  },
  {
    name: "another subscription: two ended ones, the newer wins",
    current: held({ status: "canceled", subscriptionCreated: 100 }),
    next: next({ subscriptionId: "sub_2", status: "canceled", created: 101 }),
    event: true,
    fetched: true,
  },
  {
    name: "another subscription: two ended ones, the older loses",
    current: held({ status: "canceled", subscriptionCreated: 100 }),
    next: next({ subscriptionId: "sub_2", status: "incomplete_expired", created: 99 }),
    event: false,
    fetched: false,
  },
  {
    name: "another subscription, the record's `created` unknown (set by the admin command)",
    current: held({ subscriptionId: "sub_2", subscriptionCreated: null }),
    next: next({ created: 0 }),
    event: true,
    fetched: true,
  },
];

for (const order of ["event", "fetched"] as SameSubscriptionOrder[]) {
  Deno.test(`supersedes, ${order === "event" ? "ordered by event time (founders)" : "with freshly fetched state (end-users)"}: each case of the table`, () => {
    for (const c of cases) {
      assert.equal(supersedes(c.current, c.next, order), c[order], c.name);
    }
  });
}

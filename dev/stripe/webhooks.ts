/**
 * Events and their delivery: each event is stored in its account, then POSTed to every enabled
 * webhook endpoint of THAT account subscribed to its type (or to `*`), and, for a connected
 * account, to the Connect endpoints (`connect=true`) of the platform it is connected to, with
 * `"account": "acct_…"` in the payload (https://docs.stripe.com/connect/webhooks). Signed as Stripe signs:
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
 * (https://docs.stripe.com/webhooks#verify-manually). Every attempt is recorded; a failing
 * endpoint does not stop the others.
 */
import Stripe from "stripe";
import { type Account, type Delivery, newId, type Obj, type Store } from "./store.ts";

/** The API version events are rendered in: the one of the pinned stripe SDK. */
export const API_VERSION: string = Stripe.API_VERSION;

export interface EventSpec {
  type: string;
  object: Obj | Record<string, unknown>;
  /** For `*.updated` events: the changed fields' values before the change. */
  previousAttributes?: Record<string, unknown>;
}

/** `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the whole secret>`. */
export async function signatureHeader(
  payload: string,
  secret: string,
  timestamp: number,
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${payload}`));
  const hex = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `t=${timestamp},v1=${hex}`;
}

/** The event as a platform sees it through Connect: `account` right after `object`, as Stripe puts it. */
export function connectView(event: Obj, accountId: string): Obj {
  const { id, object, ...rest } = event;
  return { id, object, account: accountId, ...rest };
}

export class Webhooks {
  constructor(private store: Store, private fetchFn: typeof fetch = fetch) {}

  /** Creates, stores and delivers the events in order; resolves once every delivery is done. */
  async publish(
    account: Account,
    specs: EventSpec[],
  ): Promise<{ events: Obj[]; deliveries: Delivery[] }> {
    const events = specs.map((spec) => this.createEvent(account, spec));
    const deliveries: Delivery[] = [];
    for (const event of events) deliveries.push(...await this.deliver(account, event));
    return { events, deliveries };
  }

  /** Stores an event whose `data.object` is a snapshot of `spec.object` now. */
  createEvent(account: Account, spec: EventSpec): Obj {
    const event: Obj = {
      id: newId("evt"),
      object: "event",
      api_version: API_VERSION,
      created: this.store.unix(),
      data: {
        object: structuredClone(spec.object),
        ...(spec.previousAttributes && { previous_attributes: spec.previousAttributes }),
      },
      livemode: account.livemode,
      pending_webhooks: 0,
      request: { id: null, idempotency_key: null },
      type: spec.type,
    };
    event.pending_webhooks = this.endpointsFor(account, event).length;
    account.objects[event.id] = event;
    return event;
  }

  /** POSTs `event` to each endpoint of `account` that wants it (again, when called again). */
  async deliver(account: Account, event: Obj): Promise<Delivery[]> {
    const own = JSON.stringify(event, null, 2);
    const connected = JSON.stringify(connectView(event, account.id), null, 2);
    const deliveries: Delivery[] = [];
    for (const endpoint of this.endpointsFor(account, event)) {
      const payload = endpoint.application ? connected : own;
      const timestamp = this.store.unix();
      const delivery: Delivery = {
        id: newId("whdel"),
        account: account.id,
        event: event.id,
        type: String(event.type),
        endpoint: endpoint.id,
        url: String(endpoint.url),
        status: null,
        ok: false,
        error: null,
        response: "",
        created: timestamp,
      };
      try {
        const response = await this.fetchFn(String(endpoint.url), {
          method: "POST",
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": await signatureHeader(payload, String(endpoint.secret), timestamp),
          },
          body: payload,
          signal: AbortSignal.timeout(30_000),
        });
        delivery.status = response.status;
        delivery.ok = response.ok;
        delivery.response = (await response.text()).slice(0, 500);
      } catch (error) {
        delivery.error = error instanceof Error ? error.message : String(error);
      }
      this.store.deliveries.push(delivery);
      deliveries.push(delivery);
    }
    return deliveries;
  }

  /**
   * The account's own endpoints (not `connect`), then the Connect endpoints of the application
   * connected to it; `account.application.deauthorized` also reaches the application it names,
   * which is no longer connected by then.
   */
  private endpointsFor(account: Account, event: Obj): Obj[] {
    const type = String(event.type);
    const wants = (o: Obj) =>
      o.object === "webhook_endpoint" && o.status === "enabled" &&
      ((o.enabled_events as string[]).includes("*") ||
        (o.enabled_events as string[]).includes(type));
    const endpoints = Object.values(account.objects).filter((o) => wants(o) && !o.application);
    const apps = new Set<string>();
    const connection = this.store.connections[account.id];
    if (connection) apps.add(connection.application);
    if (type === "account.application.deauthorized") {
      apps.add(String((event.data as { object: { id: string } }).object.id));
    }
    for (const id of apps) {
      const platform = this.store.accounts[this.store.applications[id]?.account ?? ""];
      if (!platform) continue;
      endpoints.push(
        ...Object.values(platform.objects).filter((o) => wants(o) && o.application === id),
      );
    }
    return endpoints;
  }
}

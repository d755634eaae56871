/**
 * The local Stripe's state, all in memory (optionally mirrored to a JSON file for `deno task dev`
 * restarts): one account per API key, each with its own objects, saved idempotent responses and
 * events, plus the log of webhook deliveries.
 */
import { createHash } from "node:crypto";
import { StripeApiError } from "./errors.ts";
import { type FormObject, int, str } from "./form.ts";

/** Any Stripe object: `{ id, object: "price" | "customer" | …, …fields }`. */
export interface Obj {
  id: string;
  object: string;
  [field: string]: unknown;
}

export interface Account {
  id: string;
  livemode: boolean;
  created: number;
  /** Every object by id, in creation order (lists answer newest first, as Stripe does). */
  objects: Record<string, Obj>;
  /** POST responses by `Idempotency-Key`, replayed for the same key. */
  idempotency: Record<string, SavedResponse>;
  /** What a Checkout Session holds but does not show: its line items and subscription metadata. */
  checkout: Record<string, CheckoutExtras>;
  /** Set for accounts made on the Connect consent page (key accounts have none). */
  profile?: AccountProfile;
}

/** What the account's owner typed when creating it: shown as `settings.dashboard.display_name`. */
export interface AccountProfile {
  display_name: string;
  email: string | null;
}

/** A Connect platform's OAuth application (Stripe: Settings → Connect → OAuth). */
export interface Application {
  /** `ca_…` */
  id: string;
  /** The platform's own account. */
  account: string;
  livemode: boolean;
  /** Shown on the consent page. */
  name: string;
  /** Where `/oauth/authorize` may send the user back; the first is the default. */
  redirect_uris: string[];
}

/** An account connected to an application through OAuth (one per account: Stripe's 2021 rule). */
export interface Connection {
  account: string;
  application: string;
  platform: string;
  scope: "read_write" | "read_only";
  livemode: boolean;
  created: number;
  /** The code that made it: using that code again revokes the connection (OAuth 2, RFC 6749 §4.1.2). */
  code: string;
  access_token: string;
  refresh_token: string;
  publishable_key: string;
}

/** An authorization code from the consent page: single-use, short-lived. */
export interface AuthCode {
  code: string;
  application: string;
  account: string;
  scope: "read_write" | "read_only";
  livemode: boolean;
  redirect_uri: string;
  /** Unix seconds after which the code is refused. */
  expires: number;
  used: boolean;
}

export interface SavedResponse {
  method: string;
  path: string;
  body: string;
  status: number;
  response: string;
  requestId: string;
}

export interface CheckoutExtras {
  lineItems: { price: string; quantity: number }[];
  subscriptionMetadata: Record<string, string>;
}

/** One attempt to POST an event to a webhook endpoint. */
export interface Delivery {
  id: string;
  account: string;
  event: string;
  type: string;
  endpoint: string;
  url: string;
  /** The endpoint's HTTP status, or null when it could not be reached. */
  status: number | null;
  ok: boolean;
  error: string | null;
  /** The start of the endpoint's answer, for debugging. */
  response: string;
  created: number;
}

const KEY_SHAPE = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;

/** Stripe's answer to a key, or null when the local Stripe accepts it. */
export function keyProblem(key: string): StripeApiError | null {
  if (!KEY_SHAPE.test(key) || /invalid|revoked/i.test(key)) return StripeApiError.invalidKey(key);
  return null;
}

/** The account a key belongs to: every distinct key is its own account, with a stable id. */
export function accountIdFor(secretKey: string): string {
  return `acct_1${createHash("sha256").update(secretKey).digest("hex").slice(0, 15)}`;
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A fresh Stripe-looking id, e.g. `newId("price")` → `price_1Q…` */
export function newId(prefix: string, length = 24): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return `${prefix}_${[...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("")}`;
}

export class Store {
  accounts: Record<string, Account> = {};
  deliveries: Delivery[] = [];
  /** Connect: applications by client id, connections by connected account, codes by code. */
  applications: Record<string, Application> = {};
  connections: Record<string, Connection> = {};
  codes: Record<string, AuthCode> = {};
  /** OAuth access tokens (usable as secret keys) → their account, and whether still valid. */
  tokens: Record<string, { account: string; active: boolean }> = {};
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly now: () => Date = () => new Date(), readonly path?: string) {}

  /** Opens a store, loading `path` when it exists. */
  static async open(options: { now?: () => Date; path?: string } = {}): Promise<Store> {
    const store = new Store(options.now, options.path);
    if (options.path) {
      try {
        const saved = JSON.parse(await Deno.readTextFile(options.path));
        store.accounts = saved.accounts ?? {};
        store.deliveries = saved.deliveries ?? [];
        store.applications = saved.applications ?? {};
        store.connections = saved.connections ?? {};
        store.codes = saved.codes ?? {};
        store.tokens = saved.tokens ?? {};
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return store;
  }

  /**
   * Writes the state to `path` (if any), atomically (a half-written file never replaces it) and
   * one write at a time (concurrent requests would otherwise race on the temporary file).
   */
  save(): Promise<void> {
    const path = this.path;
    if (!path) return Promise.resolve();
    const write = async () => {
      await Deno.writeTextFile(
        `${path}.tmp`,
        JSON.stringify({
          accounts: this.accounts,
          deliveries: this.deliveries,
          applications: this.applications,
          connections: this.connections,
          codes: this.codes,
          tokens: this.tokens,
        }),
      );
      await Deno.rename(`${path}.tmp`, path);
    };
    this.saving = this.saving.catch(() => {}).then(write);
    return this.saving;
  }

  /** Unix seconds, as Stripe's `created` fields. */
  unix(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  /**
   * The account of `secretKey`, created on first use; throws Stripe's 401 for a bad key. An OAuth
   * access token is its connected account's key until the connection is revoked.
   */
  accountForKey(secretKey: string): Account {
    const problem = keyProblem(secretKey);
    if (problem) throw problem;
    if (secretKey in this.tokens) {
      const { account, active } = this.tokens[secretKey];
      if (!active) throw StripeApiError.revokedToken(secretKey, account);
      return this.accounts[account];
    }
    const id = accountIdFor(secretKey);
    this.accounts[id] ??= this.newAccount(id, secretKey.includes("_live_"));
    return this.accounts[id];
  }

  /** A fresh empty account (the caller stores it). */
  newAccount(id: string, livemode: boolean, profile?: AccountProfile): Account {
    return {
      id,
      livemode,
      created: this.unix(),
      objects: {},
      idempotency: {},
      checkout: {},
      ...(profile && { profile }),
    };
  }

  /** The account holding object `id` and the object, or undefined (ids are unique across accounts). */
  locate(id: string): { account: Account; obj: Obj } | undefined {
    for (const account of Object.values(this.accounts)) {
      const obj = account.objects[id];
      if (obj) return { account, obj };
    }
    return undefined;
  }

  /** Stores a new object; `id`s are never reused. */
  insert<T extends Obj>(account: Account, obj: T): T {
    if (this.locate(obj.id)) {
      throw StripeApiError.invalid(
        `${obj.object} already exists.`,
        "id",
        "resource_already_exists",
      );
    }
    account.objects[obj.id] = obj;
    return obj;
  }

  /** Object `id` of kind `object` in `account`; Stripe's `resource_missing` otherwise. */
  get(account: Account, object: string, id: string, param?: string): Obj {
    const obj = account.objects[id];
    if (!obj || obj.object !== object) throw StripeApiError.noSuch(object, id, param);
    return obj;
  }

  /**
   * A Stripe list of `object`s of `account`, newest first, filtered by `keep`, paged by the
   * `limit` (1–100, default 10), `starting_after` and `ending_before` parameters.
   */
  list(
    account: Account,
    object: string,
    url: string,
    params: FormObject,
    keep: (obj: Obj) => boolean = () => true,
  ) {
    let all = Object.values(account.objects).filter((o) => o.object === object && keep(o))
      .reverse();
    const limit = int(params, "limit") ?? 10;
    if (limit < 1 || limit > 100) {
      throw StripeApiError.invalid(
        "Invalid limit: must be between 1 and 100",
        "limit",
      );
    }
    const after = str(params, "starting_after");
    const before = str(params, "ending_before");
    if (after || before) {
      const cursor = (after ?? before)!;
      const index = all.findIndex((o) => o.id === cursor);
      if (index < 0) {
        throw StripeApiError.noSuch(object, cursor, after ? "starting_after" : "ending_before");
      }
      if (after) {
        all = all.slice(index + 1);
      } else {
        all = all.slice(Math.max(0, index - limit), index);
        return { object: "list", data: all, has_more: index - limit > 0, url };
      }
    }
    return { object: "list", data: all.slice(0, limit), has_more: all.length > limit, url };
  }
}

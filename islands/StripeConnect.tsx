/**
 * The founder's Stripe connection, either way: "Connect with Stripe" (Stripe Connect: approve
 * dream-api on Stripe's page, no key stored; shown only where the server offers Connect) or a
 * pasted restricted key (checked by a real Stripe call on the server, stored encrypted, never
 * shown again). Also: syncing the paid tiers, and disconnecting.
 */
import { useSignal } from "@preact/signals";
import type {
  StripeConnectedResponse,
  StripeConnectionView,
  StripeSyncResponse,
} from "../lib/schemas/responses.ts";
import { callApi } from "./_client/api.ts";

/** The connection as `GET /dashboard/api/stripe` shows it (never more of a key than its last 4). */
export interface StripeConnectProps extends StripeConnectionView {
  /** Paid tiers, and how many of them already have a Stripe price. */
  paidTiers: number;
  syncedTiers: number;
  /** Whether this server offers Stripe Connect (`GET /dashboard/stripe/connect`). */
  connectAvailable: boolean;
}

/** What a restricted key needs: exactly the calls dream-api makes in the founder's account. */
export const RESTRICTED_KEY_PERMISSIONS: ReadonlyArray<[string, "Read" | "Write"]> = [
  ["Products", "Write"],
  ["Prices", "Write"],
  ["Checkout Sessions", "Write"],
  ["Customer portal", "Write"],
  ["Customers", "Read"],
  ["Subscriptions", "Read"],
  ["Webhook Endpoints", "Write"],
];

const KEY_SHAPE = /^(sk|rk)_(test|live)_\S+$/;
const CONNECT_PATH = "/dashboard/stripe/connect";

type Account = {
  mode: "connect" | "key";
  accountId: string;
  displayName?: string;
  livemode: boolean;
  last4?: string;
};

export default function StripeConnect(props: StripeConnectProps) {
  const account = useSignal<Account | null>(
    props.connected
      ? {
        mode: props.mode ?? "key",
        accountId: props.accountId ?? "",
        displayName: props.displayName,
        livemode: !!props.livemode,
        last4: props.keyLast4,
      }
      : null,
  );
  const editing = useSignal(!props.connected);
  const secretKey = useSignal("");
  const busy = useSignal<"connect" | "sync" | "disconnect" | null>(null);
  const error = useSignal<string | null>(null);
  const synced = useSignal<StripeSyncResponse | null>(null);
  const confirming = useSignal(false);

  const keyProblem = secretKey.value && !KEY_SHAPE.test(secretKey.value.trim())
    ? "Paste a key starting with rk_test_, rk_live_, sk_test_ or sk_live_"
    : null;

  async function connect(e: Event) {
    e.preventDefault();
    busy.value = "connect";
    error.value = null;
    const last4 = secretKey.value.trim().slice(-4);
    const res = await callApi<StripeConnectedResponse>(
      "POST",
      "/dashboard/api/stripe",
      { secretKey: secretKey.value.trim() },
    );
    busy.value = null;
    // Forget the key in the browser whatever the answer: it is on the server or it is wrong.
    secretKey.value = "";
    if (!res.ok) {
      error.value = res.problem.message;
      return;
    }
    account.value = {
      mode: "key",
      accountId: res.data.accountId,
      livemode: res.data.livemode,
      last4,
    };
    editing.value = false;
    synced.value = null;
    // Connecting and syncing are one step for the founder: sync at once. A failed sync is
    // reported below and the connection stays (the "Sync tiers to Stripe" button retries).
    await sync();
  }

  async function sync() {
    busy.value = "sync";
    error.value = null;
    const res = await callApi<StripeSyncResponse>("POST", "/dashboard/api/stripe/sync", {});
    busy.value = null;
    if (!res.ok) {
      error.value = `The sync with Stripe failed: ${res.problem.message} Your account stays ` +
        "connected: retry with “Sync tiers to Stripe”.";
      return;
    }
    synced.value = res.data;
  }

  async function disconnect() {
    busy.value = "disconnect";
    error.value = null;
    const res = await callApi<StripeConnectionView>("POST", "/dashboard/api/stripe/disconnect", {});
    busy.value = null;
    confirming.value = false;
    if (!res.ok) {
      error.value = `Could not disconnect: ${res.problem.message}`;
      return;
    }
    account.value = null;
    synced.value = null;
    editing.value = true;
  }

  const current = account.value;
  const connectLink = (label: string, primary: boolean) => (
    <a
      class={`btn ${primary ? "btn-primary" : "btn-secondary"}`}
      href={CONNECT_PATH}
      data-testid="connect-with-stripe"
    >
      {label}
    </a>
  );

  return (
    <div class="stack">
      {current && (
        <div class="stripe-status" data-testid="stripe-status" data-mode={current.mode}>
          <span class="badge badge-ok">Connected</span>{" "}
          {current.displayName && <strong data-testid="stripe-name">{current.displayName}</strong>}
          {" "}
          <code>{current.accountId}</code>{" "}
          <span class={`badge ${current.livemode ? "badge-warn" : ""}`}>
            {current.livemode ? "Live mode" : "Test mode"}
          </span>{" "}
          <span class="muted small">
            {current.mode === "connect"
              ? "via Stripe Connect: no key of yours is stored"
              : current.last4
              ? `key ending in …${current.last4}`
              : "with a key"}
          </span>
        </div>
      )}

      {!current && props.connectAvailable && (
        <div class="stack-sm">
          <div class="row">{connectLink("Connect with Stripe", true)}</div>
          <p class="muted small">
            Recommended: you approve dream-api on Stripe's own page, and no key of yours is ever
            stored here.
          </p>
        </div>
      )}

      {editing.value && current?.mode !== "connect"
        ? (
          <form class="stack-sm" onSubmit={connect} autocomplete="off">
            <label class="field">
              <span class="field-label">
                {props.connectAvailable ? "Or paste a Stripe secret key" : "Stripe secret key"}
              </span>
              <input
                class="input mono"
                type="password"
                name="secretKey"
                autocomplete="off"
                spellcheck={false}
                placeholder="rk_live_… (or sk_test_…)"
                value={secretKey.value}
                aria-invalid={!!keyProblem}
                onInput={(e) => (secretKey.value = e.currentTarget.value)}
              />
              {keyProblem
                ? <span class="field-error">{keyProblem}</span>
                : (
                  <span class="field-hint" data-testid="key-permissions">
                    We check it with Stripe, store it encrypted, and show only its last 4 characters
                    afterwards. Best is a restricted key (<code>rk_…</code>) with exactly:{" "}
                    {RESTRICTED_KEY_PERMISSIONS.map(([name, level], i) => (
                      <>
                        {i > 0 && ", "}
                        {name} <strong>{level}</strong>
                      </>
                    ))}; everything else None.
                  </span>
                )}
            </label>
            <div class="row">
              <button
                type="submit"
                class={`btn ${props.connectAvailable ? "btn-secondary" : "btn-primary"}`}
                disabled={!secretKey.value || !!keyProblem || busy.value !== null}
              >
                {busy.value === "connect"
                  ? "Checking with Stripe…"
                  : props.connectAvailable
                  ? "Connect Stripe with this key"
                  : "Connect Stripe"}
              </button>
              {current && (
                <button type="button" class="btn btn-ghost" onClick={() => (editing.value = false)}>
                  Cancel
                </button>
              )}
            </div>
          </form>
        )
        : current && (
          <div class="row">
            <button
              type="button"
              class="btn btn-primary"
              onClick={sync}
              disabled={busy.value !== null}
            >
              {busy.value === "sync" ? "Syncing…" : "Sync tiers to Stripe"}
            </button>
            {current.mode === "key" && (
              <button
                type="button"
                class="btn btn-ghost"
                onClick={() => (editing.value = true)}
                disabled={busy.value !== null}
              >
                Replace key
              </button>
            )}
            {current.mode === "key" && props.connectAvailable &&
              connectLink("Switch to Connect with Stripe", false)}
            {confirming.value
              ? (
                <>
                  <button
                    type="button"
                    class="btn btn-danger"
                    onClick={disconnect}
                    disabled={busy.value !== null}
                    data-testid="confirm-disconnect"
                  >
                    {busy.value === "disconnect" ? "Disconnecting…" : "Yes, disconnect"}
                  </button>
                  <button
                    type="button"
                    class="btn btn-ghost"
                    onClick={() => (confirming.value = false)}
                  >
                    Keep it
                  </button>
                </>
              )
              : (
                <button
                  type="button"
                  class="btn btn-ghost btn-danger-ghost"
                  onClick={() => (confirming.value = true)}
                  disabled={busy.value !== null}
                  data-testid="disconnect"
                >
                  Disconnect
                </button>
              )}
          </div>
        )}

      {confirming.value && (
        <p class="notice notice-warn">
          Your end-users cannot start checkouts or open the billing portal until you connect again;
          counting usage goes on. {current?.mode === "connect"
            ? "dream-api's access to your Stripe account is revoked."
            : "Your key and the webhook endpoint it made are deleted."}
        </p>
      )}

      {!synced.value && current && !editing.value && (
        <p class="muted small">
          {props.paidTiers === 0
            ? "You have no paid tiers yet: there is nothing to sync."
            : `Paid tiers with a Stripe price: ${props.syncedTiers} of ${props.paidTiers}.`}{" "}
          Sync creates a product and a monthly price for every paid tier (again after you change
          prices){current.mode === "key" && " and a webhook endpoint for subscription events"}.
          Running it twice creates no duplicates.
        </p>
      )}

      {synced.value && (
        <div class="notice notice-ok stack-sm" data-testid="sync-result">
          <p>
            <strong>Synced.</strong> {synced.value.webhook
              ? (
                <>
                  Webhook endpoint <code>{synced.value.webhook.url}</code>
                </>
              )
              : "Subscription events reach dream-api through Stripe Connect."}
          </p>
          <ul class="plain">
            {synced.value.tiers.map((t) => (
              <li>
                {t.name} ({t.id}): {t.price === 0
                  ? "free, no Stripe price"
                  : <code>{t.stripePriceId ?? "not synced"}</code>}
              </li>
            ))}
          </ul>
        </div>
      )}

      {error.value && <p class="notice notice-error" role="alert">{error.value}</p>}
    </div>
  );
}

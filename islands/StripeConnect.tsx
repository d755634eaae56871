/**
 * Connects the founder's own Stripe account (a secret or restricted key, checked by a real
 * Stripe call on the server and stored encrypted) and syncs the paid tiers to Stripe products,
 * prices and a webhook endpoint. The key is sent once and never shown again.
 */
import { useSignal } from "@preact/signals";
import type {
  StripeConnectedResponse,
  StripeConnectionView,
  StripeSyncResponse,
} from "../lib/schemas/responses.ts";
import { callApi } from "./_client/api.ts";

/** The connection as `GET /dashboard/api/me` shows it (never more of the key than its last 4). */
export interface StripeConnectProps extends StripeConnectionView {
  /** Paid tiers, and how many of them already have a Stripe price. */
  paidTiers: number;
  syncedTiers: number;
}

const KEY_SHAPE = /^(sk|rk)_(test|live)_\S+$/;

export default function StripeConnect(props: StripeConnectProps) {
  const account = useSignal(
    props.connected
      ? { accountId: props.accountId ?? "", livemode: !!props.livemode, last4: props.keyLast4 }
      : null,
  );
  const editing = useSignal(!props.connected);
  const secretKey = useSignal("");
  const busy = useSignal<"connect" | "sync" | null>(null);
  const error = useSignal<string | null>(null);
  const synced = useSignal<StripeSyncResponse | null>(null);

  const keyProblem = secretKey.value && !KEY_SHAPE.test(secretKey.value.trim())
    ? "Paste a key starting with sk_test_, sk_live_ or rk_…"
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
    account.value = { accountId: res.data.accountId, livemode: res.data.livemode, last4 };
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
      error.value = `The sync with Stripe failed: ${res.problem.message} Your key stays ` +
        "connected: retry with “Sync tiers to Stripe”.";
      return;
    }
    synced.value = res.data;
  }

  return (
    <div class="stack">
      {account.value && (
        <div class="stripe-status" data-testid="stripe-status">
          <span class="badge badge-ok">Connected</span> <code>{account.value.accountId}</code>{" "}
          <span class={`badge ${account.value.livemode ? "badge-warn" : ""}`}>
            {account.value.livemode ? "Live mode" : "Test mode"}
          </span>
          {account.value.last4 && (
            <span class="muted small">key ending in …{account.value.last4}</span>
          )}
        </div>
      )}

      {editing.value
        ? (
          <form class="stack-sm" onSubmit={connect} autocomplete="off">
            <label class="field">
              <span class="field-label">Stripe secret key</span>
              <input
                class="input mono"
                type="password"
                name="secretKey"
                autocomplete="off"
                spellcheck={false}
                placeholder="sk_test_… or rk_live_…"
                value={secretKey.value}
                aria-invalid={!!keyProblem}
                onInput={(e) => (secretKey.value = e.currentTarget.value)}
              />
              {keyProblem
                ? <span class="field-error">{keyProblem}</span>
                : (
                  <span class="field-hint">
                    We check it with Stripe, store it encrypted, and show only its last 4 characters
                    afterwards. A restricted key needs write access to Products, Prices and Webhook
                    endpoints.
                  </span>
                )}
            </label>
            <div class="row">
              <button
                type="submit"
                class="btn btn-primary"
                disabled={!secretKey.value || !!keyProblem || busy.value !== null}
              >
                {busy.value === "connect" ? "Checking with Stripe…" : "Connect Stripe"}
              </button>
              {account.value && (
                <button type="button" class="btn btn-ghost" onClick={() => (editing.value = false)}>
                  Cancel
                </button>
              )}
            </div>
          </form>
        )
        : (
          <div class="row">
            <button
              type="button"
              class="btn btn-primary"
              onClick={sync}
              disabled={busy.value !== null}
            >
              {busy.value === "sync" ? "Syncing…" : "Sync tiers to Stripe"}
            </button>
            <button
              type="button"
              class="btn btn-ghost"
              onClick={() => (editing.value = true)}
              disabled={busy.value !== null}
            >
              Replace key
            </button>
          </div>
        )}

      {!synced.value && account.value && !editing.value && (
        <p class="muted small">
          {props.paidTiers === 0
            ? "You have no paid tiers yet: sync creates only the webhook endpoint."
            : `Paid tiers with a Stripe price: ${props.syncedTiers} of ${props.paidTiers}.`}{" "}
          Sync creates a product and a monthly price for every paid tier (again after you change
          prices) and a webhook endpoint for subscription events. Running it twice creates no
          duplicates.
        </p>
      )}

      {synced.value && (
        <div class="notice notice-ok stack-sm" data-testid="sync-result">
          <p>
            <strong>Synced.</strong> Webhook endpoint <code>{synced.value.webhook.url}</code>
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

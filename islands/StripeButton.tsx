/**
 * Sends the founder to a page Stripe hosts for dream-api's own account: the $29/month checkout
 * (`/dashboard/api/subscribe`) or the billing portal (`/dashboard/api/billing-portal`), where they
 * change their card, read invoices or cancel.
 */
import { useSignal } from "@preact/signals";
import type { UrlResponse } from "../lib/schemas/responses.ts";
import { callApi } from "./_client/api.ts";

export interface StripeButtonProps {
  /** The founders' API that answers `{ url }`. */
  endpoint?: "/dashboard/api/subscribe" | "/dashboard/api/billing-portal";
  label?: string;
  busyLabel?: string;
  /** A quieter button, for a page whose main action is elsewhere. */
  secondary?: boolean;
}

export default function StripeButton({
  endpoint = "/dashboard/api/subscribe",
  label = "Subscribe — $29/month",
  busyLabel = "Opening checkout…",
  secondary = false,
}: StripeButtonProps) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  async function go() {
    busy.value = true;
    error.value = null;
    const res = await callApi<UrlResponse>("POST", endpoint, {});
    if (res.ok && typeof res.data?.url === "string") {
      location.assign(res.data.url);
      return; // keep the button busy while the browser leaves
    }
    busy.value = false;
    error.value = res.ok ? "The server gave no Stripe address. Retry." : res.problem.message;
  }
  return (
    <div class="stack-sm">
      <button
        type="button"
        class={secondary ? "btn btn-secondary" : "btn btn-primary btn-lg"}
        onClick={go}
        disabled={busy.value}
        aria-busy={busy.value}
      >
        {busy.value ? busyLabel : label}
      </button>
      {error.value && <p class="field-error" role="alert">{error.value}</p>}
    </div>
  );
}

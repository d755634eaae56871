/** Starts dream-api's own checkout ($29/month) and sends the founder to Stripe's hosted page. */
import { useSignal } from "@preact/signals";
import { callApi } from "../lib/ui/client/api.ts";

export interface SubscribeButtonProps {
  label?: string;
}

export default function SubscribeButton({ label = "Subscribe — $29/month" }: SubscribeButtonProps) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  async function subscribe() {
    busy.value = true;
    error.value = null;
    const res = await callApi<{ url: string }>("POST", "/dashboard/api/subscribe", {});
    if (res.ok && typeof res.data?.url === "string") {
      location.assign(res.data.url);
      return; // keep the button busy while the browser leaves
    }
    busy.value = false;
    error.value = res.ok ? "The server gave no checkout address. Retry." : res.problem.message;
  }
  return (
    <div class="stack-sm">
      <button
        type="button"
        class="btn btn-primary btn-lg"
        onClick={subscribe}
        disabled={busy.value}
        aria-busy={busy.value}
      >
        {busy.value ? "Opening checkout…" : label}
      </button>
      {error.value && <p class="field-error" role="alert">{error.value}</p>}
    </div>
  );
}

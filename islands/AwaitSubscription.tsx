/**
 * Shown after checkout returns: Stripe's webhook confirming the payment may land a moment after
 * the browser does, so this asks `GET /dashboard/api/me` until the subscription is active.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { MeBody } from "../lib/schemas/responses.ts";
import { callApi } from "./_client/api.ts";

const PAID = new Set(["active", "trialing"]);
const POLL_MS = 1000;
const GIVE_UP_MS = 60_000;

export interface AwaitSubscriptionProps {
  /** Where to go once the subscription is active. */
  redirectTo: string;
}

export default function AwaitSubscription({ redirectTo }: AwaitSubscriptionProps) {
  const state = useSignal<"waiting" | "slow">("waiting");
  useEffect(() => {
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    async function poll() {
      const res = await callApi<MeBody>("GET", "/dashboard/api/me");
      if (res.ok && PAID.has(res.data.subscription?.status)) {
        // `replace`: "Back" must not return to this waiting state.
        location.replace(redirectTo);
        return;
      }
      if (Date.now() - started > GIVE_UP_MS) {
        state.value = "slow";
        return;
      }
      timer = setTimeout(poll, POLL_MS);
    }
    timer = setTimeout(poll, POLL_MS);
    return () => clearTimeout(timer);
  }, []);
  return (
    <div class="notice notice-info" role="status" aria-live="polite">
      {state.value === "waiting"
        ? (
          <p>
            <span class="spinner" aria-hidden="true" />{" "}
            Payment received. Confirming your subscription with Stripe…
          </p>
        )
        : (
          <p>
            Stripe has not confirmed the payment yet. It usually takes seconds;{" "}
            <a href="">reload this page</a> in a minute.
          </p>
        )}
    </div>
  );
}

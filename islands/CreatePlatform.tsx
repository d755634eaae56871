/** Creates the founder's platform and reveals its first API key (once). */
import { useSignal } from "@preact/signals";
import type { PlatformCreatedResponse } from "../lib/schemas/responses.ts";
import { callApi } from "./_client/api.ts";
import { RevealedKey } from "./KeyReveal.tsx";

export interface CreatePlatformProps {
  /** This server's public URL, for the ready-to-run snippet shown with the new key. */
  baseUrl: string;
}

export default function CreatePlatform({ baseUrl }: CreatePlatformProps) {
  const name = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<{ message: string; code: string } | null>(null);
  const platformId = useSignal<string | null>(null);
  const apiKey = useSignal<string | null>(null);

  async function create(e: Event) {
    e.preventDefault();
    busy.value = true;
    error.value = null;
    const body = name.value.trim() ? { name: name.value.trim() } : {};
    const res = await callApi<PlatformCreatedResponse>(
      "POST",
      "/dashboard/api/platform",
      body,
    );
    busy.value = false;
    if (!res.ok) {
      error.value = res.problem;
      return;
    }
    platformId.value = res.data.platformId;
    apiKey.value = res.data.apiKey;
  }

  if (platformId.value) {
    return (
      <div class="stack">
        <p class="notice notice-ok">
          Platform <code data-testid="new-platform-id">{platformId.value}</code> is ready.
        </p>
        <RevealedKey apiKey={apiKey} snippet={{ baseUrl, platformId: platformId.value }} />
        <div>
          <a class="btn btn-primary" href="/dashboard">I saved my key, continue</a>
        </div>
      </div>
    );
  }
  return (
    <form class="stack" onSubmit={create}>
      <label class="field">
        <span class="field-label">Product name</span>
        <input
          class="input"
          name="name"
          maxLength={80}
          placeholder="Acme Analytics"
          value={name.value}
          onInput={(e) => (name.value = e.currentTarget.value)}
        />
        <span class="field-hint">Only you see it. You can leave it empty.</span>
      </label>
      <div>
        <button type="submit" class="btn btn-primary" disabled={busy.value}>
          {busy.value ? "Creating…" : "Create platform and API key"}
        </button>
      </div>
      {error.value && (
        <p class="field-error" role="alert">
          {error.value.message}{" "}
          {error.value.code === "subscription_required" && <a href="/dashboard/billing">Billing</a>}
          {error.value.code === "conflict" && <a href="/dashboard">Reload</a>}
        </p>
      )}
    </form>
  );
}

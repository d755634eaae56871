/**
 * Rolls the platform's API key and shows the new one exactly once: it exists only in this
 * island's memory, is cleared when the founder leaves the page, and no server-rendered page
 * ever contains it (after a reload only its prefix remains).
 */
import { type Signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { ApiKeyResponse } from "../lib/schemas/responses.ts";
import { callApi, copyText } from "./_client/api.ts";
import { quickStartSnippets } from "../lib/ui/snippets.ts";

/** Where the ready-to-run snippet shown with a new key calls. */
export interface SnippetTarget {
  baseUrl: string;
  platformId: string;
}

export interface KeyRevealProps extends SnippetTarget {
  /** The current key's display prefix, `dk_live_AbCd…`. */
  keyPrefix: string;
}

const GRACE_CHOICES = [
  { seconds: 0, label: "stops working at once" },
  { seconds: 3600, label: "keeps working for 1 hour" },
  { seconds: 86_400, label: "keeps working for 24 hours" },
] as const;

/** The display prefix of a key (same rule as the server's `keyPrefix`). */
function prefixOf(key: string): string {
  return `${key.slice(0, key.indexOf("_", 3) + 5)}…`;
}

export default function KeyReveal({ keyPrefix, baseUrl, platformId }: KeyRevealProps) {
  const apiKey = useSignal<string | null>(null);
  const prefix = useSignal(keyPrefix);
  const grace = useSignal(0);
  const step = useSignal<"idle" | "confirm" | "busy">("idle");
  const error = useSignal<string | null>(null);

  async function roll() {
    step.value = "busy";
    error.value = null;
    const res = await callApi<ApiKeyResponse>("POST", "/dashboard/api/keys", {
      graceSeconds: grace.value,
    });
    step.value = "idle";
    if (!res.ok) {
      error.value = res.problem.message;
      return;
    }
    apiKey.value = res.data.apiKey;
    prefix.value = prefixOf(res.data.apiKey);
  }

  return (
    <div class="stack">
      <dl class="kv">
        <dt>Current key</dt>
        <dd>
          <code data-testid="key-prefix">{prefix}</code>
        </dd>
      </dl>
      <RevealedKey apiKey={apiKey} snippet={{ baseUrl, platformId }} />
      {step.value === "confirm"
        ? (
          <div class="notice notice-warn stack-sm">
            <p>
              <strong>Roll the key?</strong>{" "}
              Your product must switch to the new key. The current key{" "}
              <select
                aria-label="What happens to the current key"
                value={String(grace.value)}
                onChange={(e) => (grace.value = Number(e.currentTarget.value))}
              >
                {GRACE_CHOICES.map((c) => (
                  <option key={c.seconds} value={String(c.seconds)}>{c.label}</option>
                ))}
              </select>.
            </p>
            <div class="row">
              <button type="button" class="btn btn-danger" onClick={roll}>
                Roll key now
              </button>
              <button type="button" class="btn btn-ghost" onClick={() => (step.value = "idle")}>
                Cancel
              </button>
            </div>
          </div>
        )
        : (
          <div>
            <button
              type="button"
              class="btn btn-secondary"
              disabled={step.value === "busy"}
              onClick={() => (step.value = "confirm")}
            >
              {step.value === "busy" ? "Rolling…" : "Roll API key…"}
            </button>
          </div>
        )}
      {error.value && <p class="field-error" role="alert">{error.value}</p>}
    </div>
  );
}

/**
 * The one-time view of a new key. Cleared on `pagehide`, so neither leaving nor coming back
 * through the browser's back/forward cache shows it again.
 */
export function RevealedKey(
  { apiKey, snippet }: { apiKey: Signal<string | null>; snippet: SnippetTarget },
) {
  const copied = useSignal(false);
  const copiedSnippet = useSignal(false);
  useEffect(() => {
    const forget = () => {
      apiKey.value = null;
    };
    addEventListener("pagehide", forget);
    return () => removeEventListener("pagehide", forget);
  }, []);
  if (!apiKey.value) return null;
  async function copy() {
    if (apiKey.value) copied.value = await copyText(apiKey.value);
  }
  // The overview's snippet with the full key in it: the one moment it can run as copied.
  const ready = quickStartSnippets({
    ...snippet,
    keyPrefix: prefixOf(apiKey.value),
    apiKey: apiKey.value,
    tiers: [],
  }).track;
  return (
    <section class="reveal" aria-labelledby="reveal-title" data-testid="key-reveal">
      <h3 id="reveal-title" class="reveal-title">Your new API key</h3>
      <p class="reveal-warning">
        <strong>Copy it now. You won't see it again</strong>: we keep only a hash of it. If you lose
        it, roll a new key in Settings.
      </p>
      <div class="secret-row">
        <code class="secret" data-testid="api-key">{apiKey}</code>
        <button type="button" class="btn btn-primary btn-sm" onClick={copy}>
          {copied.value ? "Copied" : "Copy key"}
        </button>
      </div>
      <p class="muted small">
        Use it server-side only, as <code>Authorization: Bearer …</code>. Never ship it to browsers.
      </p>
      <p class="small">
        <strong>Try it now:</strong>{" "}
        paste this in a terminal to count your first call (it holds your key: keep it private).
      </p>
      <div class="code">
        <div class="code-head">
          <span class="code-lang">Ready to run</span>
          <button
            type="button"
            class="btn btn-ghost btn-sm copy-btn"
            onClick={async () => (copiedSnippet.value = await copyText(ready))}
          >
            {copiedSnippet.value ? "Copied" : "Copy snippet"}
          </button>
        </div>
        <pre><code class="language-shell" data-testid="key-snippet">{ready}</code></pre>
      </div>
    </section>
  );
}

/**
 * The founder's webhook endpoint: set its URL and events, see its signing secret once (when the
 * endpoint is created or the secret rotated; it lives only in this island's memory and is cleared
 * on `pagehide`), send a test event, remove it, and watch the deliveries table.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type {
  Delivery,
  WebhookConfigResponse,
  WebhookEndpointView,
  WebhookHealth,
  WebhookSavedResponse,
} from "../lib/schemas/webhooks.ts";
import { callApi, copyText } from "./_client/api.ts";

export interface WebhookSettingsProps {
  endpoint: WebhookEndpointView | null;
  health: WebhookHealth;
  deliveries: Delivery[];
  /** The event types one can subscribe to, with what they mean. */
  eventTypes: { type: string; label: string }[];
}

const API = "/dashboard/api/webhooks";

/** `2026-11-15 12:00:05 UTC`: the same text on the server and in the browser (no hydration drift). */
function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export default function WebhookSettings(props: WebhookSettingsProps) {
  const endpoint = useSignal(props.endpoint);
  const health = useSignal(props.health);
  const deliveries = useSignal(props.deliveries);
  const url = useSignal(props.endpoint?.url ?? "");
  const events = useSignal<string[]>(
    props.endpoint?.events ?? props.eventTypes.map((e) => e.type),
  );
  const secret = useSignal<string | null>(null);
  const copied = useSignal(false);
  const busy = useSignal<string | null>(null);
  const error = useSignal<string | null>(null);
  const info = useSignal<string | null>(null);
  const confirmDelete = useSignal(false);

  useEffect(() => {
    const forget = () => (secret.value = null);
    addEventListener("pagehide", forget);
    return () => removeEventListener("pagehide", forget);
  }, []);

  async function run<T>(
    name: string,
    call: () => Promise<
      { ok: true; data: T } | { ok: false; problem: { message: string } }
    >,
  ): Promise<T | null> {
    busy.value = name;
    error.value = null;
    info.value = null;
    const res = await call();
    busy.value = null;
    if (!res.ok) {
      error.value = res.problem.message;
      return null;
    }
    return res.data;
  }

  async function refresh() {
    const data = await run("refresh", () => callApi<WebhookConfigResponse>("GET", API));
    if (!data) return;
    endpoint.value = data.endpoint;
    health.value = data.health;
    deliveries.value = data.deliveries;
  }

  async function save(e: Event) {
    e.preventDefault();
    const data = await run(
      "save",
      () =>
        callApi<WebhookSavedResponse>("PUT", API, { url: url.value.trim(), events: events.value }),
    );
    if (!data) return;
    endpoint.value = data.endpoint;
    url.value = data.endpoint.url;
    if (data.secret) secret.value = data.secret;
    info.value = data.secret ? null : "Saved.";
  }

  async function rotate() {
    const data = await run(
      "rotate",
      () => callApi<WebhookSavedResponse>("POST", `${API}/rotate`),
    );
    if (!data) return;
    endpoint.value = data.endpoint;
    secret.value = data.secret ?? null;
  }

  async function sendTest() {
    const data = await run(
      "test",
      () => callApi<{ eventId: string }>("POST", `${API}/test`),
    );
    if (!data) return;
    info.value = `Test event ${data.eventId} queued; it shows below once attempted.`;
    setTimeout(refresh, 2000);
  }

  async function remove() {
    confirmDelete.value = false;
    const data = await run("delete", () => callApi<{ deleted: boolean }>("DELETE", API));
    if (!data) return;
    endpoint.value = null;
    secret.value = null;
    info.value = "Endpoint removed.";
  }

  function toggle(type: string, on: boolean) {
    events.value = on
      ? [...events.value.filter((t) => t !== type), type]
      : events.value.filter((t) => t !== type);
  }

  return (
    <div class="stack-lg">
      {health.value.failing && endpoint.value && (
        <div class="notice notice-warn" role="status" data-testid="webhook-failing">
          <strong>Your endpoint keeps failing:</strong> its last {health.value.consecutiveFailures}
          {" "}
          attempts failed. Events are retried for 3 days; check the URL and that it answers 2xx.
        </div>
      )}
      <form class="stack" onSubmit={save} data-testid="webhook-form">
        <label class="field">
          <span class="field-label">Endpoint URL</span>
          <input
            class="input"
            type="url"
            name="url"
            required
            placeholder="https://example.com/webhooks/dream-api"
            value={url.value}
            onInput={(e) => (url.value = e.currentTarget.value)}
          />
          <span class="field-hint">
            Events are POSTed here as JSON, signed per Standard Webhooks.
          </span>
        </label>
        <div class="stack-sm" role="group" aria-labelledby="webhook-events-label">
          <span class="field-label" id="webhook-events-label">Events</span>
          {props.eventTypes.map((e) => (
            <div key={e.type}>
              <label class="check">
                <input
                  type="checkbox"
                  checked={events.value.includes(e.type)}
                  onChange={(ev) => toggle(e.type, ev.currentTarget.checked)}
                />
                <code>{e.type}</code>
              </label>
              <div class="field-hint">{e.label}</div>
            </div>
          ))}
        </div>
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={busy.value !== null}>
            {busy.value === "save" ? "Saving…" : endpoint.value ? "Save" : "Create endpoint"}
          </button>
          {endpoint.value && (
            <>
              <button
                type="button"
                class="btn btn-secondary"
                disabled={busy.value !== null}
                onClick={sendTest}
              >
                Send a test event
              </button>
              <button
                type="button"
                class="btn btn-ghost"
                disabled={busy.value !== null}
                onClick={rotate}
              >
                Rotate secret
              </button>
              <button
                type="button"
                class="btn btn-ghost"
                disabled={busy.value !== null}
                onClick={() => (confirmDelete.value = true)}
              >
                Remove…
              </button>
            </>
          )}
        </div>
      </form>
      {confirmDelete.value && (
        <div class="notice notice-warn stack-sm">
          <p>
            <strong>Remove the endpoint?</strong> Queued events are dropped.
          </p>
          <div class="row">
            <button type="button" class="btn btn-danger" onClick={remove}>Remove</button>
            <button
              type="button"
              class="btn btn-ghost"
              onClick={() => (confirmDelete.value = false)}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {error.value && <p class="field-error" role="alert">{error.value}</p>}
      {info.value && <p class="muted small" role="status">{info.value}</p>}
      {secret.value && (
        <section class="reveal" aria-labelledby="secret-title" data-testid="webhook-secret">
          <h3 id="secret-title" class="reveal-title">Your signing secret</h3>
          <p class="reveal-warning">
            <strong>Copy it now. You won't see it again</strong>; rotate it if it is lost.
          </p>
          <div class="secret-row">
            <code class="secret">{secret.value}</code>
            <button
              type="button"
              class="btn btn-primary btn-sm"
              onClick={async () => (copied.value = await copyText(secret.value ?? ""))}
            >
              {copied.value ? "Copied" : "Copy secret"}
            </button>
          </div>
        </section>
      )}
      <section class="stack-sm" aria-labelledby="deliveries-title">
        <div class="row">
          <h3 id="deliveries-title">Deliveries</h3>
          <button
            type="button"
            class="btn btn-ghost btn-sm"
            disabled={busy.value !== null}
            onClick={refresh}
          >
            Refresh
          </button>
        </div>
        {deliveries.value.length === 0
          ? <p class="muted">No deliveries yet.</p>
          : <DeliveriesTable deliveries={deliveries.value} />}
      </section>
    </div>
  );
}

const STATUS_BADGE = { delivered: "badge-ok", retrying: "badge-warn", failed: "badge-danger" };

function DeliveriesTable({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <div class="table-wrap">
      <table class="tiers-table" data-testid="deliveries-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Event</th>
            <th>Status</th>
            <th>Response</th>
            <th>Next retry</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={`${d.eventId}-${d.attempt}`}>
              <td>{when(d.at)}</td>
              <td data-label="Event">
                <code>{d.type}</code>
                <div class="muted small">
                  <code>{d.eventId}</code>
                </div>
              </td>
              <td data-label="Status">
                <span class={`badge ${STATUS_BADGE[d.status]}`}>{d.status}</span>
                {d.attempt > 1 && <span class="muted small">{` attempt ${d.attempt}`}</span>}
              </td>
              <td data-label="Response">{d.responseStatus ?? d.error ?? "—"}</td>
              <td data-label="Next retry">{d.nextAttemptAt ? when(d.nextAttemptAt) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

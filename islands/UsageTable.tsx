/**
 * The analytics page's end-users table: busiest first, searchable by user-id prefix, paged by the
 * API's cursor. End-users at or near their tier's limit stand out. It talks to
 * `GET /dashboard/api/usage` and starts from the page the server rendered.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { UsageReport, UsageUserRow } from "../lib/schemas/analytics.ts";
import { callApi } from "./_client/api.ts";

export interface UsageTableProps {
  period: string;
  /** The metered feature shown; `null`: the main meter. */
  feature?: string | null;
  users: UsageUserRow[];
  next: string | null;
  pageSize: number;
}

/** Share of the limit from which an end-user is shown as near it (as in the tier preview). */
const NEAR = 0.9;

type Standing = "over" | "at" | "near" | null;

/** Where an end-user stands against their limit. */
export function standingOf(row: UsageUserRow): Standing {
  if (row.limit === null) return null;
  if (row.count > row.limit) return "over";
  if (row.count === row.limit) return "at";
  return row.count >= NEAR * row.limit ? "near" : null;
}

export default function UsageTable(
  { period, feature = null, users, next, pageSize }: UsageTableProps,
) {
  const rows = useSignal(users);
  const nextCursor = useSignal(next);
  // Cursors of the pages before the current one ("" is the first page).
  const previous = useSignal<string[]>([]);
  const current = useSignal("");
  const query = useSignal("");
  const state = useSignal<{ kind: "idle" | "loading" } | { kind: "error"; message: string }>({
    kind: "idle",
  });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(0);

  async function load(cursor: string, q: string): Promise<boolean> {
    const call = ++latest.current;
    state.value = { kind: "loading" };
    const params = new URLSearchParams({ period, limit: String(pageSize) });
    if (feature !== null) params.set("feature", feature);
    if (q) params.set("q", q);
    if (cursor) params.set("cursor", cursor);
    const res = await callApi<Pick<UsageReport, "users" | "next">>(
      "GET",
      `/dashboard/api/usage?${params}`,
    );
    if (call !== latest.current) return false; // a newer search or page won
    if (!res.ok) {
      state.value = { kind: "error", message: res.problem.message };
      return false;
    }
    rows.value = res.data.users;
    nextCursor.value = res.data.next;
    current.value = cursor;
    state.value = { kind: "idle" };
    return true;
  }

  function search(q: string) {
    query.value = q;
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      if (await load("", q.trim())) previous.value = [];
    }, 250);
  }

  async function forward() {
    const before = current.value;
    if (nextCursor.value && await load(nextCursor.value, query.value.trim())) {
      previous.value = [...previous.value, before];
    }
  }

  async function back() {
    const stack = previous.value;
    if (stack.length && await load(stack.at(-1)!, query.value.trim())) {
      previous.value = stack.slice(0, -1);
    }
  }

  useEffect(() => () => clearTimeout(timer.current), []);

  const page = previous.value.length;
  const loading = state.value.kind === "loading";
  return (
    <div class="stack usage-table">
      <div class="usage-table-bar">
        <label class="sr-only" for="usage-search">Search end-users by id</label>
        <input
          id="usage-search"
          class="input"
          type="search"
          placeholder="Search by end-user id (prefix)…"
          autocomplete="off"
          spellcheck={false}
          value={query.value}
          onInput={(e) => search(e.currentTarget.value)}
        />
        <span class="muted small" aria-live="polite">
          {loading ? "Loading…" : `Page ${page + 1}`}
        </span>
      </div>
      {state.value.kind === "error" && (
        <p class="notice notice-error" role="alert">{state.value.message}</p>
      )}
      {rows.value.length === 0
        ? (
          <p class="muted" data-testid="usage-empty">
            {query.value.trim()
              ? "No end-user id starts with that."
              : "No end-user has been counted in this period yet."}
          </p>
        )
        : (
          <div class="table-wrap">
            <table data-testid="usage-users" aria-busy={loading}>
              <thead>
                <tr>
                  <th>End-user</th>
                  <th class="col-tier">Tier</th>
                  <th class="num">Units</th>
                  <th class="num">Limit</th>
                  <th>
                    <span class="sr-only">Standing</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.value.map((row) => {
                  const standing = standingOf(row);
                  const share = row.limit ? Math.min(1, row.count / row.limit) : 0;
                  return (
                    <tr
                      key={row.userId}
                      class={standing ? `is-${standing}` : undefined}
                      data-testid="usage-user"
                      data-standing={standing ?? "ok"}
                    >
                      <td class="usage-user-id">
                        <code title={row.userId}>{row.userId}</code>
                      </td>
                      <td class="col-tier">{row.plan ?? <span class="muted">—</span>}</td>
                      <td class="num">{row.count.toLocaleString("en-US")}</td>
                      <td class="num">
                        {row.limit === null ? "∞" : row.limit.toLocaleString("en-US")}
                        {row.limit !== null && (
                          // An SVG bar: its width is an attribute, where a style attribute
                          // in server HTML would be blocked by the CSP.
                          <svg
                            class={`meter${share >= 1 ? " is-full" : ""}`}
                            viewBox="0 0 100 6"
                            preserveAspectRatio="none"
                            aria-hidden="true"
                          >
                            <rect width={Math.min(100, Math.round(share * 100))} height="6" />
                          </svg>
                        )}
                      </td>
                      <td>
                        {standing === "over" && <span class="badge badge-danger">Over limit</span>}
                        {standing === "at" && <span class="badge badge-danger">At limit</span>}
                        {standing === "near" && <span class="badge badge-warn">Near limit</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      <div class="row usage-pager">
        <button
          type="button"
          class="btn btn-secondary btn-sm"
          disabled={page === 0 || loading}
          onClick={back}
        >
          ← Previous
        </button>
        <button
          type="button"
          class="btn btn-secondary btn-sm"
          disabled={!nextCursor.value || loading}
          onClick={forward}
        >
          Next →
        </button>
      </div>
    </div>
  );
}

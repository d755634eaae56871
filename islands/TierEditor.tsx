/**
 * The tier editor: add, remove, reorder and edit a platform's pricing tiers. Every keystroke is
 * validated with THE tier schema the server uses (`TiersSchema`), so what the editor accepts the
 * server accepts; the server validates again on save and its field errors are shown in place.
 */
import { useComputed, useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import type { z } from "zod";
import type { TierImpact, TierPreviewResponse } from "../lib/schemas/analytics.ts";
import type { TiersResponse } from "../lib/schemas/responses.ts";
import { type Tier, TiersSchema } from "../lib/schemas/tiers.ts";
import { callApi } from "./_client/api.ts";

export interface TierEditorProps {
  tiers: Tier[];
}

/** Quiet time after the last keystroke before the impact preview is asked for. */
const PREVIEW_DELAY_MS = 400;

/** One tier as typed: numbers stay text until validated, so a half-typed "1." is not lost. */
interface Row {
  uid: number;
  id: string;
  name: string;
  price: string;
  limit: string;
  unlimited: boolean;
  period: "month" | "day";
  stripePriceId?: string;
}

let nextUid = 1;

function toRow(tier: Tier): Row {
  return {
    uid: nextUid++,
    id: tier.id,
    name: tier.name,
    price: String(tier.price),
    limit: tier.limit === null ? "" : String(tier.limit),
    unlimited: tier.limit === null,
    period: tier.period,
    stripePriceId: tier.stripePriceId,
  };
}

function numberOrNaN(text: string): number {
  return text.trim() === "" ? Number.NaN : Number(text);
}

/** The row as the schema's input; `stripePriceId` rides along untouched. */
function toInput(row: Row) {
  return {
    id: row.id.trim(),
    name: row.name,
    price: numberOrNaN(row.price),
    limit: row.unlimited ? null : numberOrNaN(row.limit),
    period: row.period,
    ...(row.stripePriceId ? { stripePriceId: row.stripePriceId } : {}),
  };
}

/** Plain words for zod's generic messages; the schema's own messages win over these. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int" ? "a whole number" : "required: enter a number";
    case "too_small":
      return issue.origin === "string" ? "required" : `must be ${issue.minimum} or more`;
    case "too_big":
      return issue.origin === "string"
        ? `at most ${issue.maximum} characters`
        : issue.origin === "array"
        ? `at most ${issue.maximum} tiers`
        : `must be at most ${issue.maximum}`;
    default:
      return undefined;
  }
};

type Problems = Map<string, string>;

/** `[{ path: "tiers.0.price" | "0.price", message }]` → `"0.price" → message`; root under "". */
function problemsOf(issues: { path: string; message: string }[]): Problems {
  const out: Problems = new Map();
  for (const { path, message } of issues) {
    const key = path.replace(/^tiers\.?/, "");
    if (!out.has(key)) out.set(key, message);
  }
  return out;
}

const snapshot = (rows: Row[]) => JSON.stringify(rows.map(toInput));

export default function TierEditor({ tiers }: TierEditorProps) {
  const rows = useSignal<Row[]>(tiers.map(toRow));
  const saved = useSignal(snapshot(rows.value));
  const serverProblems = useSignal<Problems>(new Map());
  const status = useSignal<
    { kind: "idle" } | { kind: "saving" } | { kind: "saved" } | {
      kind: "error";
      message: string;
      code: string;
    }
  >({ kind: "idle" });

  const result = useComputed(() =>
    TiersSchema.safeParse(rows.value.map(toInput), { error: errorMap })
  );
  const problems = useComputed<Problems>(() => {
    const local = result.value.success ? new Map() : problemsOf(
      result.value.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
    // The server's word stands until the founder edits again.
    for (const [k, v] of serverProblems.value) if (!local.has(k)) local.set(k, v);
    return local;
  });
  const dirty = useComputed(() => snapshot(rows.value) !== saved.value);
  // Impact preview: this period's real usage measured against the limits as edited.
  const impacts = useSignal<Map<string, TierImpact> | null>(null);
  const previewBody = result.value.success ? JSON.stringify({ tiers: result.value.data }) : null;
  useEffect(() => {
    if (previewBody === null) return;
    let current = true;
    const timer = setTimeout(async () => {
      const res = await callApi<TierPreviewResponse>(
        "POST",
        "/dashboard/api/tiers/preview",
        JSON.parse(previewBody),
      );
      if (current && res.ok) impacts.value = new Map(res.data.tiers.map((t) => [t.id, t]));
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [previewBody]);
  const defaultUid = useComputed(() => {
    const row = rows.value.find((r) => numberOrNaN(r.price) === 0);
    return row?.uid ?? null;
  });

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (dirty.value) e.preventDefault();
    };
    addEventListener("beforeunload", warn);
    return () => removeEventListener("beforeunload", warn);
  }, []);

  function edit(uid: number, patch: Partial<Row>) {
    rows.value = rows.value.map((r) => (r.uid === uid ? { ...r, ...patch } : r));
    serverProblems.value = new Map();
    if (status.value.kind !== "saving") status.value = { kind: "idle" };
  }
  function move(index: number, by: -1 | 1) {
    const next = [...rows.value];
    const [row] = next.splice(index, 1);
    next.splice(index + by, 0, row);
    rows.value = next;
    serverProblems.value = new Map();
  }
  function remove(uid: number) {
    rows.value = rows.value.filter((r) => r.uid !== uid);
    serverProblems.value = new Map();
  }
  function add() {
    const taken = new Set(rows.value.map((r) => r.id));
    let n = rows.value.length + 1;
    while (taken.has(`tier-${n}`)) n++;
    // A new tier starts valid, so the founder edits from a working state instead of a wall of
    // "required" errors; live validation takes over from the first keystroke.
    rows.value = [...rows.value, {
      uid: nextUid++,
      id: `tier-${n}`,
      name: `Tier ${n}`,
      price: "0",
      limit: "1000",
      unlimited: false,
      period: "month",
    }];
  }

  async function save(e: Event) {
    e.preventDefault();
    if (!result.value.success) return;
    status.value = { kind: "saving" };
    const res = await callApi<TiersResponse>("PUT", "/dashboard/api/tiers", {
      tiers: result.value.data,
    });
    if (!res.ok) {
      const details = res.problem.details;
      serverProblems.value = Array.isArray(details) ? problemsOf(details) : new Map();
      status.value = { kind: "error", message: res.problem.message, code: res.problem.code };
      return;
    }
    rows.value = res.data.tiers.map(toRow);
    saved.value = snapshot(rows.value);
    serverProblems.value = new Map();
    status.value = { kind: "saved" };
  }

  const p = problems.value;
  const rootProblem = p.get("");
  const count = rows.value.length;
  return (
    <form class="tier-editor stack" onSubmit={save} noValidate>
      <ol class="tier-list">
        {rows.value.map((row, i) => {
          const err = (field: string) => p.get(`${i}.${field}`);
          const fieldId = (field: string) => `tier-${row.uid}-${field}`;
          return (
            <li class="tier-row" key={row.uid} data-testid="tier-row">
              <div class="tier-row-head">
                <span class="tier-index">{i + 1}</span>
                <strong class="tier-title">{row.name.trim() || "Untitled tier"}</strong>
                {row.uid === defaultUid.value && (
                  <span class="badge" title="New end-users start here">Default</span>
                )}
                {row.stripePriceId && (
                  <span class="badge badge-ok" title={row.stripePriceId}>In Stripe</span>
                )}
                <span class="tier-actions">
                  <button
                    type="button"
                    class="btn btn-ghost btn-icon"
                    aria-label={`Move ${row.id} up`}
                    disabled={i === 0}
                    onClick={() => move(i, -1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    class="btn btn-ghost btn-icon"
                    aria-label={`Move ${row.id} down`}
                    disabled={i === count - 1}
                    onClick={() => move(i, 1)}
                  >
                    ↓
                  </button>
                  <button
                    type="button"
                    class="btn btn-ghost btn-icon btn-danger-ghost"
                    aria-label={`Remove ${row.id}`}
                    disabled={count === 1}
                    onClick={() => remove(row.uid)}
                  >
                    ✕
                  </button>
                </span>
              </div>
              <div class="tier-fields">
                <Field label="Name" id={fieldId("name")} error={err("name")}>
                  <input
                    id={fieldId("name")}
                    class="input"
                    name="name"
                    value={row.name}
                    placeholder="Pro"
                    aria-invalid={!!err("name")}
                    onInput={(e) => edit(row.uid, { name: e.currentTarget.value })}
                  />
                </Field>
                <Field label="Id (X-User-Plan)" id={fieldId("id")} error={err("id")}>
                  <input
                    id={fieldId("id")}
                    class="input mono"
                    name="id"
                    value={row.id}
                    autocapitalize="off"
                    spellcheck={false}
                    aria-invalid={!!err("id")}
                    onInput={(e) => edit(row.uid, { id: e.currentTarget.value })}
                  />
                </Field>
                <Field label="Price ($/month)" id={fieldId("price")} error={err("price")}>
                  <input
                    id={fieldId("price")}
                    class="input"
                    name="price"
                    type="number"
                    inputMode="decimal"
                    min="0"
                    step="0.01"
                    value={row.price}
                    placeholder="0"
                    aria-invalid={!!err("price")}
                    onInput={(e) => edit(row.uid, { price: e.currentTarget.value })}
                  />
                </Field>
                <Field label="Limit (units)" id={fieldId("limit")} error={err("limit")}>
                  <div class="input-group">
                    <input
                      id={fieldId("limit")}
                      class="input"
                      name="limit"
                      type="number"
                      inputMode="numeric"
                      min="0"
                      step="1"
                      value={row.unlimited ? "" : row.limit}
                      placeholder={row.unlimited ? "Unlimited" : "1000"}
                      disabled={row.unlimited}
                      aria-invalid={!!err("limit")}
                      onInput={(e) => edit(row.uid, { limit: e.currentTarget.value })}
                    />
                    <label class="check">
                      <input
                        type="checkbox"
                        name="unlimited"
                        checked={row.unlimited}
                        onChange={(e) => edit(row.uid, { unlimited: e.currentTarget.checked })}
                      />{" "}
                      Unlimited
                    </label>
                  </div>
                </Field>
                <Field label="Resets every" id={fieldId("period")} error={err("period")}>
                  <select
                    id={fieldId("period")}
                    class="input"
                    name="period"
                    value={row.period}
                    onChange={(e) =>
                      edit(row.uid, { period: e.currentTarget.value as Row["period"] })}
                  >
                    <option value="month">Month</option>
                    <option value="day">Day</option>
                  </select>
                </Field>
              </div>
              <ImpactLine row={row} impact={impacts.value?.get(row.id.trim())} />
            </li>
          );
        })}
      </ol>
      {rootProblem && <p class="notice notice-error" role="alert">{rootProblem}</p>}
      <div class="tier-editor-bar">
        <button type="button" class="btn btn-secondary" onClick={add} disabled={count >= 20}>
          + Add tier
        </button>
        <span class="grow" />
        <span class="save-state" role="status" aria-live="polite">
          {status.value.kind === "saved" && !dirty.value && <span class="ok">Saved</span>}
          {status.value.kind !== "saved" && dirty.value && result.value.success &&
            "Unsaved changes"}
          {!result.value.success && <span class="danger">Fix the fields marked in red</span>}
        </span>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={!result.value.success || !dirty.value || status.value.kind === "saving"}
        >
          {status.value.kind === "saving" ? "Saving…" : "Save tiers"}
        </button>
      </div>
      {status.value.kind === "error" && (
        <p class="notice notice-error" role="alert">
          {status.value.message}{" "}
          {status.value.code === "subscription_required" && (
            <a href="/dashboard/billing">Go to billing</a>
          )}
        </p>
      )}
    </form>
  );
}

/** "120 end-users this month · 8 over the limit, 15 near it", under each tier. */
function ImpactLine({ row, impact }: { row: Row; impact: TierImpact | undefined }) {
  if (!impact) return null;
  const when = row.period === "day" ? "today" : "this month";
  const users = `${impact.users.toLocaleString("en-US")} end-user${impact.users === 1 ? "" : "s"}`;
  return (
    <p class="tier-impact" data-testid="tier-impact" aria-live="polite">
      <strong>{users}</strong> {when}
      {impact.users > 0 && !row.unlimited && (
        <>
          {" · "}
          <span class={impact.overLimit > 0 ? "is-over" : undefined} data-testid="tier-impact-over">
            {impact.overLimit.toLocaleString("en-US")} over
          </span>
          {", "}
          <span class={impact.nearLimit > 0 ? "is-near" : undefined} data-testid="tier-impact-near">
            {impact.nearLimit.toLocaleString("en-US")} near
          </span>{" "}
          this limit
        </>
      )}
    </p>
  );
}

function Field(
  { label, id, error, children }: {
    label: string;
    id: string;
    error?: string;
    children: ComponentChildren;
  },
) {
  return (
    <div class={`field${error ? " has-error" : ""}`}>
      <label class="field-label" for={id}>{label}</label>
      {children}
      {error && <span class="field-error" id={`${id}-error`}>{error}</span>}
    </div>
  );
}

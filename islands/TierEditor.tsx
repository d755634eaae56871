/**
 * The tier editor: add, remove, reorder and edit a platform's pricing tiers and each tier's
 * features (metered with their own limit and period, or on/off). Every keystroke is validated with
 * THE tier schema the server uses (`TiersSchema`), so what the editor accepts the server accepts;
 * the server validates again on save and its field errors are shown in place.
 */
import { useComputed, useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";
import type { z } from "zod";
import type { TierImpact, TierPreviewResponse } from "../lib/schemas/analytics.ts";
import type { TiersResponse } from "../lib/schemas/responses.ts";
import { type Feature, MAX_FEATURES, type Tier, TiersSchema } from "../lib/schemas/tiers.ts";
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
  features: FeatureRow[];
}

/** One feature of a tier as typed. */
interface FeatureRow {
  uid: number;
  id: string;
  kind: "metered" | "switch";
  limit: string;
  unlimited: boolean;
  /** `""`: the tier's own period. */
  period: "" | "month" | "day";
  /** An on/off feature's value. */
  enabled: boolean;
}

let nextUid = 1;

function toFeatureRow([id, feature]: [string, Feature]): FeatureRow {
  const metered = typeof feature === "object";
  return {
    uid: nextUid++,
    id,
    kind: metered ? "metered" : "switch",
    limit: metered && feature.limit !== null ? String(feature.limit) : "",
    unlimited: metered && feature.limit === null,
    period: metered ? feature.period ?? "" : "",
    enabled: feature === true,
  };
}

function featureInput(f: FeatureRow) {
  if (f.kind === "switch") return f.enabled;
  return {
    limit: f.unlimited ? null : numberOrNaN(f.limit),
    ...(f.period ? { period: f.period } : {}),
  };
}

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
    features: Object.entries(tier.features ?? {}).map(toFeatureRow),
  };
}

function numberOrNaN(text: string): number {
  return text.trim() === "" ? Number.NaN : Number(text);
}

/** The row as the schema's input; `stripePriceId` rides along untouched; no features, no key. */
function toInput(row: Row) {
  return {
    id: row.id.trim(),
    name: row.name,
    price: numberOrNaN(row.price),
    limit: row.unlimited ? null : numberOrNaN(row.limit),
    period: row.period,
    ...(row.stripePriceId ? { stripePriceId: row.stripePriceId } : {}),
    ...(row.features.length > 0
      ? { features: Object.fromEntries(row.features.map((f) => [f.id.trim(), featureInput(f)])) }
      : {}),
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

type Issue = z.core.$ZodIssue;

/**
 * Zod's issues as `{ path, message }`, with the two a feature can raise spelled out: a bad feature
 * id (`invalid_key`) goes to the feature's `id` field with the slug rule's own message, and a
 * feature that is neither `true`/`false` nor `{ limit, period? }` (`invalid_union`) reports the
 * problems of the branch the editor sent (the other branch only says "wrong type").
 */
function flatIssues(issues: readonly Issue[], prefix: PropertyKey[] = []) {
  return issues.flatMap((issue): { path: string; message: string }[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_key") {
      return [{
        path: [...path, "id"].join("."),
        message: issue.issues[0]?.message ?? issue.message,
      }];
    }
    if (issue.code === "invalid_union") {
      const branch = issue.errors.find((b) =>
        !b.every((i) =>
          i.code === "invalid_type" && i.path.length === 0
        )
      ) ?? issue.errors[0];
      return flatIssues(branch, path);
    }
    return [{ path: path.map(String).join("."), message: issue.message }];
  });
}

/** Feature ids typed twice in one tier: the record would keep only the last, so say it. */
function duplicateFeatures(rows: Row[]): { path: string; message: string }[] {
  return rows.flatMap((row, i) => {
    const seen = new Set<string>();
    const out: { path: string; message: string }[] = [];
    for (const f of row.features) {
      const id = f.id.trim();
      if (seen.has(id)) {
        out.push({ path: `${i}.features.${id}.id`, message: "already in this tier" });
      }
      seen.add(id);
    }
    return out;
  });
}

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
  const duplicates = useComputed(() => duplicateFeatures(rows.value));
  const valid = useComputed(() => result.value.success && duplicates.value.length === 0);
  const problems = useComputed<Problems>(() => {
    const local = problemsOf([
      ...duplicates.value,
      ...(result.value.success ? [] : flatIssues(result.value.error.issues)),
    ]);
    // The server's word stands until the founder edits again.
    for (const [k, v] of serverProblems.value) if (!local.has(k)) local.set(k, v);
    return local;
  });
  const dirty = useComputed(() => snapshot(rows.value) !== saved.value);
  // Impact preview: this period's real usage measured against the limits as edited, of the main
  // meter or of the metered feature picked.
  const impacts = useSignal<{ feature: string; tiers: Map<string, TierImpact> } | null>(null);
  const picked = useSignal("");
  const metered = result.value.success ? meteredIds(result.value.data) : [];
  const previewFeature = metered.includes(picked.value) ? picked.value : "";
  const previewBody = valid.value && result.value.success
    ? JSON.stringify({ tiers: result.value.data })
    : null;
  useEffect(() => {
    if (previewBody === null) return;
    let current = true;
    const timer = setTimeout(async () => {
      const query = previewFeature ? `?feature=${encodeURIComponent(previewFeature)}` : "";
      const res = await callApi<TierPreviewResponse>(
        "POST",
        `/dashboard/api/tiers/preview${query}`,
        JSON.parse(previewBody),
      );
      if (current && res.ok) {
        impacts.value = {
          feature: res.data.feature ?? "",
          tiers: new Map(res.data.tiers.map((t) => [t.id, t])),
        };
      }
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [previewBody, previewFeature]);
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
  function editFeature(uid: number, featureUid: number, patch: Partial<FeatureRow>) {
    const row = rows.value.find((r) => r.uid === uid)!;
    edit(uid, {
      features: row.features.map((f) => (f.uid === featureUid ? { ...f, ...patch } : f)),
    });
  }
  function removeFeature(uid: number, featureUid: number) {
    const row = rows.value.find((r) => r.uid === uid)!;
    edit(uid, { features: row.features.filter((f) => f.uid !== featureUid) });
  }
  function addFeature(uid: number) {
    const taken = new Set(rows.value.flatMap((r) => r.features.map((f) => f.id.trim())));
    let n = 1;
    while (taken.has(`feature-${n}`)) n++;
    const row = rows.value.find((r) => r.uid === uid)!;
    // Like a new tier, a new feature starts valid: metered, 1,000 per the tier's period.
    edit(uid, {
      features: [...row.features, {
        uid: nextUid++,
        id: `feature-${n}`,
        kind: "metered",
        limit: "1000",
        unlimited: false,
        period: "",
        enabled: true,
      }],
    });
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
      features: [],
    }];
  }

  async function save(e: Event) {
    e.preventDefault();
    if (!result.value.success || !valid.value) return;
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
  // Every feature id typed anywhere: offered when typing another tier's feature.
  const knownIds = [...new Set(rows.value.flatMap((r) => r.features.map((f) => f.id.trim())))]
    .filter((id) => id !== "").sort();
  return (
    <form class="tier-editor stack" onSubmit={save} noValidate>
      <datalist id="tier-editor-feature-ids">
        {knownIds.map((id) => <option key={id} value={id} />)}
      </datalist>
      {metered.length > 0 && (
        <div class="tier-preview-pick">
          <label class="field-label" for="tier-preview-feature">Preview impact on</label>
          <select
            id="tier-preview-feature"
            class="input"
            value={previewFeature}
            onChange={(e) => (picked.value = e.currentTarget.value)}
          >
            <option value="">Calls without a feature (tier limit)</option>
            {metered.map((id) => <option key={id} value={id}>Feature: {id}</option>)}
          </select>
        </div>
      )}
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
              <FeatureList
                row={row}
                tierIndex={i}
                problems={p}
                onEdit={(featureUid, patch) => editFeature(row.uid, featureUid, patch)}
                onRemove={(featureUid) => removeFeature(row.uid, featureUid)}
                onAdd={() => addFeature(row.uid)}
              />
              <ImpactLine
                row={row}
                feature={previewFeature}
                // Until the picked meter's preview arrives, the other meter's is not shown as its.
                impact={impacts.value?.feature === previewFeature
                  ? impacts.value.tiers.get(row.id.trim())
                  : undefined}
              />
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
          {status.value.kind !== "saved" && dirty.value && valid.value && "Unsaved changes"}
          {!valid.value && <span class="danger">Fix the fields marked in red</span>}
        </span>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={!valid.value || !dirty.value || status.value.kind === "saving"}
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

/** The ids of the features some (valid) tier meters, sorted. */
function meteredIds(tiers: readonly Tier[]): string[] {
  const ids = new Set<string>();
  for (const t of tiers) {
    for (const [id, f] of Object.entries(t.features ?? {})) if (typeof f === "object") ids.add(id);
  }
  return [...ids].sort();
}

/**
 * "120 end-users this month · 8 over the limit, 15 near it", under each tier; with a feature
 * picked, the same of that feature's counts and this tier's limit of it.
 */
function ImpactLine(
  { row, feature, impact }: { row: Row; feature: string; impact: TierImpact | undefined },
) {
  if (!impact) return null;
  const f = feature ? row.features.find((x) => x.id.trim() === feature) : undefined;
  if (feature && f?.kind !== "metered") {
    return (
      <p class="tier-impact" data-testid="tier-impact" aria-live="polite">
        <code>{feature}</code> is not metered in this tier
      </p>
    );
  }
  const period = f ? f.period || row.period : row.period;
  const unlimited = f ? f.unlimited : row.unlimited;
  const when = period === "day" ? "today" : "this month";
  const users = `${impact.users.toLocaleString("en-US")} end-user${impact.users === 1 ? "" : "s"}`;
  return (
    <p class="tier-impact" data-testid="tier-impact" aria-live="polite">
      {f && (
        <>
          <code>{feature}</code>
          {": "}
        </>
      )}
      <strong>{users}</strong> {when}
      {impact.users > 0 && !unlimited && (
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

/** A tier's features: each a small row of fields, metered (limit, period) or on/off. */
function FeatureList(
  { row, tierIndex, problems, onEdit, onRemove, onAdd }: {
    row: Row;
    tierIndex: number;
    problems: Problems;
    onEdit: (featureUid: number, patch: Partial<FeatureRow>) => void;
    onRemove: (featureUid: number) => void;
    onAdd: () => void;
  },
) {
  const listProblem = problems.get(`${tierIndex}.features`);
  return (
    <div class="tier-features" data-testid="tier-features">
      <div class="tier-features-head">
        <span class="field-label">Features</span>
        <span class="muted small">
          {row.features.length === 0
            ? "None: every call counts against the tier's limit."
            : "Calls naming a feature count against its own limit."}
        </span>
      </div>
      {row.features.length > 0 && (
        <ul class="feature-list">
          {row.features.map((f) => {
            const base = `${tierIndex}.features.${f.id.trim()}`;
            const err = (field: string) => problems.get(`${base}.${field}`);
            const fieldId = (field: string) => `feature-${f.uid}-${field}`;
            const name = f.id.trim() || "feature";
            const rowProblem = problems.get(base);
            return (
              <li
                class={`feature-row${f.kind === "switch" ? " is-switch" : ""}`}
                key={f.uid}
                data-testid="feature-row"
              >
                <Field
                  label="Feature id"
                  id={fieldId("id")}
                  error={err("id")}
                  class="feature-id"
                >
                  <input
                    id={fieldId("id")}
                    class="input mono"
                    name="feature-id"
                    value={f.id}
                    list="tier-editor-feature-ids"
                    autocapitalize="off"
                    spellcheck={false}
                    placeholder="exports"
                    aria-invalid={!!err("id")}
                    onInput={(e) => onEdit(f.uid, { id: e.currentTarget.value })}
                  />
                </Field>
                <Field label="Kind" id={fieldId("kind")} class="feature-kind">
                  <select
                    id={fieldId("kind")}
                    class="input"
                    name="feature-kind"
                    value={f.kind}
                    onChange={(e) =>
                      onEdit(f.uid, { kind: e.currentTarget.value as FeatureRow["kind"] })}
                  >
                    <option value="metered">Metered</option>
                    <option value="switch">On/off</option>
                  </select>
                </Field>
                {f.kind === "metered"
                  ? (
                    <>
                      <Field
                        label="Feature limit"
                        id={fieldId("limit")}
                        error={err("limit")}
                        class="feature-limit"
                      >
                        <div class="input-group">
                          <input
                            id={fieldId("limit")}
                            class="input"
                            name="feature-limit"
                            type="number"
                            inputMode="numeric"
                            min="0"
                            step="1"
                            value={f.unlimited ? "" : f.limit}
                            placeholder={f.unlimited ? "Unlimited" : "100"}
                            disabled={f.unlimited}
                            aria-invalid={!!err("limit")}
                            onInput={(e) => onEdit(f.uid, { limit: e.currentTarget.value })}
                          />
                          <label class="check">
                            <input
                              type="checkbox"
                              name="feature-unlimited"
                              aria-label={`${name} unlimited`}
                              checked={f.unlimited}
                              onChange={(e) =>
                                onEdit(f.uid, { unlimited: e.currentTarget.checked })}
                            />{" "}
                            <span aria-hidden="true">Unlimited</span>
                          </label>
                        </div>
                      </Field>
                      <Field
                        label="Feature resets"
                        id={fieldId("period")}
                        error={err("period")}
                        class="feature-period"
                      >
                        <select
                          id={fieldId("period")}
                          class="input"
                          name="feature-period"
                          value={f.period}
                          onChange={(e) =>
                            onEdit(f.uid, {
                              period: e.currentTarget.value as FeatureRow["period"],
                            })}
                        >
                          <option value="">
                            {row.period === "day" ? "Day" : "Month"} (tier's)
                          </option>
                          <option value="month">Month</option>
                          <option value="day">Day</option>
                        </select>
                      </Field>
                    </>
                  )
                  : (
                    <div class="field feature-switch">
                      <span class="field-label" aria-hidden="true">In this tier</span>
                      <label class="check">
                        <input
                          type="checkbox"
                          name="feature-enabled"
                          aria-label={`${name} included`}
                          checked={f.enabled}
                          onChange={(e) => onEdit(f.uid, { enabled: e.currentTarget.checked })}
                        />{" "}
                        <span aria-hidden="true">Included</span>
                      </label>
                    </div>
                  )}
                <button
                  type="button"
                  class="btn btn-ghost btn-icon btn-danger-ghost feature-remove"
                  aria-label={`Remove feature ${name}`}
                  onClick={() => onRemove(f.uid)}
                >
                  ✕
                </button>
                {rowProblem && <span class="field-error feature-problem">{rowProblem}</span>}
              </li>
            );
          })}
        </ul>
      )}
      {listProblem && <span class="field-error">{listProblem}</span>}
      <button
        type="button"
        class="btn btn-ghost btn-sm feature-add"
        onClick={onAdd}
        disabled={row.features.length >= MAX_FEATURES}
      >
        + Add feature
      </button>
    </div>
  );
}

function Field(
  { label, id, error, children, class: extra }: {
    label: string;
    id: string;
    error?: string;
    children: ComponentChildren;
    class?: string;
  },
) {
  return (
    <div class={`field${extra ? ` ${extra}` : ""}${error ? " has-error" : ""}`}>
      <label class="field-label" for={id}>{label}</label>
      {children}
      {error && <span class="field-error" id={`${id}-error`}>{error}</span>}
    </div>
  );
}

/** Server-only building blocks of the pages: cards, headers, code blocks, badges, notices. */
import type { ComponentChildren } from "preact";
import CopyButton from "../../islands/CopyButton.tsx";
import { Island } from "./island.tsx";

export function PageHeader(
  { title, lead, actions }: {
    title: string;
    lead?: ComponentChildren;
    actions?: ComponentChildren;
  },
) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {lead && <p class="lead">{lead}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </div>
  );
}

export function Card(
  { title, id, actions, children, class: extra, testid }: {
    title?: ComponentChildren;
    id?: string;
    actions?: ComponentChildren;
    children: ComponentChildren;
    class?: string;
    testid?: string;
  },
) {
  return (
    <section class={`card${extra ? ` ${extra}` : ""}`} id={id} data-testid={testid}>
      {(title || actions) && (
        <div class="card-head">
          {title && <h2 class="card-title">{title}</h2>}
          {actions && <div class="card-actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

/** A code block with a copy button (the only JavaScript it ships is the button). */
export function CodeBlock(
  { code, label, language = "shell" }: { code: string; label?: string; language?: string },
) {
  return (
    <div class="code">
      <div class="code-head">
        <span class="code-lang">{label ?? language}</span>
        <Island
          name="CopyButton"
          component={CopyButton}
          props={{ text: code, label: `Copy ${label ?? "code"}` }}
        />
      </div>
      <pre><code class={`language-${language}`}>{code}</code></pre>
    </div>
  );
}

/** An inline value with a copy button: ids, URLs. */
export function CopyField({ value, label }: { value: string; label: string }) {
  return (
    <span class="copy-field">
      <code>{value}</code>
      <Island name="CopyButton" component={CopyButton} props={{ text: value, label }} />
    </span>
  );
}

export type Tone = "neutral" | "ok" | "warn" | "danger" | "info";

export function Badge(
  { tone = "neutral", children }: { tone?: Tone; children: ComponentChildren },
) {
  return <span class={`badge${tone === "neutral" ? "" : ` badge-${tone}`}`}>{children}</span>;
}

export function Notice(
  { tone = "info", children }: { tone?: Exclude<Tone, "neutral">; children: ComponentChildren },
) {
  // Server-rendered notices are part of the page, not live announcements: no ARIA live role.
  return (
    <div class={`notice notice-${tone === "danger" ? "error" : tone}`}>
      {children}
    </div>
  );
}

/** A definition list of label → value rows: `<KeyValues><KV term="Id">…</KV></KeyValues>`. */
export function KeyValues({ children }: { children: ComponentChildren }) {
  return <dl class="kv">{children}</dl>;
}

export function KV({ term, children }: { term: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}

const STATUS_TONE: Record<string, Tone> = {
  active: "ok",
  trialing: "ok",
  past_due: "warn",
  unpaid: "danger",
  incomplete: "warn",
  incomplete_expired: "danger",
  canceled: "danger",
  paused: "warn",
  none: "neutral",
};

const STATUS_LABEL: Record<string, string> = {
  active: "Active",
  trialing: "Trial",
  past_due: "Past due",
  unpaid: "Unpaid",
  incomplete: "Incomplete",
  incomplete_expired: "Expired",
  canceled: "Canceled",
  paused: "Paused",
  none: "Not subscribed",
};

/** A founder's subscription status as a coloured badge. */
export function SubscriptionBadge({ status }: { status: string }) {
  return (
    <span data-testid="subscription-status" data-status={status}>
      <Badge tone={STATUS_TONE[status] ?? "neutral"}>{STATUS_LABEL[status] ?? status}</Badge>
    </span>
  );
}

/** `29` → `$29`, `9.5` → `$9.50`, `0` → `Free`. */
export function formatPrice(price: number): string {
  if (price === 0) return "Free";
  return Number.isInteger(price) ? `$${price}` : `$${price.toFixed(2)}`;
}

/** `null` → `Unlimited`, `100000` → `100,000`. */
export function formatLimit(limit: number | null): string {
  return limit === null ? "Unlimited" : limit.toLocaleString("en-US");
}

/**
 * The dashboard's quick start: curl and typed-client snippets filled in with the founder's own
 * server URL, platform id, key prefix and tiers, each with a copy button. Server-only.
 */
import type { Tier } from "../schemas/tiers.ts";
import { CodeBlock } from "./components.tsx";

export interface QuickStartInput {
  baseUrl: string;
  platformId: string;
  /** The key's display prefix, `dk_live_AbC1…`: the full key is never stored. */
  keyPrefix: string;
  tiers: readonly Tier[];
}

export interface QuickStartSnippets {
  /** `export DREAM_API_KEY=…` plus `POST /api/data`. */
  track: string;
  usage: string;
  /** The typed client (imported by URL from this server). */
  client: string;
  /** Checkout and portal for the first paid tier; absent without one. */
  upgrade?: string;
}

/**
 * The snippets, ready to copy. They read the key from `$DREAM_API_KEY`, so the only edit left is
 * pasting the full key once.
 * @example quickStartSnippets({ baseUrl, platformId: "plt_…", keyPrefix: "dk_live_AbC1…", tiers })
 */
export function quickStartSnippets(input: QuickStartInput): QuickStartSnippets {
  const { baseUrl, platformId, keyPrefix } = input;
  const paid = input.tiers.find((t) => t.price > 0);
  const key = [
    `# Your full API key for platform ${platformId} (it starts with ${keyPrefix})`,
    `export DREAM_API_KEY="${keyPrefix}"`,
  ].join("\n");
  const track = [
    key,
    "",
    "# Count one unit for an end-user (429 once they are over their tier's limit)",
    `curl -X POST ${baseUrl}/api/data \\`,
    `  -H "Authorization: Bearer $DREAM_API_KEY" \\`,
    `  -H "X-User-Id: user_42"`,
  ].join("\n");
  const usage = [
    "# Read an end-user's usage without counting",
    `curl ${baseUrl}/api/usage \\`,
    `  -H "Authorization: Bearer $DREAM_API_KEY" \\`,
    `  -H "X-User-Id: user_42"`,
  ].join("\n");
  const client = [
    `// Deno: import by URL. Node 20+, Bun, edge: download ${baseUrl}/client/dream_api.ts`,
    `import { DreamApi, LimitExceededError } from "${baseUrl}/client/dream_api.ts";`,
    "",
    `// Platform ${platformId}: DREAM_API_KEY is your full key (${keyPrefix})`,
    `const dream = new DreamApi({ apiKey: Deno.env.get("DREAM_API_KEY")!, baseUrl: "${baseUrl}" });`,
    "",
    "try {",
    `  const { usage, plan } = await dream.track("user_42");`,
    '  console.log(`${usage.count} of ${usage.limit ?? "unlimited"} used on ${plan}`);',
    "} catch (error) {",
    "  if (!(error instanceof LimitExceededError)) throw error;",
    "  console.log(`Over the limit of ${error.plan}: resets in ${error.retryAfter} s`);",
    "}",
  ].join("\n");
  const upgrade = paid && [
    `# Send an end-user to Checkout for '${paid.id}' (needs Stripe connected and tiers synced)`,
    `curl -X POST ${baseUrl}/api/create-checkout \\`,
    `  -H "Authorization: Bearer $DREAM_API_KEY" \\`,
    `  -H "X-User-Id: user_42" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"tier":"${paid.id}","successUrl":"https://your.app/billing/done","cancelUrl":"https://your.app/billing"}'`,
    "",
    "# Later: the billing portal, where they manage or cancel",
    `curl -X POST ${baseUrl}/api/customer-portal \\`,
    `  -H "Authorization: Bearer $DREAM_API_KEY" \\`,
    `  -H "X-User-Id: user_42" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"returnUrl":"https://your.app/account"}'`,
  ].join("\n");
  return { track, usage, client, ...(upgrade ? { upgrade } : {}) };
}

/** The quick-start card body for the dashboard overview. */
export function QuickStart(props: QuickStartInput) {
  const snippets = quickStartSnippets(props);
  return (
    <div class="stack" data-testid="quick-start">
      <p class="muted">
        Call dream-api from your backend each time one of your users does something you meter. Put
        your full key (shown once when it was created; roll a new one in{" "}
        <a href="/dashboard/settings">Settings</a> if it is lost) in{" "}
        <code>DREAM_API_KEY</code>. Every call is in the <a href="/docs">API reference</a>.
      </p>
      <CodeBlock code={`${snippets.track}\n\n${snippets.usage}`} label="curl" />
      <CodeBlock code={snippets.client} label="TypeScript client" language="ts" />
      {snippets.upgrade && <CodeBlock code={snippets.upgrade} label="Upgrade an end-user" />}
    </div>
  );
}

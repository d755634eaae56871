/**
 * The quick-start snippets: curl and typed-client calls filled in with the founder's own server
 * URL, platform id and key. Pure strings, shared by the overview (key prefix) and the one-time key
 * reveal (full key), so the two never disagree.
 */
import type { Tier } from "../schemas/tiers.ts";

export interface QuickStartInput {
  baseUrl: string;
  platformId: string;
  /** The key's display prefix, `dk_live_AbC1…`: the full key is never stored. */
  keyPrefix: string;
  /** The full key: only in the browser, the one time it is shown (then the snippets run as copied). */
  apiKey?: string;
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
 * The snippets, ready to copy. They read the key from `$DREAM_API_KEY`: with `apiKey` they run
 * as they are; with only the prefix, the one edit left is pasting the full key.
 * @example quickStartSnippets({ baseUrl, platformId: "plt_…", keyPrefix: "dk_live_AbC1…", tiers })
 */
export function quickStartSnippets(input: QuickStartInput): QuickStartSnippets {
  const { baseUrl, platformId, keyPrefix } = input;
  const paid = input.tiers.find((t) => t.price > 0);
  const key = input.apiKey
    ? [
      `# Your API key for platform ${platformId}`,
      `export DREAM_API_KEY="${input.apiKey}"`,
    ].join("\n")
    : [
      `# Platform ${platformId}: the dashboard shows only your key's prefix.`,
      `# Replace the value with your full key (it starts with ${keyPrefix.replace("…", "")}).`,
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

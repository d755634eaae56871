/**
 * The dashboard's quick start: curl and typed-client snippets filled in with the founder's own
 * server URL, platform id, key prefix and tiers, each with a copy button. Server-only.
 */
import { CodeBlock } from "./components.tsx";
import { type QuickStartInput, quickStartSnippets } from "./snippets.ts";

export { type QuickStartInput, type QuickStartSnippets, quickStartSnippets } from "./snippets.ts";

/** The quick-start card body for the dashboard overview. */
export function QuickStart(props: QuickStartInput) {
  const snippets = quickStartSnippets(props);
  return (
    <div class="stack" data-testid="quick-start">
      <p class="muted">
        Call dream-api from your backend each time one of your users does something you meter. Every
        call is in the <a href="/docs">API reference</a>.
      </p>
      <div class="notice notice-info" data-testid="quick-start-key-note">
        <span>
          <strong>
            The key below is only its prefix,{" "}
            <code>{props.keyPrefix}</code>: pasted as it is, the calls answer 401.
          </strong>{" "}
          Replace it with your full key, shown once when it was created (roll a new one in{" "}
          <a href="/dashboard/settings#api-key">Settings</a> if it is lost).
        </span>
      </div>
      <CodeBlock code={`${snippets.track}\n\n${snippets.usage}`} label="curl" />
      <CodeBlock code={snippets.client} label="TypeScript client" language="ts" />
      {snippets.upgrade && <CodeBlock code={snippets.upgrade} label="Upgrade an end-user" />}
    </div>
  );
}

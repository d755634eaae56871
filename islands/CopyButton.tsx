/** A copy-to-clipboard button for a value the server already shows (ids, snippets, prefixes). */
import { useSignal } from "@preact/signals";
import { copyText } from "./_client/api.ts";

export interface CopyButtonProps {
  text: string;
  /** What is copied, for screen readers: "Copy platform id". */
  label?: string;
}

export default function CopyButton({ text, label = "Copy" }: CopyButtonProps) {
  const state = useSignal<"idle" | "copied" | "failed">("idle");
  async function copy() {
    state.value = (await copyText(text)) ? "copied" : "failed";
    setTimeout(() => (state.value = "idle"), 2000);
  }
  return (
    <button
      type="button"
      class={`btn btn-ghost btn-sm copy-btn${state.value === "copied" ? " is-done" : ""}`}
      aria-label={label}
      title={label}
      onClick={copy}
    >
      {state.value === "copied" ? "Copied" : state.value === "failed" ? "Press Ctrl+C" : "Copy"}
    </button>
  );
}

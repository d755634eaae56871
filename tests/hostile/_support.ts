/** Shared pieces of the hostile suites: temp dirs, the start task's V8 flags, RSS, histograms. */
import type { TierInput } from "../../lib/schemas/tiers.ts";

/** One unlimited tier: hostile traffic must never be refused for a limit, so counts stay exact. */
export const UNLIMITED: TierInput[] = [
  { id: "free", name: "Free", price: 0, limit: null, period: "month" },
];

/** A temporary directory removed on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "dream-api-hostile-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** The `--v8-flags` value of `deno task start` in deno.json, so tests run the server as deployed. */
export async function startV8Flags(): Promise<string> {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  const flags = /--v8-flags=(\S+)/.exec(denoJson.tasks.start)?.[1];
  if (!flags) throw new Error(`deno task start has no --v8-flags: ${denoJson.tasks.start}`);
  return flags;
}

/** The process's peak resident set size in KiB (VmHWM), or null once it is gone. */
export async function peakRssKiB(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kib ? Number(kib) : null;
  } catch {
    return null;
  }
}

/** `200×12 400×3 …`, sorted by status. */
export function statusHistogram(statuses: Iterable<number | string>): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(String(s), (counts.get(String(s)) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`)
    .join(" ") || "(none)";
}

/** Long runs of one character (a huge header or path in a log line) shortened to `a×8000`; no colours. */
export function squeeze(text: string): string {
  const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
  return text.replace(/(.)\1{59,}/g, (run, c) => `${c}×${run.length}`).replace(ansi, "");
}

/**
 * The layers of lib/ hold: KV at the bottom imports nothing above it, and usage does not reach into
 * billing. Read from the import statements of every file under lib/, so a new upward import fails
 * here, not in review.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));

/** Pure leaf modules at the very bottom: they import only each other. */
const BOTTOM = [
  "lib/schemas/",
  "lib/errors.ts",
  "lib/encoding.ts",
  "lib/bounded_cache.ts",
  "lib/hash.ts",
  "lib/api_keys.ts",
  "lib/sealed.ts",
];

/** Each layer with the lib/ paths (prefixes) it may import; a layer not listed is unchecked. */
const SERVICES = [
  "lib/auth/",
  "lib/billing/",
  "lib/founders/",
  "lib/analytics/",
  "lib/crypto/",
  "lib/webhooks/",
];
const LAYERS: { layer: string; may: string[] }[] = [
  // Services never reach up into HTTP, pages or the app; `Deps` is a type they are handed.
  ...SERVICES.map((layer) => ({
    layer,
    may: [...SERVICES, "lib/usage/", "lib/kv/", "lib/deps.ts", "lib/log.ts", ...BOTTOM],
  })),
  { layer: "lib/kv/", may: ["lib/kv/", ...BOTTOM] },
  { layer: "lib/usage/", may: ["lib/usage/", "lib/kv/", ...BOTTOM] },
  // The supervisor and the HTTP isolates' plumbing: below the app, above the meter it carries.
  { layer: "lib/cluster/", may: ["lib/cluster/", "lib/usage/", "lib/log.ts", ...BOTTOM] },
  ...BOTTOM.map((layer) => ({ layer, may: BOTTOM })),
];

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;

/** The relative specifiers a module imports or re-exports (static, side-effect and dynamic). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith(".")) out.push(spec);
  }
  return out;
}

/** Every import of `files` (root-relative path → source) that crosses its layer's rule. */
export function violations(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [path, source] of files) {
    const rule = LAYERS.find(({ layer }) =>
      layer.endsWith("/") ? path.startsWith(layer) : path === layer
    );
    if (!rule) continue;
    for (const spec of importsOf(source)) {
      const target = normalize(join(dirname(path), spec)).replaceAll("\\", "/");
      if (!rule.may.some((p) => p.endsWith("/") ? target.startsWith(p) : target === p)) {
        out.push(
          `${path} imports ${target} (${rule.layer} may import only ${rule.may.join(", ")})`,
        );
      }
    }
  }
  return out;
}

async function libSources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (/\.(ts|tsx)$/.test(entry.name)) {
        files.set(relative(ROOT, path).replaceAll("\\", "/"), await Deno.readTextFile(path));
      }
    }
  }
  await walk(join(ROOT, "lib"));
  return files;
}

Deno.test("lib/kv imports nothing above it, and lib/usage nothing of billing, auth or the app", async () => {
  const files = await libSources();
  assert.ok(files.has("lib/kv/keys.ts") && files.has("lib/usage/meter.ts"), "lib/ was read");
  const found = violations(files);
  assert.deepEqual(found, [], found.join("\n"));
});

Deno.test("the layer check fails on an upward import, in every form of import", () => {
  const files = new Map([
    ["lib/kv/a.ts", 'import { x } from "../auth/api_keys.ts";\nimport { keys } from "./keys.ts";'],
    ["lib/kv/b.ts", 'export type { T } from "../billing/events.ts";'],
    ["lib/kv/c.ts", 'const m = await import("../analytics/hll.ts");'],
    ["lib/kv/d.ts", 'import {\n  a,\n  type B,\n} from "../founders/platform.ts";'],
    ["lib/usage/e.ts", 'import type { PaidPlan } from "../billing/end_user_plans.ts";'],
    ["lib/schemas/f.ts", 'import { keys } from "../kv/keys.ts";'],
    ["lib/kv/ok.ts", 'import { z } from "zod";\nimport { ApiError } from "../errors.ts";'],
  ]);
  assert.deepEqual(violations(files).map((v) => v.split(" (")[0]), [
    "lib/kv/a.ts imports lib/auth/api_keys.ts",
    "lib/kv/b.ts imports lib/billing/events.ts",
    "lib/kv/c.ts imports lib/analytics/hll.ts",
    "lib/kv/d.ts imports lib/founders/platform.ts",
    "lib/usage/e.ts imports lib/billing/end_user_plans.ts",
    "lib/schemas/f.ts imports lib/kv/keys.ts",
  ]);
});

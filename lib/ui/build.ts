/**
 * Bundles the islands for the browser with `deno bundle` (esbuild inside Deno): one ES module
 * per island plus shared, content-hashed chunks (preact, signals and zod are loaded once however
 * many islands a page has). Output goes to `static/islands/` with content-hashed names and a
 * `manifest.json` mapping island names to URLs, so the files can be cached forever.
 *
 * Run it as `deno task build`; `dev`, `start` and `test` run it first.
 */

/** Island name → URL of its module, e.g. `{ "KeyReveal": "/static/islands/KeyReveal.3f9a….js" }`. */
export interface IslandManifest {
  islands: Record<string, string>;
  builtAt: string;
}

/** URL path under which `static/islands/` is served. */
export const ISLANDS_URL = "/static/islands/";

/** The project root (this file lives in `lib/ui/`). */
export const PROJECT_ROOT = new URL("../../", import.meta.url);

/**
 * Island files: PascalCase `.tsx` directly in `islands/`. Their browser-only helpers live in
 * `islands/_client/`, a folder, so they are never entries.
 */
const ISLAND_FILE = /^([A-Z][A-Za-z0-9]*)\.tsx$/;

/** The islands found in `islands/`, by name. */
export async function listIslands(root: URL = PROJECT_ROOT): Promise<Map<string, URL>> {
  const dir = new URL("islands/", root);
  const found = new Map<string, URL>();
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.isFile ? ISLAND_FILE.exec(entry.name) : null;
    if (match) found.set(match[1], new URL(entry.name, dir));
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Bundles every island into `outDir` (default `static/islands/`) and writes its manifest.
 * Files are moved into place one by one with `rename` and the manifest goes last, so a server
 * reading the directory meanwhile never sees a manifest naming a file that is not there.
 */
export async function buildIslands(
  options: { root?: URL; outDir?: URL; minify?: boolean } = {},
): Promise<IslandManifest> {
  const root = options.root ?? PROJECT_ROOT;
  const outDir = options.outDir ?? new URL("static/islands/", root);
  await Deno.mkdir(outDir, { recursive: true });
  const islands = await listIslands(root);
  const hydrate = new URL("islands/_client/hydrate.ts", root);
  const setup = new URL("islands/_client/setup.ts", root);

  // Generated entries: each runs the client setup first (before any module it imports is
  // evaluated), imports its island and hydrates every instance on the page.
  const entryDir = await Deno.makeTempDir({ prefix: "dream-islands-entries-" });
  // Built next to the output so the final renames stay on one file system.
  const buildDir = await Deno.makeTempDir({ dir: outDir.pathname, prefix: ".build-" });
  try {
    const entries: string[] = [];
    for (const [name, file] of islands) {
      const path = `${entryDir}/${name}.ts`;
      await Deno.writeTextFile(
        path,
        `import ${JSON.stringify(setup.href)};\n` +
          `import Island from ${JSON.stringify(file.href)};\n` +
          `import { hydrateAll } from ${JSON.stringify(hydrate.href)};\n` +
          `hydrateAll(${JSON.stringify(name)}, Island);\n`,
      );
      entries.push(path);
    }
    const args = [
      "bundle",
      "--quiet",
      "--config",
      new URL("deno.json", root).pathname,
      "--platform",
      "browser",
      "--format",
      "esm",
      "--code-splitting",
      "--outdir",
      buildDir,
      ...(options.minify === false ? [] : ["--minify"]),
      ...entries,
    ];
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: root.pathname,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`deno bundle failed (exit ${code}):\n${new TextDecoder().decode(stderr)}`);
    }

    const manifest: IslandManifest = { islands: {}, builtAt: new Date().toISOString() };
    const keep = new Set<string>(["manifest.json"]);
    for await (const entry of Deno.readDir(buildDir)) {
      if (!entry.isFile) continue;
      const from = `${buildDir}/${entry.name}`;
      const name = entry.name.replace(/\.js$/, "");
      // esbuild names chunks by content already (chunk-XXXXXXXX.js); entries get a hash here.
      // An entry's text names the hashed chunks it imports, so its own hash covers them too.
      const target = islands.has(name)
        ? `${name}.${await contentHash(await Deno.readFile(from))}.js`
        : entry.name;
      await Deno.rename(from, new URL(target, outDir));
      keep.add(target);
      if (islands.has(name)) manifest.islands[name] = ISLANDS_URL + target;
    }
    const missing = [...islands.keys()].filter((n) => !manifest.islands[n]);
    if (missing.length) throw new Error(`deno bundle wrote no output for ${missing.join(", ")}`);

    const manifestTmp = `${buildDir}/manifest.json`;
    await Deno.writeTextFile(manifestTmp, JSON.stringify(manifest, null, 2) + "\n");
    await Deno.rename(manifestTmp, new URL("manifest.json", outDir));

    // Files of earlier builds: names are content hashes, so only a changed island leaves any.
    for await (const entry of Deno.readDir(outDir)) {
      if (entry.isFile && entry.name.endsWith(".js") && !keep.has(entry.name)) {
        await Deno.remove(new URL(entry.name, outDir)).catch(() => {});
      }
    }
    return manifest;
  } finally {
    await Deno.remove(entryDir, { recursive: true }).catch(() => {});
    await Deno.remove(buildDir, { recursive: true }).catch(() => {});
  }
}

/** First 12 hex digits of the SHA-256 of `bytes`: a cache-busting file-name hash. */
export async function contentHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const started = performance.now();
  const manifest = await buildIslands();
  const names = Object.keys(manifest.islands);
  console.log(
    `Bundled ${names.length} islands (${names.join(", ")}) into static/islands/ in ${
      Math.round(performance.now() - started)
    } ms.`,
  );
}

/**
 * The client outside Deno: bundled to plain JavaScript (+ .d.ts) with `deno bundle`, type-checked
 * without Deno's types, then run by Node (20 here) against the real server.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { seedPlatform, testApp } from "../_helpers/app.ts";

const CLIENT = fileURLToPath(new URL("../../client/dream_api.ts", import.meta.url));

/** Bundles the client into `dir` as `dream_api.js` + `dream_api.d.ts`, type-checking it on the way. */
async function bundle(dir: string): Promise<void> {
  // Plain ES and DOM libs (no Deno globals), and only erasable TypeScript, so Bun and Node's
  // type stripping can run the .ts file as it is.
  const config = `${dir}/bundle.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      compilerOptions: { lib: ["esnext", "dom"], erasableSyntaxOnly: true },
    }),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--config", config, "--declaration", CLIENT, "--outdir", dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

const SCRIPT = `
import { DreamApi, DreamApiError, LimitExceededError } from "./dream_api.js";
const [baseUrl, apiKey] = process.argv.slice(2);
const dream = new DreamApi({ apiKey, baseUrl, retryBaseMs: 1 });
const out = { node: process.version };
out.track = await dream.track("node_user", { amount: 2 });
out.usage = await dream.usage("node_user");
try {
  await dream.track("node_user", { amount: 10 });
} catch (error) {
  out.limit = {
    isLimit: error instanceof LimitExceededError,
    isApiError: error instanceof DreamApiError,
    name: error.name,
    status: error.status,
    retryAfter: error.retryAfter,
    usage: error.usage,
  };
}
try {
  await new DreamApi({ apiKey: "dk_test_" + "A".repeat(43), baseUrl }).usage("x");
} catch (error) {
  out.unauthorized = { name: error.name, status: error.status, code: error.code };
}
console.log(JSON.stringify(out));
`;

Deno.test("the bundled client runs on Node against the real server: counts, reads, typed errors", async () => {
  const version = await new Deno.Command("node", { args: ["--version"], stdout: "piped" })
    .output().then((o) => new TextDecoder().decode(o.stdout).trim());
  assert.match(version, /^v(2\d|[3-9]\d)\./, `Node 20+ is needed (found ${version})`);

  const dir = await Deno.makeTempDir({ prefix: "dream-api-client-" });
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv, [
    { id: "free", name: "Free", price: 0, limit: 5, period: "month" },
  ]);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  try {
    await bundle(dir);
    const declarations = await Deno.readTextFile(`${dir}/dream_api.d.ts`);
    assert.match(declarations, /export declare class LimitExceededError extends DreamApiError/);
    assert.match(
      declarations,
      /track\(userId: string, options\?: TrackOptions\): Promise<TrackResult>/,
    );
    await Deno.writeTextFile(`${dir}/smoke.mjs`, SCRIPT);

    const run = await new Deno.Command("node", {
      args: [`${dir}/smoke.mjs`, `http://127.0.0.1:${server.addr.port}`, apiKey],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, `${stdout}\n${new TextDecoder().decode(run.stderr)}`);
    const out = JSON.parse(stdout);
    assert.equal(out.node, version);
    assert.deepEqual(out.track.usage, { count: 2, limit: 5, remaining: 3 });
    assert.equal(out.track.replayed, false);
    assert.deepEqual(out.usage.usage, { count: 2, limit: 5, remaining: 3 });
    assert.deepEqual(out.limit, {
      isLimit: true,
      isApiError: true,
      name: "LimitExceededError",
      status: 429,
      retryAfter: 1339200,
      usage: { count: 2, limit: 5, remaining: 3 },
    });
    assert.deepEqual(out.unauthorized, {
      name: "DreamApiError",
      status: 401,
      code: "unauthorized",
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** Runs main.ts with `KV_PATH` and returns its exit code and stderr. */
async function start(kvPath: string): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { APP_ENV: "test", PORT: "0", KV_PATH: kvPath },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

Deno.test("start-up with an unusable KV_PATH prints one line naming it and exits non-zero", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/a-file`;
    await Deno.writeTextFile(file, "not a folder");
    // Under a file; and under /proc, which nobody (root included) can create files in.
    for (const kvPath of [`${file}/dream-api.kv`, "/proc/dream-api/dream-api.kv"]) {
      const { code, stderr } = await start(kvPath);
      assert.notEqual(code, 0, stderr);
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `one line:\n${stderr}`);
      assert.ok(lines[0].includes(kvPath), `names KV_PATH: ${stderr}`);
      assert.doesNotMatch(stderr, /\bat .*\.ts:\d+|Uncaught/, "no stack trace");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

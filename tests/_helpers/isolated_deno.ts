/** Runs code the way a stranger's machine would: a separate Deno with its own cache, none of ours. */

/**
 * `deno eval` of `script` with an empty `DENO_DIR`, no lockfile or config of this project, and
 * network and imports allowed to 127.0.0.1 only (plus `extraArgs`). Answers its exit code and
 * decoded output; the cache is removed afterwards.
 */
export async function evalInIsolatedDeno(
  script: string,
  options: { extraArgs?: string[]; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const denoDir = await Deno.makeTempDir({ prefix: "dream-api-deno-dir-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--no-lock",
        "--no-config",
        "--allow-net=127.0.0.1",
        "--allow-import=127.0.0.1",
        ...(options.extraArgs ?? []),
        script,
      ],
      env: { ...options.env, DENO_DIR: denoDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: run.code,
      stdout: decoder.decode(run.stdout),
      stderr: decoder.decode(run.stderr),
    };
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}

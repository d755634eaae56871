/**
 * `deno task dev`: runs `main.ts` and restarts it once per source change.
 *
 * Why not `deno run --watch`: the first page of a development server bundles the islands into
 * `static/islands/`, and Deno's watcher saw those writes despite `--watch-exclude`, so every first
 * page restarted the server (and the restarted server bundled again: dozens of restarts a minute,
 * refused connections). Its watcher also outlived the program: SIGTERM ran our graceful shutdown,
 * then the watcher waited for the next change and later failed with `AddrInUse`.
 *
 * Here the rules are explicit: build output (`static/islands/`, dot-folders) never restarts; a burst
 * of events from one save restarts once; the old server has exited (port free) before the new one
 * starts; SIGTERM/SIGINT stop the server and then this process, leaving nothing behind.
 */
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** What restarts the server: the program, its configuration and the files it serves. */
const WATCHED = [
  "main.ts",
  "fresh.config.ts",
  "deno.json",
  "lib",
  "routes",
  "islands",
  "static",
  "dev",
];
/** What never does: the islands' build output and the temp folders the build makes there. */
const IGNORED = [/^static[\\/]islands([\\/]|$)/, /(^|[\\/])\./, /~$/, /\.sw[px]$/];
/** Editors save in bursts (write, rename, chmod): one restart per burst. */
const QUIET_MS = 200;

/** Whether a change to `path` (relative to the project root) restarts the server. */
export function restartsServer(path: string): boolean {
  const rel = path.split(sep).join("/");
  return !IGNORED.some((pattern) => pattern.test(rel));
}

function start(): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    stdin: "null",
  }).spawn();
}

if (import.meta.main) {
  let child = start();
  let restarting = false;
  let stopping = false;
  let restartedOnce = false;

  const stop = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already exited */ }
    return (await child.status).code;
  };

  // The server's own exit: a start-up failure (port taken, bad config) ends `deno task dev` with
  // its code; after an edit it may be a mistake being fixed, so wait for the next change.
  const watchExit = (proc: Deno.ChildProcess) => {
    proc.status.then(({ code }) => {
      if (proc !== child || restarting || stopping) return;
      if (!restartedOnce) Deno.exit(code);
      console.error(`dream-api exited (code ${code}); waiting for a change to restart.`);
    });
  };
  watchExit(child);

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      if (stopping) return;
      stopping = true;
      const code = await stop("SIGTERM");
      Deno.exit(code === 0 ? 0 : code);
    });
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const restart = async () => {
    if (stopping) return;
    // A change while restarting: restart again once this one is done.
    if (restarting) return void (timer = setTimeout(restart, QUIET_MS));
    restarting = true;
    await stop("SIGTERM");
    if (stopping) return;
    child = start();
    restartedOnce = true;
    restarting = false;
    watchExit(child);
  };

  const watcher = Deno.watchFs(WATCHED.map((p) => `${ROOT}${p}`), { recursive: true });
  for await (const event of watcher) {
    if (event.kind === "access") continue;
    const changed = event.paths.filter((p) => restartsServer(relative(ROOT, p)));
    if (changed.length === 0) continue;
    console.error(`Restarting dream-api: ${relative(ROOT, changed[0])} changed.`);
    clearTimeout(timer);
    timer = setTimeout(restart, QUIET_MS);
  }
}

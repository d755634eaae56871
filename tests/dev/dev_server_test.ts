/**
 * `deno task dev` as a new founder runs it: on a copy of the project (so nothing here touches the
 * working tree's `.data/` or sources), browsing for 40 s never restarts the server nor refuses a
 * connection; one source change restarts it once; SIGTERM leaves no process and no port behind.
 * Also: the start-up lines say where to go, and a taken port is one line naming the variable.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** What `deno task dev` needs; build output, data, tests and git stay behind. */
const COPY = [
  "deno.json",
  "deno.lock",
  "main.ts",
  "fresh.config.ts",
  "lib",
  "routes",
  "islands",
  "static",
  "dev",
  "client",
];
const SKIP = new Set(["static/islands"]);

async function copyInto(from: string, to: string, rel = ""): Promise<void> {
  const stat = await Deno.stat(`${from}/${rel}`);
  if (!stat.isDirectory) return await Deno.copyFile(`${from}/${rel}`, `${to}/${rel}`);
  await Deno.mkdir(`${to}/${rel}`, { recursive: true });
  for await (const entry of Deno.readDir(`${from}/${rel}`)) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (!SKIP.has(child)) await copyInto(from, to, child);
  }
}

async function projectCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dream-dev-" });
  for (const path of COPY) await copyInto(ROOT, dir, path);
  return dir;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}

/** Pids of live processes whose working directory is inside `dir` (Linux `/proc`). */
async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cwd = await Deno.readLink(`/proc/${entry.name}/cwd`).catch(() => "");
    if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(entry.name));
  }
  return pids;
}

interface Dev {
  child: Deno.ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  listens(): number;
  waitFor(test: (output: string) => boolean, what: string, ms?: number): Promise<void>;
}

function runDev(cwd: string, env: Record<string, string>, args = ["task", "dev"]): Dev {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { APP_ENV: "development", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  for (const stream of [child.stdout, child.stderr]) {
    (async () => {
      for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
    })().catch(() => {});
  }
  return {
    child,
    output: () => output,
    listens: () => output.match(/"message":"dream-api listening"/g)?.length ?? 0,
    async waitFor(test, what, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (!test(output)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

const hasProc = await Deno.stat("/proc/self/cwd").then(() => true, () => false);

Deno.test({
  name:
    "deno task dev: 40 s of browsing never restarts it, one edit restarts it once, SIGTERM ends all",
  ignore: !hasProc,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await projectCopy();
    const port = freePort();
    const stripePort = freePort();
    const base = `http://127.0.0.1:${port}`;
    const dev = runDev(dir, {
      PORT: String(port),
      LOCAL_STRIPE_PORT: String(stripePort),
      KV_PATH: `${dir}/.data/dev.kv`,
    });
    try {
      // The JSON log line (stderr) and the human lines (stdout) come through two pipes: wait for
      // both, since either may be read first.
      await dev.waitFor(
        (o) => /dream-api listening/.test(o) && /Stripe runs locally/.test(o),
        "the first start",
      );
      // Where to go and how to sign in, for a human, besides the JSON line.
      assert.match(dev.output(), new RegExp(`open http://localhost:${port}\\b`), dev.output());
      assert.match(dev.output(), /any email/, dev.output());
      assert.match(dev.output(), /Stripe runs locally/, dev.output());

      // Browse like a founder: pages (the first builds the islands), sign-in, dashboard, scripts.
      const refused: string[] = [];
      let pages = 0;
      let cookie = "";
      const get = async (path: string, init: RequestInit = {}) => {
        try {
          const res = await fetch(`${base}${path}`, {
            redirect: "manual",
            ...init,
            headers: { cookie, ...init.headers },
          });
          const text = await res.text();
          pages++;
          return { res, text };
        } catch (error) {
          refused.push(`${path}: ${(error as Error).message}`);
          return null;
        }
      };
      const signIn = await get("/sign-in/dev", {
        method: "POST",
        headers: { origin: base, "content-type": "application/x-www-form-urlencoded" },
        body: "email=founder%40example.com",
      });
      cookie = signIn?.res.headers.get("set-cookie")?.split(";")[0] ?? "";
      assert.match(cookie, /^__session=/, "the development sign-in sets a session");
      const until = Date.now() + 40_000;
      while (Date.now() < until) {
        for (const path of ["/", "/sign-in", "/docs", "/dashboard", "/dashboard/settings"]) {
          const page = await get(path);
          for (const src of page?.text.matchAll(/src="(\/static\/islands\/[^"]+)"/g) ?? []) {
            await get(src[1]);
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(refused, [], "no connection is refused");
      assert.ok(pages > 50, `browsed ${pages} pages and scripts`);
      assert.equal(dev.listens(), 1, `page loads must not restart the server:\n${dev.output()}`);

      // One edit of a source: exactly one restart.
      const source = `${dir}/lib/startup.ts`;
      await Deno.writeTextFile(source, (await Deno.readTextFile(source)) + "\n// edited\n");
      await dev.waitFor(() => dev.listens() >= 2, "the restart after an edit");
      for (let i = 0; i < 20; i++) await get(i % 2 ? "/" : "/dashboard");
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(dev.listens(), 2, `one edit restarts once:\n${dev.output()}`);
      assert.deepEqual(refused, [], "no connection is refused after the restart");

      // SIGTERM to the task: everything it started ends, both ports are free.
      dev.child.kill("SIGTERM");
      const status = await dev.child.status;
      assert.equal(status.code, 0, dev.output());
      let left = await processesIn(dir);
      for (let i = 0; i < 30 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await processesIn(dir);
      }
      assert.deepEqual(left, [], `no process of the dev task lives on:\n${dev.output()}`);
      assert.ok(portIsFree(port), `port ${port} is free again`);
      assert.ok(portIsFree(stripePort), `the local Stripe's port ${stripePort} is free again`);
      assert.doesNotMatch(dev.output(), /AddrInUse|Process finished/);
    } finally {
      try {
        dev.child.kill("SIGKILL");
      } catch { /* exited */ }
      for (const pid of await processesIn(dir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* exited */ }
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

for (const [which, variable] of [["server", "PORT"], ["local Stripe", "LOCAL_STRIPE_PORT"]]) {
  Deno.test({
    name: `a taken ${which} port is one line naming ${variable}, exit 1, no stack trace`,
    ignore: !hasProc,
    async fn() {
      const dir = await projectCopy();
      const held = Deno.listen({ hostname: "0.0.0.0", port: 0 });
      const taken = (held.addr as Deno.NetAddr).port;
      try {
        const env = which === "server"
          ? { PORT: String(taken), LOCAL_STRIPE_PORT: String(freePort()) }
          : { PORT: String(freePort()), LOCAL_STRIPE_PORT: String(taken) };
        const dev = runDev(dir, { ...env, KV_PATH: ":memory:" }, ["run", "-A", "main.ts"]);
        const status = await dev.child.status;
        await new Promise((r) => setTimeout(r, 50));
        const errors = dev.output().split("\n").filter((l) => l && !l.startsWith("{"));
        assert.equal(status.code, 1, dev.output());
        assert.deepEqual(errors, [
          `Port ${taken} (${
            which === "server" ? "dream-api" : "the local Stripe"
          }) is already in use: set ${variable} to a free port, e.g. ${variable}=${
            taken + 1
          } deno task dev`,
        ], dev.output());
        assert.doesNotMatch(dev.output(), /\bat \S+:\d+:\d+|error: Uncaught/);
      } finally {
        held.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });
}

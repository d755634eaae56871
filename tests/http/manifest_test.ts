/**
 * The route manifest is the one list of routes: every file under routes/ is in it, it names no
 * other, and each route's path is its file's path (routes/api/data.ts → /api/data).
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { bearerToken } from "../../lib/auth/bearer.ts";
import { hotRoutesOf, mountRoute } from "../../lib/http/mount.ts";
import { define, defineRoute, type HonoEnv, type RouteDefinition } from "../../lib/http/route.ts";
import { MANIFEST } from "../../routes/_manifest.ts";

const ROUTES_DIR = new URL("../../routes/", import.meta.url);

/** Every route file under routes/ (files and folders starting with `_` are not routes). */
async function routeFiles(dir = ROUTES_DIR, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith("_")) continue;
    if (entry.isDirectory) {
      out.push(...await routeFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    } else if (/\.tsx?$/.test(entry.name)) out.push(`${prefix}${entry.name}`);
  }
  return out.sort();
}

/** `api/data.ts` → `/api/data`, `dashboard/index.tsx` → `/dashboard`, `index.tsx` → `/`. */
function urlOfFile(file: string): string {
  const path = `/${file.replace(/\.tsx?$/, "")}`.replace(/\/index$/, "");
  return path === "" ? "/" : path;
}

Deno.test("every file under routes/ is in the manifest, the manifest names no other, and each path is its file's", async () => {
  const files = await routeFiles();
  assert.ok(files.includes("api/data.ts") && files.includes("index.tsx"), files.join());
  const byRoute = new Map<RouteDefinition, string>();
  const problems: string[] = [];
  for (const file of files) {
    const module = await import(new URL(file, ROUTES_DIR).href);
    const route: RouteDefinition | undefined = module.route;
    if (!route) {
      problems.push(`routes/${file} exports no \`route\` (defineRoute)`);
      continue;
    }
    byRoute.set(route, file);
    if (!MANIFEST.includes(route)) {
      problems.push(`routes/${file} is missing from routes/_manifest.ts`);
    }
    if (route.path !== urlOfFile(file)) {
      problems.push(`routes/${file} says ${route.path}; its file says ${urlOfFile(file)}`);
    }
  }
  for (const route of MANIFEST) {
    if (!byRoute.has(route)) {
      problems.push(`the manifest lists ${route.path}, which is no file's route`);
    }
  }
  const paths = MANIFEST.map((r) => r.path);
  const twice = paths.filter((p, i) => paths.indexOf(p) !== i);
  if (twice.length) problems.push(`listed twice: ${twice.join(", ")}`);
  assert.deepEqual(problems, []);
});

Deno.test("a file's URL drops its extension and a trailing index", () => {
  assert.equal(urlOfFile("index.tsx"), "/");
  assert.equal(urlOfFile("dashboard/index.tsx"), "/dashboard");
  assert.equal(urlOfFile("client/dream_api.ts.ts"), "/client/dream_api.ts");
  assert.equal(urlOfFile("dashboard/api/usage.csv.ts"), "/dashboard/api/usage.csv");
});

Deno.test("the hot routes are the tenant methods marked hot, with their routes' body limits", () => {
  assert.deepEqual(
    hotRoutesOf(MANIFEST).map((r) => [r.method, r.path, r.maxBody]),
    [
      ["POST", "/api/data", 16 * 1024],
      ["GET", "/api/usage", undefined],
      ["GET", "/api/check", undefined],
    ],
  );
});

Deno.test("only a tenant route can be hot: mounting another refuses", () => {
  const handler = define.tenant(() => Promise.resolve(new Response("")));
  const route = defineRoute({
    path: "/x",
    auth: "public",
    methods: { GET: { handler, hot: true } },
  });
  assert.throws(() => mountRoute(new Hono<HonoEnv>(), route), /only tenant routes can be hot/);
});

Deno.test("bearerToken reads `Bearer <token>` and nothing else", () => {
  assert.equal(bearerToken("Bearer dk_live_abc"), "dk_live_abc");
  assert.equal(bearerToken("bearer   dk_live_abc  "), "dk_live_abc");
  for (const header of [null, undefined, "", "Bearer", "Bearer a b", "Basic abc", "dk_live_abc"]) {
    assert.equal(bearerToken(header), null, String(header));
  }
});

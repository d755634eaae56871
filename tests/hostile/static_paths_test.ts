/**
 * Found by the generated suite: a path under /static/ that the file system refuses for a reason
 * other than "not found" (a file name used as a directory, a name too long) must be a 404, not
 * an unhandled rejection that ends the process. Also the odd encodings of issue 11's finding 2.
 */
import assert from "node:assert/strict";
import { rawRequest } from "../_helpers/raw_http.ts";
import { startServer } from "../_helpers/server.ts";
import { squeeze } from "./_support.ts";

const PATHS = [
  "/static/favicon.svg/x",
  `/static/${"a".repeat(300)}.css`,
  `/static/styles.css/${"a".repeat(5000)}`,
  "/static/%ff",
  "/static/%c0%af",
  "/static/styles.css%00",
];

Deno.test("odd /static/ paths answer 4xx and the process keeps serving", async () => {
  await using server = await startServer({ KV_PATH: ":memory:" });
  let exited: number | null = null;
  server.child.status.then((s) => exited = s.code);
  const answers: string[] = [];
  for (const target of PATHS) {
    const a = await rawRequest(server.url, { method: "GET", target, headers: [] });
    answers.push(`GET ${target.slice(0, 60)} → ${a.outcome} ${a.status}`);
    await new Promise((r) => setTimeout(r, 100)); // an unhandled rejection ends it right after
    const alive = await fetch(`${server.url}/health`).then((r) => r.text().then(() => r.status))
      .catch(() => 0);
    const tail: string = `\n${answers.join("\n")}\nserver exit ${exited}; output:\n` +
      squeeze(server.output()).slice(-1500);
    assert.equal(alive, 200, `the process died after GET ${target.slice(0, 60)}${tail}`);
    assert.ok(a.status >= 400 && a.status < 500, `GET ${target.slice(0, 60)}: ${a.status}${tail}`);
  }
});

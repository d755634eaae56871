/**
 * The dashboard's quick start: the founder's own URL, platform id and key prefix in every
 * snippet, copy buttons, never the key itself, and a TypeScript snippet that really runs.
 */
import assert from "node:assert/strict";
import { quickStartSnippets } from "../../lib/ui/quick_start.tsx";
import { founderHeaders, json, payFounder, testApp } from "../_helpers/app.ts";
import { evalInIsolatedDeno } from "../_helpers/isolated_deno.ts";

const TIERS = [
  { id: "free", name: "Free", price: 0, limit: 100, period: "month" as const },
  { id: "pro", name: "Pro", price: 29, limit: 1000, period: "month" as const },
];

Deno.test("the snippets carry the server URL, platform id and key prefix; upgrade only with a paid tier", () => {
  const input = {
    baseUrl: "https://api.example.com",
    platformId: "plt_abc123",
    keyPrefix: "dk_live_AbC1…",
    tiers: TIERS,
  };
  const s = quickStartSnippets(input);
  for (const snippet of [s.track, s.client]) {
    assert.ok(snippet.includes("plt_abc123"), snippet);
    assert.ok(snippet.includes("dk_live_AbC1…"), snippet);
    assert.ok(snippet.includes("https://api.example.com"), snippet);
  }
  assert.match(s.track, /curl -X POST https:\/\/api\.example\.com\/api\/data/);
  assert.match(s.track, /-H "Authorization: Bearer \$DREAM_API_KEY"/);
  assert.match(s.track, /-H "X-User-Id: user_42"/);
  assert.match(s.usage, /curl https:\/\/api\.example\.com\/api\/usage/);
  assert.match(s.client, /from "https:\/\/api\.example\.com\/client\/dream_api\.ts"/);
  assert.match(s.upgrade ?? "", /"tier":"pro"/);
  assert.match(s.upgrade ?? "", /\/api\/customer-portal/);
  assert.equal(quickStartSnippets({ ...input, tiers: [TIERS[0]] }).upgrade, undefined);
});

Deno.test("the dashboard overview shows the quick start with the founder's values and copy buttons, never the key", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: "https://api.example.com" } });
  await payFounder(t.kv, "user_qs");
  const token = await t.signIn("user_qs");
  const created = await json(
    await t.app.request("/dashboard/api/platform", {
      method: "POST",
      headers: { ...founderHeaders(token), "content-type": "application/json" },
      body: "{}",
    }),
  );
  assert.equal(created.status, 201, created.text);
  const { platformId, apiKey } = created.body;

  const res = await t.app.request("/dashboard", {
    headers: founderHeaders(token, { via: "cookie" }),
  });
  const page = await res.text();
  assert.equal(res.status, 200, page.slice(0, 500));
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const at = page.indexOf('data-testid="quick-start"');
  assert.ok(at > 0, "the quick start is on the overview");
  const section = page.slice(at, page.indexOf("</section>", at));
  assert.ok(section.includes(platformId), "platform id");
  const prefix = apiKey.slice(0, apiKey.indexOf("_", 3) + 5);
  assert.ok(section.includes(`${prefix}…`), "key prefix");
  assert.ok(section.includes("https://api.example.com/api/data"), "base URL");
  const copyButtons = section.match(/data-island="CopyButton"/g) ?? [];
  assert.ok(copyButtons.length >= 2, `copy buttons: ${copyButtons.length}`);
  assert.ok(!page.includes(apiKey), "the full key is never on the page");
});

Deno.test("the quick start's TypeScript snippet runs as shown against the real server", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_run");
  const token = await t.signIn("user_run");
  const { body } = await json(
    await t.app.request("/dashboard/api/platform", {
      method: "POST",
      headers: { ...founderHeaders(token), "content-type": "application/json" },
      body: "{}",
    }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, t.app.fetch);
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  try {
    const { client } = quickStartSnippets({
      baseUrl,
      platformId: body.platformId,
      keyPrefix: "dk_…",
      tiers: TIERS,
    });
    const run = await evalInIsolatedDeno(client, {
      extraArgs: ["--allow-env=DREAM_API_KEY", "--ext=ts"],
      env: { DREAM_API_KEY: body.apiKey },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "1 of 100 used on free");
  } finally {
    await server.shutdown();
  }
});

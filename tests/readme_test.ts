import assert from "node:assert/strict";
import { ERROR_STATUS } from "../lib/errors.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("the README's error table lists every code of lib/errors.ts with its status, and no other", () => {
  const rows = [...README.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|/gm)]
    .map(([, status, code]) => [code, Number(status)] as const);
  const documented = new Map(rows);
  assert.equal(documented.size, rows.length, "each code has one row");
  assert.deepEqual(
    Object.fromEntries([...documented].sort()),
    Object.fromEntries(Object.entries(ERROR_STATUS).sort()),
    "README error table vs ERROR_STATUS",
  );
});

Deno.test("the README documents the error envelope's requestId and unavailable's Retry-After", () => {
  assert.match(README, /"error":\{"code","message","requestId"\}/);
  assert.match(README, /`unavailable`[^\n]*Retry-After/);
});

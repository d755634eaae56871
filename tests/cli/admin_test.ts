import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { hashApiKey } from "../../lib/api_keys.ts";
import { findApiKey, getPlatform } from "../../lib/kv/platforms.ts";
import { getTiers } from "../../lib/kv/tiers.ts";

const ADMIN = fileURLToPath(new URL("../../cli/admin.ts", import.meta.url));

async function admin(kvPath: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ADMIN, ...args],
    env: { KV_PATH: kvPath, APP_ENV: "test" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("admin: platform create, tiers set, key rotate work on the server's KV", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/admin.kv`;

  const created = await admin(kvPath, "platform", "create", "--name", "Acme");
  assert.equal(created.code, 0, created.stderr);
  const { platformId, apiKey } = JSON.parse(created.stdout);
  assert.match(platformId, /^plt_[0-9a-z]{16}$/);
  assert.match(apiKey, /^dk_live_[A-Za-z0-9_-]{43}$/);

  const tiersFile = `${dir}/tiers.json`;
  await Deno.writeTextFile(
    tiersFile,
    JSON.stringify([
      { id: "free", name: "Free", price: 0, limit: 10 },
      { id: "pro", name: "Pro", price: 29, limit: 1000 },
    ]),
  );
  const set = await admin(kvPath, "tiers", "set", platformId, tiersFile);
  assert.equal(set.code, 0, set.stderr);

  await Deno.writeTextFile(
    tiersFile,
    JSON.stringify([{ id: "pro", name: "Pro", price: 29, limit: 5 }]),
  );
  const invalid = await admin(kvPath, "tiers", "set", platformId, tiersFile);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /free/);

  const rotated = await admin(kvPath, "key", "rotate", platformId);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = JSON.parse(rotated.stdout).apiKey;
  assert.notEqual(fresh, apiKey);

  const unknown = await admin(kvPath, "key", "rotate", "plt_nope");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no platform/);
  assert.equal((await admin(kvPath, "frobnicate")).code, 2);

  const kv = await Deno.openKv(kvPath);
  try {
    const platform = await getPlatform(kv, platformId);
    assert.equal(platform?.name, "Acme");
    assert.equal(platform?.keyHash, hashApiKey(fresh));
    assert.equal(await findApiKey(kv, hashApiKey(apiKey)), null, "the old key is revoked");
    assert.equal((await findApiKey(kv, hashApiKey(fresh)))?.platformId, platformId);
    assert.deepEqual((await getTiers(kv, platformId))?.tiers.map((t) => t.limit), [10, 1000]);
    // Only the hash is stored: the plaintext key appears nowhere in the KV file.
    let bytes = "";
    for await (const file of Deno.readDir(dir)) {
      if (file.name.startsWith("admin.kv")) {
        bytes += new TextDecoder().decode(await Deno.readFile(`${dir}/${file.name}`));
      }
    }
    assert.ok(bytes.includes(platformId), "the scan reads the KV file's contents");
    assert.ok(!bytes.includes(fresh) && !bytes.includes(apiKey));
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The URL rules of founders' webhooks, as pure decisions (no HTTP). */
import assert from "node:assert/strict";
import { checkWebhookUrl, isPublic, parseIp } from "../../lib/webhooks/url_policy.ts";

const REFUSED_ADDRESSES = [
  "127.0.0.1",
  "127.8.9.10",
  "10.0.0.1",
  "172.16.0.1",
  "172.31.255.255",
  "192.168.1.1",
  "169.254.169.254",
  "100.64.0.1",
  "100.127.255.255",
  "0.0.0.0",
  "224.0.0.1",
  "255.255.255.255",
  "::",
  "::1",
  "fc00::1",
  "fd12:3456::1",
  "fe80::1",
  "ff02::1",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "::ffff:169.254.169.254",
  "64:ff9b::10.0.0.1",
];
const PUBLIC_ADDRESSES = ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111"];

Deno.test("private, loopback, link-local, CGNAT, unspecified and multicast addresses are not public, in every form", () => {
  for (const text of REFUSED_ADDRESSES) {
    const ip = parseIp(text);
    assert.ok(ip, `${text} parses`);
    assert.equal(isPublic(ip), false, `${text} must not be public`);
  }
  for (const text of PUBLIC_ADDRESSES) {
    assert.equal(isPublic(parseIp(text)!), true, `${text} is public`);
  }
});

Deno.test("production refuses http, literal private addresses, local names and names resolving to them", async () => {
  const resolve = (host: string) =>
    Promise.resolve(
      ({
        "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"],
        "sneaky.example.com": ["93.184.216.34", "10.1.2.3"],
        "rebind.example.com": ["::ffff:127.0.0.1"],
      } as Record<string, string[]>)[host] ?? [],
    );
  const check = (url: string) => checkWebhookUrl(url, { production: true, resolve });
  assert.deepEqual((await check("https://hooks.example.com/x")).ok, true);
  for (
    const url of [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://2130706433/x", // 127.0.0.1 as one number: the URL parser normalises it
      "https://10.0.0.8/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/x",
      "https://[::ffff:10.0.0.1]/x",
      "https://localhost/x",
      "https://api.localhost/x",
      "https://intranet/x",
      "https://sneaky.example.com/x",
      "https://rebind.example.com/x",
      "https://nowhere.example.com/x",
      "https://user:pw@hooks.example.com/x",
      "ftp://hooks.example.com/x",
    ]
  ) {
    const verdict = await check(url);
    assert.equal(verdict.ok, false, `${url} must be refused`);
  }
});

Deno.test("development and test allow http and loopback", async () => {
  for (const url of ["http://127.0.0.1:9999/hook", "http://localhost:3000/x", "https://[::1]/x"]) {
    assert.equal((await checkWebhookUrl(url, { production: false })).ok, true, url);
  }
});

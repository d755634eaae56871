/** Usage-report cursors: their text is a stable format, so cursors already handed out keep working. */
import assert from "node:assert/strict";
import { decodeCursor, encodeCursor } from "../../lib/analytics/report.ts";

/** Cursors as dream-api has always written them: base64url, unpadded, of `[count, userId]`. */
const HANDED_OUT = [
  { text: "WzU1LCJ1c2VyLTAwNTAwMDAiXQ", cursor: { count: 55, userId: "user-0050000" } },
  { text: "WzAsIsO8Pz5-w7EiXQ", cursor: { count: 0, userId: "ü?>~ñ" } },
  {
    text: "WzkwMDcxOTkyNTQ3NDA5OTEsImEvYitjIl0",
    cursor: { count: Number.MAX_SAFE_INTEGER, userId: "a/b+c" },
  },
];

Deno.test("a cursor's text is the same bytes as the cursors already handed out, and those decode", () => {
  for (const { text, cursor } of HANDED_OUT) {
    assert.equal(encodeCursor(cursor), text);
    assert.deepEqual(decodeCursor(text), cursor);
  }
});

Deno.test("text that is not a cursor of ours decodes to null", () => {
  for (
    const text of ["not-a-cursor", "", "%%%", "A", "WzU1XQ", "WyItMSIsInUiXQ", "eyJhIjoxfQ"]
  ) {
    assert.equal(decodeCursor(text), null, text);
  }
});

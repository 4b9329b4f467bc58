// Unit tests of the pages' small helpers (static/js/api.js, static/js/ui.js). Run: node --test tests/e2e/ui.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { timeAgo } from "../../static/js/api.js";
import { itemCountsText } from "../../static/js/ui.js";

const now = Date.parse("2025-03-01T12:00:00Z");
const before = (seconds) => new Date(now - seconds * 1000).toISOString();

test("one of a unit is singular, more are plural", () => {
  assert.equal(timeAgo(before(1), now), "1 second ago");
  assert.equal(timeAgo(before(61), now), "1 minute ago");
  assert.equal(timeAgo(before(3601), now), "1 hour ago");
  assert.equal(timeAgo(before(45), now), "45 seconds ago");
  assert.equal(timeAgo(before(150), now), "2 minutes ago");
  assert.equal(timeAgo(before(7300), now), "2 hours ago");
});

test("now is just now, and nothing is a dash", () => {
  assert.equal(timeAgo(before(0), now), "just now");
  assert.equal(timeAgo(null, now), "—");
});

test("a Map Run's counts name the succeeded of the total, then only the other counts that are not zero", () => {
  const none = { pending: 0, running: 0, succeeded: 0, failed: 0, timed_out: 0, aborted: 0 };
  assert.equal(itemCountsText({ ...none, succeeded: 5, total: 5 }), "5 of 5 succeeded");
  assert.equal(itemCountsText({ ...none, succeeded: 1, running: 2, pending: 3, failed: 1, timed_out: 1, aborted: 1, total: 9 }),
    "1 of 9 succeeded · 2 running · 3 pending · 1 failed · 1 timed out · 1 aborted");
});

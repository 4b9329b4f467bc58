// Small helpers the state machine pages share.

/** Returns `fn` delayed until `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Saves a Blob as a file called `name`. */
export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Returns "1.23 s", "450 ms" or "2 min 3 s" for a duration in milliseconds. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

/** Returns the execution status as a CSS word (RUNNING -> running). */
export function statusWord(status) {
  return String(status || "").toLowerCase().replace("_", "-");
}

export const STATUS_LABELS = {
  RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed", TIMED_OUT: "Timed out", ABORTED: "Aborted",
  PENDING_REDRIVE: "Pending redrive",
};

/** Returns the path of the Map Run page of execution `executionId`'s run `runId`. */
export function mapRunPath(executionId, runId) {
  return `/executions/${executionId}/map-runs/${runId}/`;
}

/** Returns a Map Run's item counts in a few words: "4 of 5 succeeded · 1 failed" (no zeros). */
export function itemCountsText(counts) {
  const others = [["running", "running"], ["pending", "pending"], ["failed", "failed"], ["timed_out", "timed out"],
    ["aborted", "aborted"]].filter(([key]) => counts[key]).map(([key, word]) => `${counts[key]} ${word}`);
  return [`${counts.succeeded} of ${counts.total} succeeded`, ...others].join(" · ");
}

// Reads an execution's history (AWS GetExecutionHistory events) into state runs: which state each
// event belongs to (events of a branch chain through previousEventId), which Map iteration or
// Parallel branch it ran in, its input, output, error, retry attempts and status.

const FAILURE = new Set(["LambdaFunctionFailed", "LambdaFunctionTimedOut", "LambdaFunctionStartFailed",
  "LambdaFunctionScheduleFailed", "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed",
  "ParallelStateFailed", "MapStateFailed", "EvaluationFailed", "MapRunFailed"]);
const SUCCESS = new Set(["LambdaFunctionSucceeded", "TaskSucceeded"]);
const SCHEDULED = new Set(["LambdaFunctionScheduled", "TaskScheduled"]);
const EXECUTION_END = { ExecutionSucceeded: "SUCCEEDED", ExecutionFailed: "FAILED", ExecutionTimedOut: "TIMED_OUT", ExecutionAborted: "ABORTED" };

/** Returns the event's <x>EventDetails object, or {}. */
export function detailsOf(event) {
  for (const [key, value] of Object.entries(event)) if (key.endsWith("EventDetails")) return value || {};
  return {};
}

export class History {
  constructor(pointersByName) {
    this.pointers = pointersByName;   // state name -> pointer
    this.events = [];
    this.byId = new Map();
    this.runOf = new Map();     // event id -> run
    this.iterOf = new Map();    // event id -> iteration label ("" at the top)
    this.runs = [];
    this.iterations = new Set();
    this.start = null;
    this.end = null;
    this.endStatus = null;
  }

  /** Adds events (any order, duplicates ignored); returns how many were new. */
  add(events) {
    const fresh = events.filter((e) => e && Number.isInteger(e.id) && !this.byId.has(e.id)).sort((a, b) => a.id - b.id);
    for (const event of fresh) {
      if (this.events.length && event.id < this.events[this.events.length - 1].id) {
        // Out of order (should not happen): rebuild from scratch in id order.
        const all = [...this.events, ...fresh.filter((e) => !this.byId.has(e.id))].sort((a, b) => a.id - b.id);
        this.reset();
        all.forEach((e) => this.apply(e));
        return fresh.length;
      }
      this.apply(event);
    }
    return fresh.length;
  }

  reset() {
    const pointers = this.pointers;
    Object.assign(this, new History(pointers));
  }

  apply(event) {
    this.events.push(event);
    this.byId.set(event.id, event);
    const time = Date.parse(event.timestamp);
    event.at = time;
    if (event.type === "ExecutionStarted") this.start = time;
    if (EXECUTION_END[event.type]) { this.end = time; this.endStatus = EXECUTION_END[event.type]; this.finishRuns(event); }
    const prev = this.byId.get(event.previousEventId);
    let iter = this.iterOf.get(event.previousEventId) ?? "";
    if (event.type.endsWith("StateEntered")) {
      if (prev && prev.type === "MapIterationStarted") {
        const d = detailsOf(prev);
        iter = `${iter ? iter + " › " : ""}${d.name} #${d.index}`;
      }
      const d = detailsOf(event);
      const parent = prev ? this.runOf.get(prev.id) : null;
      const pointer = this.pointers.get(d.name) ?? null;
      const branch = pointer && /\/Branches\/(\d+)\//.exec(pointer);
      if (branch && parent && parent.type === "Parallel" && !iter.endsWith(`branch ${Number(branch[1]) + 1}`)) {
        iter = `${iter ? iter + " › " : ""}${parent.name} branch ${Number(branch[1]) + 1}`;
      }
      const run = { id: event.id, name: d.name, pointer, type: event.type.replace("StateEntered", ""), iteration: iter,
        input: d.input, output: null, error: null, cause: null, status: "running", start: time, end: null,
        attempts: [], events: [event], failed: false };
      this.runs.push(run);
      this.runOf.set(event.id, run);
      if (iter) this.iterations.add(iter);
    } else {
      const run = prev ? this.runOf.get(prev.id) : null;
      if (run && !(run.end !== null && event.type.startsWith("Map") && event.type !== "MapStateSucceeded")) {
        this.runOf.set(event.id, run);
        this.note(run, event, time);
      } else if (run) {
        this.runOf.set(event.id, run);
        run.events.push(event);
      }
    }
    this.iterOf.set(event.id, iter);
  }

  note(run, event, time) {
    run.events.push(event);
    const d = detailsOf(event);
    if (SCHEDULED.has(event.type)) {
      run.attempts.push({ start: time, end: null, status: "running", resource: d.resource, error: null, cause: null, output: null });
    } else if (SUCCESS.has(event.type) || FAILURE.has(event.type)) {
      const attempt = run.attempts[run.attempts.length - 1];
      if (attempt && attempt.end === null) {
        attempt.end = time;
        attempt.status = SUCCESS.has(event.type) ? "succeeded" : "failed";
        attempt.error = d.error ?? null;
        attempt.cause = d.cause ?? null;
        attempt.output = d.output ?? null;
      }
      if (FAILURE.has(event.type)) { run.failed = true; run.error = d.error ?? run.error; run.cause = d.cause ?? run.cause; }
      else run.failed = false;
    } else if (event.type.endsWith("StateExited")) {
      run.output = d.output;
      run.end = time;
      run.status = run.failed ? "caught" : "succeeded";
    }
  }

  finishRuns(event) {
    const d = detailsOf(event);
    const status = event.type === "ExecutionAborted" ? "cancelled" : event.type === "ExecutionSucceeded" ? "succeeded" : "failed";
    for (const run of this.runs) {
      if (run.end !== null) continue;
      run.end = Date.parse(event.timestamp);
      run.status = status;
      if (status === "failed") { run.error = run.error ?? d.error ?? null; run.cause = run.cause ?? d.cause ?? null; }
      for (const a of run.attempts) if (a.end === null) { a.end = run.end; a.status = status; }
    }
  }

  /** Returns pointer -> status for the graph (runs in `iteration` and below, "" for all). */
  statuses(iteration = "") {
    const rank = { running: 5, failed: 4, cancelled: 3, caught: 2, succeeded: 1 };
    const out = new Map();
    for (const run of this.runs) {
      if (!run.pointer || (iteration && !run.iteration.startsWith(iteration))) continue;
      const had = out.get(run.pointer);
      if (!had || rank[run.status] > rank[had]) out.set(run.pointer, run.status);
    }
    return out;
  }

  /** Returns the run an event belongs to, or null. */
  runFor(event) {
    return this.runOf.get(event.id) ?? null;
  }
}

// Runs benchmark workloads through the npm package aws-local-stepfunctions and prints one JSON
// document with the figures. Called by bench/asl.py:
//
//   node run.mjs <install prefix> <job.json>
//
// job.json: {"budget": seconds, "min_runs": n, "task_handler": "<path of train.mjs>",
//            "workloads": [{"key", "definition", "input", "expected_output", "alt_cases",
//                           "transitions", "local_task_handler": bool}]}
//
// For each workload: the StateMachine is built once, each expected output is checked (main input
// and alt cases, untimed; one run of the main input is the warm-up), then executions run one after
// the other until `budget` seconds have passed (at least `min_runs`). The package keeps every
// execution's events in its own in-memory event log whether or not anyone reads it, so its
// history is always recorded. With `local_task_handler`, every Task state is overridden by the
// package's `taskResourceLocalHandlers` with the train.mjs handler, called in-process.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { performance } from "node:perf_hooks";

// The package uses Promise.withResolvers (Node 22+); Node 20 lacks it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const [prefix, jobPath] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobPath, "utf8"));
const require = createRequire(join(prefix, "package.json"));
const { StateMachine } = require("aws-local-stepfunctions");
const { handler: trainHandler } = await import(pathToFileURL(job.task_handler).href);

function taskStateNames(definition, names = []) {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === "Task") names.push(name);
    for (const branch of state.Branches ?? []) taskStateNames(branch, names);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) taskStateNames(processor, names);
  }
  return names;
}

async function measure(workload) {
  const machine = new StateMachine(workload.definition);
  const options = {};
  if (workload.local_task_handler) {
    const handlers = {};
    for (const name of taskStateNames(workload.definition)) {
      handlers[name] = (input) => trainHandler(input, {});
    }
    options.overrides = { taskResourceLocalHandlers: handlers };
  }
  const run = (input) => machine.run(input, options).result;

  const checks = [{ input: workload.input, expected_output: workload.expected_output },
                  ...(workload.alt_cases ?? [])];
  for (const [index, check] of checks.entries()) {
    const output = await run(check.input);
    if (!isDeepStrictEqual(output, check.expected_output)) {
      return { key: workload.key, error: `output of ${index ? `alt case ${index}` : "the main input"} differs from expected_output: ${JSON.stringify(output).slice(0, 300)}` };
    }
  }

  let executions = 0;
  const started = performance.now();
  let elapsed = 0;
  while (executions < job.min_runs || elapsed < job.budget) {
    await run(workload.input);
    executions += 1;
    elapsed = (performance.now() - started) / 1000;
  }
  return { key: workload.key, executions, seconds: elapsed, transitions: workload.transitions };
}

const results = [];
for (const workload of job.workloads) {
  try {
    results.push(await measure(workload));
  } catch (error) {
    results.push({ key: workload.key, error: String(error?.stack ?? error).slice(0, 1000) });
  }
}
process.stdout.write(JSON.stringify({ engine: "aws-local-stepfunctions", node: process.version, results }) + "\n");

// Runs benchmark workloads through the npm package aws-local-stepfunctions for bench/asl.py.
//
//   node run.mjs <install prefix> [<path of train.mjs>]
//
// Reads one JSON command per line on stdin and answers each with one JSON line on stdout:
//   {"op": "prepare", "key", "definition", "input", "expected_output", "alt_cases",
//    "transitions", "local_task_handler"}
//       builds the StateMachine once and checks every expected output (main input and alt cases,
//       untimed; the first check is the warm-up) -> {"key", "ok": true} or {"key", "error"}
//   {"op": "time", "key", "budget", "min_runs", "in_flight"}
//       runs the prepared workload's input in `in_flight` chains at once (default 1), each one
//       execution after the other, until `budget` seconds have passed (each at least `min_runs`),
//       timed until the last chain ends -> {"key", "executions", "seconds", "transitions"}.
//       With more than one chain, a first untimed round of one execution per chain warms up.
//
// The package keeps every execution's events in its own in-memory event log whether or not anyone
// reads it, so its history is always recorded. With `local_task_handler`, every Task state is
// overridden by the package's `taskResourceLocalHandlers` option with train.mjs's handler, called
// in-process.
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

// The package uses Promise.withResolvers (Node 22+); Node 20 lacks it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const [prefix, taskHandlerPath] = process.argv.slice(2);
const require = createRequire(join(prefix, "package.json"));
const { StateMachine } = require("aws-local-stepfunctions");
const trainHandler = taskHandlerPath
  ? (await import(pathToFileURL(taskHandlerPath).href)).handler : null;
const prepared = new Map();

function taskStateNames(definition, names = []) {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === "Task") names.push(name);
    for (const branch of state.Branches ?? []) taskStateNames(branch, names);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) taskStateNames(processor, names);
  }
  return names;
}

async function prepare(command) {
  const machine = new StateMachine(command.definition);
  const options = {};
  if (command.local_task_handler) {
    const handlers = {};
    for (const name of taskStateNames(command.definition)) {
      handlers[name] = (input) => trainHandler(input, {});
    }
    options.overrides = { taskResourceLocalHandlers: handlers };
  }
  const run = (input) => machine.run(input, options).result;
  const checks = [{ input: command.input, expected_output: command.expected_output },
                  ...(command.alt_cases ?? [])];
  for (const [index, check] of checks.entries()) {
    const output = await run(check.input);
    if (!isDeepStrictEqual(output, check.expected_output)) {
      const which = index ? `alt case ${index}` : "the main input";
      throw new Error(`output of ${which} differs from expected_output: ${JSON.stringify(output).slice(0, 300)}`);
    }
  }
  prepared.set(command.key, { run, input: command.input, transitions: command.transitions });
  return { key: command.key, ok: true };
}

async function time(command) {
  const { run, input, transitions } = prepared.get(command.key);
  const inFlight = command.in_flight ?? 1;
  let executions = 0;
  const chain = async (started, budget, minRuns) => {
    for (let done = 0; done < minRuns || (performance.now() - started) / 1000 < budget; done++) {
      await run(input);
      executions += 1;
    }
  };
  const chains = (budget, minRuns) => {
    const started = performance.now();
    return Promise.all(Array.from({ length: inFlight }, () => chain(started, budget, minRuns)))
      .then(() => (performance.now() - started) / 1000);
  };
  if (inFlight > 1) {
    await chains(0, 1);   // untimed, as Flowbench's first batch in flight
    executions = 0;
  }
  const seconds = await chains(command.budget, command.min_runs);
  return { key: command.key, executions, seconds, transitions };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  let answer;
  try {
    answer = command.op === "prepare" ? await prepare(command) : await time(command);
  } catch (error) {
    answer = { key: command.key, error: String(error?.stack ?? error).slice(0, 1000) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}

// The state machine definition as the Design mode edits it: pure functions that take a definition
// (a plain ASL object) and return a new one, never changing their argument, plus an undo history.
// States are named by JSON pointers, as the graph names them: `/States/Foo`,
// `/States/P/Branches/0/States/A`, `/States/M/ItemProcessor/States/B`.

export const STATE_TYPES = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"];
// States that end a chain of Next transitions (a Choice branches instead).
export const NO_NEXT_TYPES = new Set(["Succeed", "Fail", "Choice"]);
export const NAME_MAX = 80;

// Choice rule operators (JSONPath mode), [{name, kind, base?}] in the order a list shows them: the
// engine's table (runtime/asl/choice_operators.py), which the machine page carries as JSON and
// hands to setOperators. `kind` is what the rule's value is: string, number, boolean, timestamp,
// path (a ...Path variant of `base`) or test (an Is... test, a boolean).
export let OPERATORS = [];
let operatorNames = new Set();

/** Makes `table` (the engine's operators, as the page carries them) the model's operators. */
export function setOperators(table) {
  OPERATORS = table.map(({ name, kind, base }) => Object.freeze({ name, kind, ...(base ? { base } : {}) }));
  operatorNames = new Set(OPERATORS.map((o) => o.name));
}

export class ModelError extends Error {
  constructor(message, field = null) {
    super(message);
    this.field = field;
  }
}

// ---- pointers ---------------------------------------------------------------------------------
// The page's one JSON pointer helper (json-positions.js uses it too), as runtime/json_pointer.py
// is the server's.

/** Returns the tokens of a JSON pointer (`/a/b~1c` -> ["a", "b/c"]). */
export function tokens(pointer) {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Returns the JSON pointer of `parts` appended to `base`. */
export function pointer(base, ...parts) {
  return base + parts.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** Returns the value at `ptr` in `value`, or undefined. */
export function getAt(value, ptr) {
  let node = value;
  for (const token of tokens(ptr)) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[token];
  }
  return node;
}

/** Splits a state pointer into the pointer of its machine (the object with States) and its name. */
export function splitState(ptr) {
  const parts = tokens(ptr);
  if (parts.length < 2 || parts[parts.length - 2] !== "States") throw new ModelError(`${ptr} is not a state`);
  const name = parts[parts.length - 1];
  return { machine: pointer("", ...parts.slice(0, -2)), name };
}

function clone(value) {
  return structuredClone(value);
}

function machineOf(definition, machinePtr) {
  const machine = getAt(definition, machinePtr);
  if (!machine || typeof machine !== "object") throw new ModelError(`No machine at ${machinePtr || "the top"}`);
  if (!machine.States || typeof machine.States !== "object") machine.States = {};
  return machine;
}

// ---- reading ----------------------------------------------------------------------------------

/** Returns the machines nested in a state (Parallel branches, a Map's processor) as pointers. */
export function innerMachines(state, statePtr) {
  if (!state || typeof state !== "object") return [];
  if (state.Type === "Parallel" && Array.isArray(state.Branches)) {
    return state.Branches.map((_, i) => pointer(statePtr, "Branches", i));
  }
  if (state.Type === "Map") {
    const field = state.ItemProcessor || !state.Iterator ? "ItemProcessor" : "Iterator";
    if (state[field] && typeof state[field] === "object") return [pointer(statePtr, field)];
  }
  return [];
}

/** Returns every state of the definition, depth first: [{name, pointer, state, machine, depth}]. */
export function allStates(definition, machinePtr = "", depth = 0) {
  const machine = getAt(definition, machinePtr);
  const out = [];
  if (!machine || typeof machine.States !== "object" || machine.States === null) return out;
  for (const [name, state] of Object.entries(machine.States)) {
    const ptr = pointer(machinePtr, "States", name);
    out.push({ name, pointer: ptr, state, machine: machinePtr, depth });
    for (const inner of innerMachines(state, ptr)) out.push(...allStates(definition, inner, depth + 1));
  }
  return out;
}

/** Returns the names of the states in the machine at `machinePtr` (transition targets). */
export function stateNames(definition, machinePtr) {
  const machine = getAt(definition, machinePtr);
  return machine && machine.States && typeof machine.States === "object" ? Object.keys(machine.States) : [];
}

/** Returns a pointer -> state name map of every state (used to read execution events). */
export function pointersByName(definition) {
  const map = new Map();
  for (const entry of allStates(definition)) if (!map.has(entry.name)) map.set(entry.name, entry.pointer);
  return map;
}

/** Returns where a state's transitions go: [{kind, label, target, path}] (path: field pointer). */
export function transitionsOf(state, statePtr) {
  const out = [];
  if (!state || typeof state !== "object") return out;
  if (state.Type === "Choice") {
    (Array.isArray(state.Choices) ? state.Choices : []).forEach((rule, i) => {
      if (rule && typeof rule.Next === "string") out.push({ kind: "choice", index: i, target: rule.Next, path: pointer(statePtr, "Choices", i, "Next") });
    });
    if (typeof state.Default === "string") out.push({ kind: "default", target: state.Default, path: pointer(statePtr, "Default") });
  } else if (typeof state.Next === "string") {
    out.push({ kind: "next", target: state.Next, path: pointer(statePtr, "Next") });
  }
  (Array.isArray(state.Catch) ? state.Catch : []).forEach((c, i) => {
    if (c && typeof c.Next === "string") out.push({ kind: "catch", index: i, target: c.Next, path: pointer(statePtr, "Catch", i, "Next") });
  });
  return out;
}

/** Returns who points at the state: [{from (pointer or "StartAt"), kind}]. */
export function referencesTo(definition, statePtr) {
  const { machine, name } = splitState(statePtr);
  const m = getAt(definition, machine);
  const out = [];
  if (!m) return out;
  if (m.StartAt === name) out.push({ from: "StartAt", kind: "start" });
  for (const [other, state] of Object.entries(m.States || {})) {
    for (const t of transitionsOf(state, pointer(machine, "States", other))) {
      if (t.target === name) out.push({ from: pointer(machine, "States", other), kind: t.kind });
    }
  }
  return out;
}

/** Returns a name for a new state not used anywhere in the definition: "Pass", "Pass (1)", ... */
export function uniqueName(definition, base) {
  const used = new Set(allStates(definition).map((s) => s.name));
  if (!used.has(base)) return base;
  for (let i = 1; ; i++) if (!used.has(`${base} (${i})`)) return `${base} (${i})`;
}

// ---- new states -------------------------------------------------------------------------------

/** Returns a new state of `type` with what it needs to be valid; `reserve(base)` hands out free
 * names for the states inside Parallel branches and Map processors. */
export function newState(type, { reserve = () => "Pass", next = null } = {}) {
  if (!STATE_TYPES.includes(type)) throw new ModelError(`Unknown state type ${type}`);
  const state = { Type: type };
  switch (type) {
    case "Task":
      state.Resource = "";
      break;
    case "Wait":
      state.Seconds = 5;
      break;
    case "Fail":
      state.Error = "Failed";
      state.Cause = "";
      break;
    case "Choice":
      state.Choices = [{ Variable: "$.value", StringEquals: "", Next: next || "" }];
      if (next) state.Default = next;
      return state;
    case "Parallel": {
      const a = reserve("Pass");
      const b = reserve("Pass");
      state.Branches = [
        { StartAt: a, States: { [a]: { Type: "Pass", End: true } } },
        { StartAt: b, States: { [b]: { Type: "Pass", End: true } } },
      ];
      break;
    }
    case "Map": {
      const a = reserve("Pass");
      state.ItemProcessor = { ProcessorConfig: { Mode: "INLINE" }, StartAt: a, States: { [a]: { Type: "Pass", End: true } } };
      break;
    }
    default:
      break;
  }
  if (type === "Succeed" || type === "Fail") return state;
  if (next) state.Next = next;
  else state.End = true;
  return state;
}

function insertKeyAfter(object, afterKey, key, value) {
  const entries = Object.entries(object);
  const at = afterKey === null ? entries.length : entries.findIndex(([k]) => k === afterKey) + 1;
  entries.splice(at <= 0 ? entries.length : at, 0, [key, value]);
  for (const k of Object.keys(object)) delete object[k];
  for (const [k, v] of entries) object[k] = v;
}

/**
 * Adds a state of `type`. With `after` (a state pointer) it goes between that state and where it
 * went (its Next, or a Choice's Default); without it, into the machine at `machine` (default the
 * top), after the states that end it. Returns {definition, pointer}.
 */
export function addState(definition, { type, after = null, machine = null, name = null, fields = {} }) {
  const def = clone(definition);
  const machinePtr = after ? splitState(after).machine : (machine ?? "");
  const m = machineOf(def, machinePtr);
  const reserved = new Set();
  // uniqueName looks at the definition only; names handed out here stay distinct too.
  const reserve = (base) => {
    let candidate = uniqueName(def, base);
    for (let i = 1; reserved.has(candidate) || candidate === name; i++) candidate = uniqueName(def, `${base} (${i})`);
    reserved.add(candidate);
    return candidate;
  };
  const newName = name ?? reserve(type);
  if (!name) reserved.add(newName);
  checkName(def, newName);
  let afterName = null;
  let next = null;
  if (after) {
    afterName = splitState(after).name;
    const prev = m.States[afterName];
    if (!prev) throw new ModelError(`No state at ${after}`);
    if (prev.Type === "Choice") {
      next = typeof prev.Default === "string" ? prev.Default : null;
      prev.Default = newName;
    } else if (prev.Type === "Succeed" || prev.Type === "Fail") {
      throw new ModelError(`${afterName} ends the execution: nothing can follow it.`);
    } else {
      next = typeof prev.Next === "string" ? prev.Next : null;
      delete prev.End;
      prev.Next = newName;
    }
  } else {
    const names = Object.keys(m.States);
    if (!names.length || !m.StartAt || !(m.StartAt in m.States)) {
      if (!names.length) m.StartAt = newName;
    } else {
      // Follow the chain from StartAt to the state that ends it, and continue from there.
      const last = chainEnd(m);
      if (last) {
        afterName = last;
        delete m.States[last].End;
        m.States[last].Next = newName;
      }
    }
  }
  const state = { ...newState(type, { reserve, next }), ...fields };
  insertKeyAfter(m.States, afterName, newName, state);
  return { definition: def, pointer: pointer(machinePtr, "States", newName) };
}

export const TRANSITION_KINDS = ["next", "choice", "default", "catch"];

/** Returns the object holding a transition's target and the field naming it, or throws. */
function transitionSlot(state, kind, index) {
  const at = (list, what) => {
    if (!Number.isInteger(index) || !Array.isArray(list) || !list[index] || typeof list[index] !== "object") {
      throw new ModelError(`No ${what} ${index}`);
    }
    return { holder: list[index], field: "Next" };
  };
  switch (kind) {
    case "next": return { holder: state, field: "Next" };
    case "choice":
      if (state.Type !== "Choice") throw new ModelError("Only a Choice state has rules.");
      return at(state.Choices, "Choice rule");
    case "default":
      if (state.Type !== "Choice") throw new ModelError("Only a Choice state has a Default.");
      return { holder: state, field: "Default" };
    case "catch": return at(state.Catch, "Catch");
    default: throw new ModelError(`Unknown transition ${kind}`);
  }
}

/**
 * Inserts a new state of `type` on one transition of the state at `fromPointer`: its Next
 * (`kind` "next"), Choice rule `index`'s Next ("choice"), its Default ("default") or Catch
 * `index`'s Next ("catch"), the ids runtime/asl/graph.py gives edges. The new, uniquely named state goes where
 * the transition went (a Succeed or Fail ends there instead); exactly that transition now names it.
 * Returns {definition, pointer} of the new state.
 */
export function insertOnTransition(definition, fromPointer, kind, index, type) {
  const def = clone(definition);
  const { machine: machinePtr, name: fromName } = splitState(fromPointer);
  const m = machineOf(def, machinePtr);
  const from = m.States[fromName];
  if (!from || typeof from !== "object") throw new ModelError(`No state at ${fromPointer}`);
  const { holder, field } = transitionSlot(from, kind, index);
  const target = holder[field];
  if (typeof target !== "string") throw new ModelError(`${fromName} has no such transition.`);
  const reserved = new Set();
  const reserve = (base) => {
    let candidate = uniqueName(def, base);
    for (let i = 1; reserved.has(candidate); i++) candidate = uniqueName(def, `${base} (${i})`);
    reserved.add(candidate);
    return candidate;
  };
  const newName = reserve(type);
  const state = newState(type, { reserve, next: target });
  holder[field] = newName;
  insertKeyAfter(m.States, fromName, newName, state);
  return { definition: def, pointer: pointer(machinePtr, "States", newName) };
}

function chainEnd(machine) {
  const seen = new Set();
  let name = machine.StartAt;
  let last = null;
  while (typeof name === "string" && name in machine.States && !seen.has(name)) {
    seen.add(name);
    const state = machine.States[name];
    // A chain that ends in Succeed, Fail or a Choice has no end to continue from.
    if (NO_NEXT_TYPES.has(state.Type)) return null;
    last = name;
    if (state.End === true || typeof state.Next !== "string") return name;
    name = state.Next;
  }
  return last;
}

// ---- changing states --------------------------------------------------------------------------

function checkName(definition, name, except = null) {
  if (typeof name !== "string" || !name.trim()) throw new ModelError("A state needs a name.", "name");
  if (name.length > NAME_MAX) throw new ModelError(`A state name has at most ${NAME_MAX} characters.`, "name");
  // As the validator: AWS refuses control characters in the names its events carry.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new ModelError("A state name cannot hold control characters.", "name");
  if (name !== except && allStates(definition).some((s) => s.name === name)) {
    throw new ModelError(`A state called ${name} already exists.`, "name");
  }
}

/** Renames a state; StartAt, Next, Default, Choice rules and Catch targets follow. */
export function renameState(definition, statePtr, newName) {
  const { machine, name } = splitState(statePtr);
  if (newName === name) return { definition, pointer: statePtr };
  checkName(definition, newName, name);
  const def = clone(definition);
  const m = machineOf(def, machine);
  if (!(name in m.States)) throw new ModelError(`No state at ${statePtr}`);
  const entries = Object.entries(m.States).map(([k, v]) => [k === name ? newName : k, v]);
  m.States = Object.fromEntries(entries);
  if (m.StartAt === name) m.StartAt = newName;
  for (const state of Object.values(m.States)) retarget(state, name, () => newName);
  return { definition: def, pointer: pointer(machine, "States", newName) };
}

// Calls `to(kind)` for each transition of `state` that goes to `from`; undefined removes it.
function retarget(state, from, to) {
  if (!state || typeof state !== "object") return;
  if (state.Next === from) {
    const target = to("next");
    if (target === undefined) { delete state.Next; state.End = true; } else state.Next = target;
  }
  if (state.Type === "Choice") {
    if (state.Default === from) {
      const target = to("default");
      if (target === undefined) delete state.Default; else state.Default = target;
    }
    if (Array.isArray(state.Choices)) {
      state.Choices = state.Choices.filter((rule) => {
        if (!rule || rule.Next !== from) return true;
        const target = to("choice");
        if (target === undefined) return false;
        rule.Next = target;
        return true;
      });
    }
  }
  if (Array.isArray(state.Catch)) {
    state.Catch = state.Catch.filter((c) => {
      if (!c || c.Next !== from) return true;
      const target = to("catch");
      if (target === undefined) return false;
      c.Next = target;
      return true;
    });
    if (!state.Catch.length) delete state.Catch;
  }
}

/** Deletes a state; whatever went to it goes where it went (its Next), or ends there. */
export function deleteState(definition, statePtr) {
  const { machine, name } = splitState(statePtr);
  const def = clone(definition);
  const m = machineOf(def, machine);
  const gone = m.States[name];
  if (!gone) throw new ModelError(`No state at ${statePtr}`);
  const follow = gone.Type !== "Choice" && typeof gone.Next === "string" && gone.Next !== name ? gone.Next : undefined;
  delete m.States[name];
  for (const state of Object.values(m.States)) {
    retarget(state, name, (kind) => (follow === undefined && kind === "next" ? undefined : follow));
  }
  if (m.StartAt === name) m.StartAt = follow ?? Object.keys(m.States)[0] ?? "";
  return def;
}

/** Makes the state the one its machine starts at. */
export function setStart(definition, statePtr) {
  const { machine, name } = splitState(statePtr);
  const def = clone(definition);
  const m = machineOf(def, machine);
  if (!(name in m.States)) throw new ModelError(`No state at ${statePtr}`);
  m.StartAt = name;
  return def;
}

/** Sets where a (non-Choice) state goes next: a state name, or null to end there. */
export function setNext(definition, statePtr, next) {
  return updateState(definition, statePtr, (state) => {
    delete state.Next;
    delete state.End;
    if (next) state.Next = next;
    else if (state.Type !== "Succeed" && state.Type !== "Fail") state.End = true;
  });
}

/** Returns a copy of the definition where `change(state)` has edited the state at `statePtr`. */
export function updateState(definition, statePtr, change) {
  const def = clone(definition);
  const state = getAt(def, statePtr);
  if (!state || typeof state !== "object") throw new ModelError(`No state at ${statePtr}`);
  change(state);
  return def;
}

/** Sets (or with undefined / "" removes) one field of a state. */
export function setField(definition, statePtr, field, value) {
  return updateState(definition, statePtr, (state) => {
    if (value === undefined || value === "") delete state[field];
    else state[field] = value;
  });
}

/** Changes a state's type, keeping its name, transition and the fields both types share. */
export function changeType(definition, statePtr, type) {
  const old = getAt(definition, statePtr);
  const { machine } = splitState(statePtr);
  const keep = ["Comment", "InputPath", "OutputPath", "QueryLanguage"];
  const next = typeof old.Next === "string" ? old.Next : null;
  const def = clone(definition);
  const reserve = (base) => uniqueName(def, base);
  const fresh = newState(type, { reserve, next });
  for (const field of keep) if (field in old) fresh[field] = old[field];
  getAt(def, pointer(machine, "States"))[splitState(statePtr).name] = fresh;
  return def;
}

/** Adds a Parallel branch holding one Pass state; returns {definition, pointer of that state}. */
export function addBranch(definition, parallelPtr) {
  const def = clone(definition);
  const state = getAt(def, parallelPtr);
  if (!state || state.Type !== "Parallel") throw new ModelError("Branches belong to Parallel states.");
  const name = uniqueName(def, "Pass");
  state.Branches = Array.isArray(state.Branches) ? state.Branches : [];
  state.Branches.push({ StartAt: name, States: { [name]: { Type: "Pass", End: true } } });
  return { definition: def, pointer: pointer(parallelPtr, "Branches", state.Branches.length - 1, "States", name) };
}

/** Removes Parallel branch `index` (a Parallel keeps at least one). */
export function removeBranch(definition, parallelPtr, index) {
  return updateState(definition, parallelPtr, (state) => {
    if (!Array.isArray(state.Branches) || state.Branches.length <= 1) throw new ModelError("A Parallel state needs at least one branch.");
    state.Branches.splice(index, 1);
  });
}

// ---- Choice rules -----------------------------------------------------------------------------

/** Returns the operator a simple rule uses ({name, kind}), or null for And/Or/Not/JSONata. */
export function ruleOperator(rule) {
  if (!rule || typeof rule !== "object") return null;
  const name = Object.keys(rule).find((k) => operatorNames.has(k));
  return name ? OPERATORS.find((o) => o.name === name) : null;
}

/** Returns a simple rule {Variable, <operator>: value} (Next kept by the caller). */
export function simpleRule(variable, operatorName, value) {
  const op = OPERATORS.find((o) => o.name === operatorName);
  if (!op) throw new ModelError(`Unknown operator ${operatorName}`);
  return { Variable: variable, [operatorName]: coerce(op.kind, value) };
}

/** Returns `text` as the value an operator of `kind` compares with. */
export function coerce(kind, text) {
  if (kind === "number") {
    const n = Number(text);
    return text === "" || Number.isNaN(n) ? text : n;
  }
  if (kind === "boolean" || kind === "test") return text === true || text === "true";
  return text ?? "";
}

/** Returns a short reading of a rule: `$.type == "공격수"`, `And(…)`, `Not(…)`. */
export function ruleText(rule) {
  if (!rule || typeof rule !== "object") return "rule";
  if (typeof rule.Condition === "string") return rule.Condition.replace(/^\{%\s*|\s*%\}$/g, "");
  for (const c of ["And", "Or"]) if (Array.isArray(rule[c])) return `${c}(${rule[c].map(ruleText).join(", ")})`;
  if (rule.Not) return `Not(${ruleText(rule.Not)})`;
  const op = ruleOperator(rule);
  if (!op) return "rule";
  const value = rule[op.name];
  if (op.kind === "test") return `${rule.Variable} ${op.name}${value === false ? " = false" : ""}`;
  return `${rule.Variable} ${op.name} ${op.kind === "path" ? value : JSON.stringify(value)}`;
}

// ---- undo / redo ------------------------------------------------------------------------------

/** An undo history of definitions (kept as JSON text, so entries can never change). */
export class History {
  constructor(initial, limit = 200) {
    this.entries = [JSON.stringify(initial)];
    this.labels = ["open"];
    this.index = 0;
    this.limit = limit;
  }

  get current() {
    return JSON.parse(this.entries[this.index]);
  }

  get canUndo() {
    return this.index > 0;
  }

  get canRedo() {
    return this.index < this.entries.length - 1;
  }

  /** Records a new definition (dropping what could be redone); an unchanged one is not recorded. */
  push(definition, label = "edit") {
    const text = JSON.stringify(definition);
    if (text === this.entries[this.index]) return false;
    this.entries.splice(this.index + 1);
    this.labels.splice(this.index + 1);
    this.entries.push(text);
    this.labels.push(label);
    if (this.entries.length > this.limit) {
      this.entries.shift();
      this.labels.shift();
    }
    this.index = this.entries.length - 1;
    return true;
  }

  undo() {
    if (this.canUndo) this.index -= 1;
    return this.current;
  }

  redo() {
    if (this.canRedo) this.index += 1;
    return this.current;
  }

  /** The label of what undo would take back, or null. */
  get undoLabel() {
    return this.canUndo ? this.labels[this.index] : null;
  }

  get redoLabel() {
    return this.canRedo ? this.labels[this.index + 1] : null;
  }
}

/** Returns the Lambda function ARN for `name` in `account` and `region`. */
export function lambdaArn(name, account, region = "us-east-1") {
  return `arn:aws:lambda:${region}:${account}:function:${name}`;
}

/** Returns the function name of a Lambda ARN (or of a lambda:invoke Task), or null. */
export function functionOf(state) {
  if (!state || typeof state !== "object") return null;
  const match = (text) => (typeof text === "string" ? /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(text) : null);
  const direct = match(state.Resource);
  if (direct) return direct[1];
  const args = state.Arguments || state.Parameters;
  if (args && typeof args === "object") {
    const named = args.FunctionName ?? args["FunctionName.$"];
    const m = match(named);
    if (m) return m[1];
    if (typeof named === "string") return named;
  }
  return null;
}

// Unit tests of the Design mode's model (static/js/asl-model.js) and the position-tracking JSON
// parser (static/js/json-positions.js). Run through tests/e2e/test_asl_model.py, which hands them
// the engine's Choice operators (CHOICE_OPERATORS_JSON names a file holding them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as model from "../../static/js/asl-model.js";
import {
  addState, deleteState, renameState, setStart, setNext, setField, changeType, addBranch, removeBranch,
  referencesTo, allStates, uniqueName, History, simpleRule, ruleText, functionOf, lambdaArn,
  tokens, pointer, ModelError, insertOnTransition, setOperators,
} from "../../static/js/asl-model.js";
import { parseWithPositions, locate } from "../../static/js/json-positions.js";

assert.ok(process.env.CHOICE_OPERATORS_JSON, "run through tests/e2e/test_asl_model.py (CHOICE_OPERATORS_JSON)");
setOperators(JSON.parse(readFileSync(process.env.CHOICE_OPERATORS_JSON, "utf8")));

const empty = () => ({ StartAt: "", States: {} });

test("three states added after each other make Pass -> Wait -> Succeed", () => {
  let { definition: d, pointer: p } = addState(empty(), { type: "Pass" });
  assert.equal(d.StartAt, "Pass");
  ({ definition: d, pointer: p } = addState(d, { type: "Wait", after: p }));
  ({ definition: d } = addState(d, { type: "Succeed", after: p }));
  assert.deepEqual(d, {
    StartAt: "Pass",
    States: { Pass: { Type: "Pass", Next: "Wait" }, Wait: { Type: "Wait", Seconds: 5, Next: "Succeed" }, Succeed: { Type: "Succeed" } },
  });
});

test("adding between two states keeps the chain and never changes the argument", () => {
  const before = { StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Succeed" } } };
  const frozen = JSON.stringify(before);
  const { definition, pointer: p } = addState(before, { type: "Task", after: "/States/A" });
  assert.equal(JSON.stringify(before), frozen);
  assert.equal(p, "/States/Task");
  assert.equal(definition.States.A.Next, "Task");
  assert.equal(definition.States.Task.Next, "B");
  assert.deepEqual(Object.keys(definition.States), ["A", "Task", "B"]);
});

test("without a selection a state continues the chain from its end", () => {
  const d = { StartAt: "A", States: { A: { Type: "Pass", End: true } } };
  const { definition } = addState(d, { type: "Pass" });
  assert.equal(definition.States.A.Next, "Pass");
  assert.equal(definition.States.A.End, undefined);
  assert.equal(definition.States.Pass.End, true);
});

test("nothing can follow a Succeed or Fail", () => {
  const d = { StartAt: "S", States: { S: { Type: "Succeed" } } };
  assert.throws(() => addState(d, { type: "Pass", after: "/States/S" }), ModelError);
});

test("a state added after a Choice becomes its Default and goes where the Default went", () => {
  const d = { StartAt: "C", States: { C: { Type: "Choice", Choices: [{ Variable: "$.a", IsPresent: true, Next: "X" }], Default: "X" }, X: { Type: "Succeed" } } };
  const { definition } = addState(d, { type: "Pass", after: "/States/C" });
  assert.equal(definition.States.C.Default, "Pass");
  assert.equal(definition.States.Pass.Next, "X");
});

test("parallel and map states get uniquely named inner states", () => {
  let { definition: d } = addState(empty(), { type: "Pass" });
  ({ definition: d } = addState(d, { type: "Parallel", after: "/States/Pass" }));
  const names = allStates(d).map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(d.States.Parallel.Branches.length, 2);
  ({ definition: d } = addState(d, { type: "Map", after: "/States/Parallel" }));
  assert.equal(d.States.Map.ItemProcessor.ProcessorConfig.Mode, "INLINE");
  const inner = addState(d, { type: "Wait", machine: "/States/Parallel/Branches/0" });
  const branch = inner.definition.States.Parallel.Branches[0];
  assert.equal(inner.pointer, "/States/Parallel/Branches/0/States/Wait");
  assert.equal(branch.States[branch.StartAt].Next, "Wait");
  const more = addBranch(inner.definition, "/States/Parallel");
  assert.equal(more.definition.States.Parallel.Branches.length, 3);
  assert.equal(removeBranch(more.definition, "/States/Parallel", 2).States.Parallel.Branches.length, 2);
});

test("renaming a state moves every reference to it", () => {
  const d = {
    StartAt: "훈련",
    States: {
      "훈련": { Type: "Choice", Choices: [{ Variable: "$.t", StringEquals: "공격수", Next: "공격 훈련" }, { Not: { Variable: "$.t", IsPresent: true }, Next: "끝" }], Default: "공격 훈련" },
      "공격 훈련": { Type: "Task", Resource: "arn:aws:lambda:us-east-1:1:function:f", Next: "끝", Catch: [{ ErrorEquals: ["States.ALL"], Next: "공격 훈련" }] },
      "끝": { Type: "Succeed" },
    },
  };
  const renamed = renameState(d, "/States/공격 훈련", "Attack").definition;
  assert.deepEqual(Object.keys(renamed.States), ["훈련", "Attack", "끝"]);
  assert.equal(renamed.States["훈련"].Choices[0].Next, "Attack");
  assert.equal(renamed.States["훈련"].Default, "Attack");
  assert.equal(renamed.States.Attack.Catch[0].Next, "Attack");
  const start = renameState(renamed, "/States/훈련", "Route").definition;
  assert.equal(start.StartAt, "Route");
  assert.throws(() => renameState(start, "/States/Route", "끝"), /already exists/);
  assert.throws(() => renameState(start, "/States/Route", " "), /needs a name/);
});

test("deleting a state reconnects what went to it with where it went", () => {
  const d = { StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Next: "C" }, C: { Type: "Succeed" } } };
  const out = deleteState(d, "/States/B");
  assert.equal(out.States.A.Next, "C");
  const start = deleteState(d, "/States/A");
  assert.equal(start.StartAt, "B");
  const tail = deleteState(d, "/States/C");
  assert.equal(tail.States.B.End, true);
  assert.equal(tail.States.B.Next, undefined);
});

test("deleting a Choice target drops the rule and the catcher that named it", () => {
  const d = { StartAt: "C", States: {
    C: { Type: "Choice", Choices: [{ Variable: "$.a", IsNull: true, Next: "X" }, { Variable: "$.a", IsString: true, Next: "Y" }], Default: "X" },
    X: { Type: "Succeed" }, Y: { Type: "Task", Resource: "r", End: true, Catch: [{ ErrorEquals: ["States.ALL"], Next: "X" }] } } };
  const out = deleteState(d, "/States/X");
  assert.deepEqual(out.States.C.Choices.map((r) => r.Next), ["Y"]);
  assert.equal(out.States.C.Default, undefined);
  assert.equal(out.States.Y.Catch, undefined);
});

test("set start, next and fields; references are listed", () => {
  let d = { StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", End: true } } };
  d = setStart(d, "/States/B");
  assert.equal(d.StartAt, "B");
  d = setNext(d, "/States/B", "A");
  assert.deepEqual(d.States.B, { Type: "Pass", Next: "A" });
  d = setNext(d, "/States/A", null);
  assert.deepEqual(d.States.A, { Type: "Pass", End: true });
  d = setField(d, "/States/A", "ResultPath", "$.r");
  assert.equal(d.States.A.ResultPath, "$.r");
  d = setField(d, "/States/A", "ResultPath", "");
  assert.equal("ResultPath" in d.States.A, false);
  assert.deepEqual(referencesTo(d, "/States/A"), [{ from: "/States/B", kind: "next" }]);
  d = changeType(d, "/States/B", "Wait");
  assert.deepEqual(d.States.B, { Type: "Wait", Seconds: 5, Next: "A" });
});

test("undo and redo walk the history; a new edit drops the redo", () => {
  const h = new History({ n: 0 });
  h.push({ n: 1 }, "one");
  h.push({ n: 2 }, "two");
  assert.equal(h.push({ n: 2 }), false);
  assert.deepEqual(h.undo(), { n: 1 });
  assert.equal(h.redoLabel, "two");
  assert.deepEqual(h.undo(), { n: 0 });
  assert.equal(h.canUndo, false);
  assert.deepEqual(h.redo(), { n: 1 });
  h.push({ n: 3 });
  assert.equal(h.canRedo, false);
  assert.deepEqual(h.current, { n: 3 });
  const current = h.current;
  current.n = 99;
  assert.deepEqual(h.current, { n: 3 });
});

test("choice rules: every operator, coerced values, readable text", () => {
  const { OPERATORS } = model;
  assert.ok(OPERATORS.some((o) => o.name === "IsTimestamp" && o.kind === "test"));
  assert.ok(OPERATORS.some((o) => o.name === "TimestampLessThanEqualsPath" && o.kind === "path"
    && o.base === "TimestampLessThanEquals"));
  assert.equal(OPERATORS.length, 3 * 10 + 1 + 2 + 6);
  assert.equal(OPERATORS[0].name, "StringEquals");
  assert.deepEqual(simpleRule("$.n", "NumericGreaterThan", "3"), { Variable: "$.n", NumericGreaterThan: 3 });
  assert.deepEqual(simpleRule("$.b", "BooleanEquals", "true"), { Variable: "$.b", BooleanEquals: true });
  assert.equal(ruleText({ And: [{ Variable: "$.a", IsPresent: true }, { Variable: "$.t", StringEquals: "수비수" }] }),
    'And($.a IsPresent, $.t StringEquals "수비수")');
  assert.equal(uniqueName({ States: { Pass: {}, "Pass (1)": {} } }, "Pass"), "Pass (2)");
});

test("pointers and Lambda ARNs", () => {
  assert.deepEqual(tokens("/States/a~1b/Branches/0"), ["States", "a/b", "Branches", "0"]);
  assert.equal(pointer("/States", "a/b", "c~"), "/States/a~1b/c~0");
  assert.equal(lambdaArn("attack-training", "123456789012"), "arn:aws:lambda:us-east-1:123456789012:function:attack-training");
  assert.equal(functionOf({ Resource: "arn:aws:lambda:us-east-1:1:function:f:3" }), "f");
  assert.equal(functionOf({ Resource: "arn:aws:states:::lambda:invoke", Arguments: { FunctionName: "arn:aws:lambda:us-east-1:1:function:g" } }), "g");
});

test("the parser finds pointers on their lines and reports errors with line and column", () => {
  const text = '{\n  "StartAt": "A",\n  "States": {\n    "A": {\n      "Type": "Pass",\n      "Next": "B"\n    }\n  }\n}';
  const parsed = parseWithPositions(text);
  assert.equal(parsed.error, null);
  assert.deepEqual(parsed.value, JSON.parse(text));
  assert.equal(locate(parsed, "/States/A/Next").line, 6);
  assert.equal(locate(parsed, "/States/A").line, 4);
  const missing = locate(parsed, "/States/A/Resource");
  assert.equal(missing.line, 4);
  assert.equal(missing.exact, false);
  const bad = parseWithPositions('{\n  "a": 1,\n  "b": \n}');
  assert.equal(bad.error.line, 4);
  assert.equal(bad.error.column, 1);
  assert.match(bad.error.message, /Unexpected '}'/);
  assert.equal(parseWithPositions('{"a": [1, 2,]}').error.message, "Trailing comma before ']'");
  assert.equal(parseWithPositions('{"키~/x": "값"}').spans.has("/키~0~1x"), true);
});

const choiceMachine = () => ({
  StartAt: "C",
  States: {
    C: { Type: "Choice", Choices: [{ Variable: "$.a", IsPresent: true, Next: "X" }, { Variable: "$.b", IsPresent: true, Next: "X" }], Default: "X" },
    X: { Type: "Task", Resource: "r", Catch: [{ ErrorEquals: ["A"], Next: "F" }, { ErrorEquals: ["B"], Next: "F" }], Next: "S" },
    Pass: { Type: "Pass", Next: "S" },
    S: { Type: "Succeed" },
    F: { Type: "Fail", Error: "E" },
  },
});

test("inserting on one Choice rule repoints only that rule, never changing the argument", () => {
  const before = choiceMachine();
  const frozen = JSON.stringify(before);
  const { definition: d, pointer: p } = insertOnTransition(before, "/States/C", "choice", 1, "Pass");
  assert.equal(JSON.stringify(before), frozen);
  assert.equal(p, "/States/Pass (1)");
  assert.deepEqual(d.States["Pass (1)"], { Type: "Pass", Next: "X" });
  assert.equal(d.States.C.Choices[0].Next, "X");
  assert.equal(d.States.C.Choices[1].Next, "Pass (1)");
  assert.equal(d.States.C.Default, "X");
  assert.deepEqual(Object.keys(d.States), ["C", "Pass (1)", "X", "Pass", "S", "F"]);
});

test("inserting on a Default, a Next and a Catch repoints exactly that transition", () => {
  let { definition: d } = insertOnTransition(choiceMachine(), "/States/C", "default", null, "Wait");
  assert.deepEqual(d.States.C.Choices.map((r) => r.Next), ["X", "X"]);
  assert.equal(d.States.C.Default, "Wait");
  assert.deepEqual(d.States.Wait, { Type: "Wait", Seconds: 5, Next: "X" });
  ({ definition: d } = insertOnTransition(choiceMachine(), "/States/X", "next", null, "Task"));
  assert.equal(d.States.X.Next, "Task");
  assert.deepEqual(d.States.X.Catch.map((c) => c.Next), ["F", "F"]);
  assert.deepEqual(d.States.Task, { Type: "Task", Resource: "", Next: "S" });
  ({ definition: d } = insertOnTransition(choiceMachine(), "/States/X", "catch", 1, "Pass"));
  assert.deepEqual(d.States.X.Catch.map((c) => c.Next), ["F", "Pass (1)"]);
  assert.equal(d.States.X.Next, "S");
  assert.equal(d.States["Pass (1)"].Next, "F");
});

test("a Choice inserted on an edge goes to the old target by rule and Default; Succeed ends there", () => {
  let { definition: d } = insertOnTransition(choiceMachine(), "/States/Pass", "next", null, "Choice");
  assert.equal(d.States.Pass.Next, "Choice");
  assert.equal(d.States.Choice.Default, "S");
  assert.equal(d.States.Choice.Choices[0].Next, "S");
  ({ definition: d } = insertOnTransition(choiceMachine(), "/States/X", "catch", 0, "Succeed"));
  assert.deepEqual(d.States.Succeed, { Type: "Succeed" });
  assert.equal(d.States.X.Catch[0].Next, "Succeed");
});

test("inside a Parallel branch the new state stays in that branch with a name unused anywhere", () => {
  const d0 = { StartAt: "P", States: { P: { Type: "Parallel", End: true, Branches: [
    { StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", End: true } } }] }, Pass: { Type: "Succeed" } } };
  const { definition: d, pointer: p } = insertOnTransition(d0, "/States/P/Branches/0/States/A", "next", null, "Pass");
  assert.equal(p, "/States/P/Branches/0/States/Pass (1)");
  const branch = d.States.P.Branches[0];
  assert.equal(branch.States.A.Next, "Pass (1)");
  assert.equal(branch.States["Pass (1)"].Next, "B");
  assert.equal(d.States.Pass.Type, "Succeed");
});

test("a transition that is not there is a ModelError; undo history takes the insert back", () => {
  const d0 = choiceMachine();
  assert.throws(() => insertOnTransition(d0, "/States/C", "choice", 5, "Pass"), ModelError);
  assert.throws(() => insertOnTransition(d0, "/States/C", "next", null, "Pass"), ModelError);
  assert.throws(() => insertOnTransition(d0, "/States/X", "default", null, "Pass"), ModelError);
  assert.throws(() => insertOnTransition(d0, "/States/Nope", "next", null, "Pass"), ModelError);
  assert.throws(() => insertOnTransition(d0, "/States/X", "retry", 0, "Pass"), ModelError);
  const history = new History(d0);
  history.push(insertOnTransition(d0, "/States/C", "choice", 0, "Pass").definition, "insert Pass");
  assert.deepEqual(history.undo(), d0);
  assert.equal(history.redo().States.C.Choices[0].Next, "Pass (1)");
});

test("json-positions names a key holding ~ and / by the model's own pointer", () => {
  const parsed = parseWithPositions('{"States": {"a/b~c": {"Type": "Pass"}}}');
  const ptr = pointer("/States", "a/b~c");
  assert.equal(ptr, "/States/a~1b~0c");
  assert.ok(parsed.spans.has(ptr));
  assert.deepEqual(tokens(ptr), ["States", "a/b~c"]);
  assert.equal(locate(parsed, `${ptr}/Type`).exact, true);
});

test("a state name cannot hold control characters", () => {
  const d = { StartAt: "A", States: { A: { Type: "Pass", End: true } } };
  assert.throws(() => renameState(d, "/States/A", "A\u0000B"), ModelError);
  assert.throws(() => addState(d, { type: "Pass", name: "tab\there" }), ModelError);
  assert.equal(renameState(d, "/States/A", "공격 훈련").pointer, "/States/공격 훈련");
});

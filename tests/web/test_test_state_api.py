"""The machine editor's TestState endpoint: one state of the draft (or of the editor's text) run on
its own with each step shown, mocks, the role's permissions, bad input naming its field, and Bob
never testing Alice's machine."""

import json

from tests.web.base import WebTestCase

MACHINE = {"StartAt": "훈련", "States": {
    "훈련": {"Type": "Choice", "Choices": [
        {"Variable": "$.TraningType", "StringEquals": "공격수", "Next": "공격 훈련"}], "Default": "쉬기"},
    "공격 훈련": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "attack-training", "Payload.$": "$"},
              "ResultSelector": {"done.$": "$.Payload"}, "Next": "쉬기"},
    "쉬기": {"Type": "Pass", "Parameters": {"rested": True, "player.$": "$"}, "End": True}}}


class TestStateApiTests(WebTestCase):
    def setUp(self):
        super().setUp()
        self.call("POST", "/api/roles", {"name": "runner"})
        created = self.call("POST", "/api/state-machines", {"name": "flow", "type": "STANDARD", "role": "runner",
                                                            "definition": json.dumps(MACHINE, ensure_ascii=False)})
        self.assertEqual(created.status_code, 201, created.content)

    def run_state(self, body, client=None):
        return self.call("POST", "/api/state-machines/flow/test-state", body, client=client)

    def test_a_choice_of_the_draft_names_its_next_state_with_each_step(self):
        response = self.run_state({"state": "훈련", "input": '{"TraningType": "공격수"}'})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual((response.data["status"], response.data["nextState"]), ("SUCCEEDED", "공격 훈련"))
        self.assertEqual([s["step"] for s in response.data["steps"]], ["input", "afterInputPath", "afterParameters"])
        self.assertEqual(json.loads(response.data["output"]), {"TraningType": "공격수"})

    def test_a_mocked_task_shows_its_result_and_selector(self):
        response = self.run_state({"state": "공격 훈련", "input": '{"p": 1}', "mock": {"result": '{"Payload": {"x": 2}}'}})
        data = response.data
        self.assertEqual((data["status"], data["nextState"]), ("SUCCEEDED", "쉬기"))
        steps = {s["step"]: json.loads(s["value"]) for s in data["steps"]}
        self.assertEqual(steps["afterParameters"], {"FunctionName": "attack-training", "Payload": {"p": 1}})
        self.assertEqual(steps["result"], {"Payload": {"x": 2}})
        self.assertEqual(steps["afterResultSelector"], {"done": {"x": 2}})
        self.assertEqual(json.loads(data["output"]), {"done": {"x": 2}})

    def test_a_mocked_error_is_reported_as_the_state_fails(self):
        data = self.run_state({"state": "공격 훈련", "input": "{}", "mock": {"error": "Drill.Failed", "cause": "비"}}).data
        self.assertEqual((data["status"], data["error"], data["cause"], data["output"]),
                         ("FAILED", "Drill.Failed", "비", None))

    def test_a_real_call_needs_the_function(self):
        data = self.run_state({"state": "공격 훈련", "input": "{}"}).data
        self.assertEqual((data["status"], data["error"]), ("FAILED", "Lambda.ResourceNotFoundException"))

    def test_the_editors_text_is_tested_rather_than_the_saved_draft(self):
        edited = {**MACHINE, "States": {**MACHINE["States"], "쉬기": {"Type": "Pass", "Result": "edited", "End": True}}}
        data = self.run_state({"state": "쉬기", "input": "{}", "definition": json.dumps(edited)}).data
        self.assertEqual((data["status"], json.loads(data["output"]), data["nextState"]), ("SUCCEEDED", "edited", None))

    def test_variables_are_carried_in_and_out(self):
        edited = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"n": "{% $n + 1 %}"}, "End": True}}}
        data = self.run_state({"state": "A", "definition": json.dumps(edited), "variables": {"n": 1}}).data
        self.assertEqual(json.loads(data["variables"]), {"n": 2})

    def test_bad_requests_name_their_field(self):
        cases = [
            ({"input": "{}"}, "Required", "state"),
            ({"state": "없음"}, "InvalidTestState", "state"),
            ({"state": "훈련", "input": "{nope"}, "InvalidJson", "input"),
            ({"state": "훈련", "colour": 1}, "UnknownField", "colour"),
            ({"state": "훈련", "mock": {"result": "1"}}, "InvalidTestState", "mock"),
            ({"state": "공격 훈련", "mock": {"result": "{x"}}, "InvalidJson", "mock.result"),
            ({"state": "공격 훈련", "mock": {"result": "1", "error": "E"}}, "InvalidMock", "mock"),
            ({"state": "훈련", "variables": [1]}, "InvalidType", "variables"),
            ({"state": "훈련", "definition": '{"StartAt": "훈련"'}, "InvalidDefinition", "definition"),
            ({"state": "훈련", "retryCount": -1}, "InvalidType", "retryCount"),
        ]
        for body, code, field in cases:
            with self.subTest(body=body):
                self.assertApiError(self.run_state(body), 400, code, field)

    def test_bob_cannot_test_alices_machine(self):
        self.assertApiError(self.run_state({"state": "훈련", "input": "{}"}, client=self.bob_client), 404,
                            "ResourceNotFound")

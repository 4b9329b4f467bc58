"""Map Runs: the runs of Distributed Map states (editor.services.map_runs), described, listed per
parent execution and updated while they run. Their child executions are listed by ListExecutions
with the run's ARN (executions.py).
"""

from __future__ import annotations

from editor.aws.providers.stepfunctions.common import StatesBase, error, page
from editor.errors import ApiError
from editor.services import map_runs

# AWS's count names for editor.services.map_runs.item_counts' keys.
COUNTS = {"pending": "pending", "running": "running", "succeeded": "succeeded", "failed": "failed",
          "timed_out": "timedOut", "aborted": "aborted", "total": "total"}


class MapRunOperations(StatesBase):
    def DescribeMapRun(self, params: dict) -> dict:
        """Describes the run and counts its items by how far they got. A child runs one item, so
        the item and execution counts are the same; a succeeded child's result is written to the
        Map's output (resultsWritten), and runs are never redriven."""
        run = self.map_run(params["mapRunArn"], "states:DescribeMapRun")
        found = map_runs.item_counts([run])[run.pk]
        counts = {COUNTS[key]: value for key, value in found.items()}
        counts.update(resultsWritten=found["succeeded"], failuresNotRedrivable=0, pendingRedrive=0)
        return {"mapRunArn": run.arn, "executionArn": self.execution_arn(run.execution),
                "status": run.status, "startDate": run.started_at, "stopDate": run.stopped_at,
                "maxConcurrency": run.max_concurrency, "toleratedFailurePercentage": run.tolerated_failure_percentage,
                "toleratedFailureCount": run.tolerated_failure_count, "itemCounts": counts,
                "executionCounts": dict(counts), "redriveCount": 0}

    def ListMapRuns(self, params: dict) -> dict:
        execution = self.execution(params["executionArn"], "states:ListMapRuns")
        rows = execution.map_runs.described().select_related("execution__machine")
        found, token = page(rows, params, ("-started_at", "-id"))
        return {"mapRuns": [{"executionArn": self.execution_arn(execution), "mapRunArn": run.arn,
                             "stateMachineArn": self.machine_arn(execution.machine, label=run.label),
                             "startDate": run.started_at,
                             "stopDate": run.stopped_at} for run in found],
                "nextToken": token}

    def UpdateMapRun(self, params: dict) -> dict:
        """Changes a running run's MaxConcurrency and tolerated failures; the model's ranges
        (maxConcurrency >= 0, a percentage 0-100, a count >= 0) are checked as the input is read."""
        run = self.map_run(params["mapRunArn"], "states:UpdateMapRun")
        try:
            map_runs.update(run.pk, max_concurrency=params.get("maxConcurrency"),
                            tolerated_count=params.get("toleratedFailureCount"),
                            tolerated_percentage=params.get("toleratedFailurePercentage"))
        except ApiError as refused:
            if refused.code != "MapRunEnded":
                raise
            raise error("ValidationException", refused.message, reason="CANNOT_UPDATE_COMPLETED_MAP_RUN") from None
        return {}

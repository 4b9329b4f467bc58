"""Parallel: runs every branch on the same input; its result is the list of branch outputs."""

from __future__ import annotations

from ..branches import run_all
from ..executor import Program, State, run_states

__all__ = ["ParallelState"]


class ParallelState(State):
    type_name = "Parallel"
    has_result = True
    failed_type = "ParallelStateFailed"

    def __init__(self, name, spec, query_language, path):
        super().__init__(name, spec, query_language, path)
        self.branches = [Program(branch, self.query_language, f"{path}/Branches/{i}")
                         for i, branch in enumerate(spec["Branches"])]
        self.blocking = any(branch.blocking for branch in self.branches)

    def execute(self, frame, value, raw_input, ctx, entered_id):
        frame.emit("ParallelStateStarted")
        run = frame.run

        def job_for(branch):
            def job():
                run.check_alive()   # a branch not begun when the run stops is never begun
                return run_states(branch, value, frame.child())
            return job
        results = run_all([job_for(b) for b in self.branches], self.blocking, len(self.branches),
                          run.threads, run.thread_done)
        return results

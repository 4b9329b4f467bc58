"""Parallel: runs every branch on the same input; its result is the list of branch outputs."""

from __future__ import annotations

from ..branches import run_all
from ..executor import Program, State, resume_sequence
from ..history import Position

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
        run = frame.run
        history, started = self._progress(frame.resumed) or (None, None)
        if started is None:
            started = frame.emit("ParallelStateStarted")

        called: set[int] = set()   # the branches this run called

        def job_for(number, branch):
            def job():
                run.check_alive()   # a branch not begun when the run stops is never begun
                if number in called:
                    # Called again after it parked, other branches still at work: it goes on where it stood.
                    at, after = run.history_index().resume(branch, started, value, frame.variables,
                                                           run.clock.now())
                elif history is not None:
                    # The interrupted run began this attempt: each branch goes on where it stood.
                    at, after = history.resume(branch, started, value, frame.variables, run.clock.now())
                else:
                    at, after = Position(value, frame.variables, branch.start_at, None), started
                called.add(number)
                return resume_sequence(branch, frame.child(after, None, at.variables), at)
            return job
        return run_all([job_for(n, b) for n, b in enumerate(self.branches)], self.blocking, len(self.branches),
                       run.threads, run.thread_done, run.clock.now)

    @staticmethod
    def _progress(resumed):
        """Returns (history, its ParallelStateStarted id) for the attempt of this Parallel that an
        interrupted run began, or None to begin an attempt (none was begun, or it was failing)."""
        if resumed is None or resumed.history is None:
            return None
        own = resumed.events
        starts = [i for i, event in enumerate(own) if event["type"] == "ParallelStateStarted"]
        if not starts or any(event["type"] == "ParallelStateFailed" for event in own[starts[-1]:]):
            return None
        return resumed.history, own[starts[-1]]["id"]

"""Reading a stored history back: where each sequence of states stood when its run stopped.

A sequence is the machine itself, a Parallel branch or a Map iteration. Each emits its events
through its own Frame, whose `previousEventId` links them one to the next; a Parallel's branches
and a Map's iterations start their own chains from the ParallelStateStarted / MapIterationStarted
event of the sequence they are nested in. So every sequence's events can be found again in a
history where concurrent branches and iterations interleave, and a resumed run continues each
sequence where it stood: a completed iteration is not run again, a running one goes on from its
open state (a Task cut off by the crash fails with Lambda.ServiceException under its own Retry).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import NamedTuple

from .timestamps import parse_timestamp

__all__ = ["HistoryIndex", "Position", "position", "top_level_events", "ENDED"]

# Events that end a run (a redriven run goes on after them).
ENDED = frozenset({"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})
# Events after which nested sequences begin their own chains.
FORKS = frozenset({"ParallelStateStarted", "MapIterationStarted"})


class Resumed:
    """A state visit that an interrupted run entered and did not leave, as its stored history
    tells: the Entered event's id and timestamp (text and moment), the visit's own events after
    it (not those of states nested in it), and the whole history's index, for a Map or Parallel
    to find the sequences nested in it."""

    __slots__ = ("entered_id", "timestamp", "entered_at", "events", "history")

    def __init__(self, entered_id: int, timestamp: str, entered_at, events: list[dict],
                 history: "HistoryIndex | None" = None):
        self.entered_id = entered_id
        self.timestamp = timestamp
        self.entered_at = entered_at
        self.events = events
        self.history = history


class Position(NamedTuple):
    """Where a sequence stands: the value its next state takes (or its output, when `start_at`
    is None: it ended), the variables it sees, and the visit it left open (or None)."""

    value: object
    variables: dict
    start_at: str | None
    visit: Resumed | None


class HistoryIndex:
    """A history indexed by `previousEventId`, to follow the chain of one sequence's events."""

    def __init__(self, events: list[dict]):
        self.after: dict[int, list[dict]] = defaultdict(list)
        for event in events:
            # A run's own Execution* events link to the event before them, whichever sequence
            # emitted it: they belong to no sequence.
            if not event["type"].startswith("Execution"):
                self.after[event["previousEventId"]].append(event)

    def chain(self, root_id: int, states) -> list[dict]:
        """Returns the events of the sequence that began after event `root_id` (a fork) with one
        of `states` (a program's states), in order; [] when it never began."""
        begun = [e for e in self.after.get(root_id, ()) if e["type"].endswith("StateEntered")
                 and e["stateEnteredEventDetails"]["name"] in states]
        return [begun[0], *self.follow(begun[0])] if begun else []

    def follow(self, event: dict) -> list[dict]:
        """Returns the events the sequence that emitted `event` emitted after it, in order (not
        those of the sequences nested in it)."""
        chain = [event]
        while True:
            following = self.after.get(chain[-1]["id"], ())
            if chain[-1]["type"] in FORKS:
                # The nested sequences begin with a state entered; this sequence goes on otherwise.
                following = [e for e in following if not e["type"].endswith("StateEntered")]
            if not following:
                return chain[1:]
            chain.append(following[0])

    def resume(self, program, root_id: int, value, variables: dict, now) -> tuple[Position, int]:
        """Returns where the sequence of `program` that began after event `root_id` stands (it
        began with `value` and `variables`) and the id of its last event."""
        chain = self.chain(root_id, program.states)
        return (position(program, chain, value, variables, self, now),
                chain[-1]["id"] if chain else root_id)


def top_level_events(events: list[dict], top_states) -> list[dict]:
    """Returns the machine's own sequence out of a whole history: the Entered and Exited events of
    its top-level states, each open visit's own events, and the events that ended a run (a
    redriven run goes on after them). Nested states' events sit between a Map or Parallel's
    Entered and Exited events, and are left out."""
    kept = []
    depth = 0
    for event in events:
        type_ = event["type"]
        if type_.endswith("StateEntered"):
            if depth == 0 and event["stateEnteredEventDetails"]["name"] in top_states:
                kept.append(event)
            # A Fail state is entered and never left.
            depth += type_ != "FailStateEntered"
        elif type_.endswith("StateExited"):
            depth -= 1
            if depth == 0 and event["stateExitedEventDetails"]["name"] in top_states:
                kept.append(event)
        elif type_ in ENDED:
            depth = 0
            kept.append(event)
        elif depth == 1:
            kept.append(event)
    return kept


def position(program, sequence: list[dict], value, variables: dict, history: HistoryIndex,
             now) -> Position:
    """Returns where a sequence stands after its events `sequence` (in order): it began with
    `value` and `variables`; `now` is the moment used when an Entered event's time cannot be read."""
    variables = dict(variables)
    visit = None        # the open visit: [Entered event, its own events as the sequence lists them]
    last_exit = None
    for event in sequence:
        type_ = event["type"]
        if type_.endswith("StateEntered"):
            visit = [event, []]
        elif type_.endswith("StateExited"):
            visit = None
            # Only the last completed state decides where the sequence goes on: kept with the
            # variables it saw, and read once after the loop (histories run to 25,000 events).
            last_exit = (event, dict(variables))
            for name, text in (event["stateExitedEventDetails"].get("assignedVariables") or {}).items():
                variables[name] = json.loads(text)
        elif type_ in ENDED:
            visit = None   # a redriven run: what was in flight when it ended is entered again
        elif visit is not None:
            visit[1].append(event)
    start_at = program.start_at
    if last_exit is not None:
        exited, seen = last_exit
        details = exited["stateExitedEventDetails"]
        value = json.loads(details["output"])
        start_at = _next_after(program, program.states[details["name"]], sequence, exited, seen)
    if visit is None:
        return Position(value, variables, start_at, None)
    entered = visit[0]
    details = entered["stateEnteredEventDetails"]
    # The visit's own events, by their links: the machine's own sequence is read by depth, and
    # a Map's or Parallel's events interleave with those of its iterations and branches.
    own = history.follow(entered)
    resumed = Resumed(entered["id"], entered["timestamp"], parse_timestamp(entered["timestamp"]) or now,
                      own, history)
    return Position(json.loads(details["input"]), variables, details["name"], resumed)


def _next_after(program, state, sequence, exited, variables):
    """Returns the state that follows `state`'s completed run: the next state entered in the
    sequence, or else the one its transition names."""
    later = [e for e in sequence if e["id"] > exited["id"] and e["type"].endswith("StateEntered")]
    if later:
        name = later[0]["stateEnteredEventDetails"]["name"]
        if name in program.states:
            return name
    if state.type_name == "Choice":
        entered = max((e for e in sequence if e["id"] < exited["id"]
                       and e["type"] == "ChoiceStateEntered"
                       and e["stateEnteredEventDetails"]["name"] == state.name),
                      key=lambda e: e["id"])
        return state.next_for_input(json.loads(entered["stateEnteredEventDetails"]["input"]), variables)
    if state.type_name == "Succeed" or state.end:
        return None
    return state.next

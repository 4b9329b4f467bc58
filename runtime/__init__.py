"""Flowbench's runtime: the States Language engine (`asl`), the function runner (`functions`) and
the bridge between them (`tasks`). Pure Python; it imports nothing from Django or `editor`.

Two small modules serve all of them (and the web app): `arn`, the one reader of function
references and Task resources and the builder of ARNs, whose names this package re-exports; and
`json_pointer`, the one place JSON pointers are written and read.
"""

from .arn import (Activity, FunctionRef, Integration, execution_arn, function_arn, map_run_arn,
                  parse_function, parse_resource, state_machine_arn, state_machine_name)

__all__ = ["FunctionRef", "Integration", "Activity", "parse_function", "parse_resource",
           "function_arn", "state_machine_name", "state_machine_arn", "execution_arn", "map_run_arn"]

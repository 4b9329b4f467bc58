"""500 executions of the mixed workload at once, on two Celery workers: every one ends as it must,
with a complete, ordered history and each function invocation recorded exactly once."""

from __future__ import annotations

import time

import pytest

from tests.integration import workload

EXECUTIONS = 500
START_THREADS = 8
# Far above what the load should take (the whole suite aims at 6 minutes): a stuck execution fails here.
LOAD_TIMEOUT = 600


@pytest.mark.slow
def test_500_executions_of_the_mix_each_succeed_once_with_a_complete_history(cluster, mix, figures):
    cpu_before = {i: cluster.worker_cpu_seconds(i) for i in cluster.worker_processes}
    began = time.monotonic()
    runs = workload.start_mix(mix, EXECUTIONS, threads=START_THREADS)
    started = time.monotonic() - began
    workload.wait_for_end(cluster, [r.id for r in runs], LOAD_TIMEOUT, f"the {EXECUTIONS} executions of the mix")
    ended = time.monotonic() - began
    cpu = {i: cluster.worker_cpu_seconds(i) - cpu_before[i] for i in cluster.worker_processes}

    figure = (f"integration load: {EXECUTIONS} executions of the mix started in {started:.1f} s, all ended "
              f"after {ended:.1f} s; worker CPU seconds {', '.join(f'{s:.1f}' for s in cpu.values())}")
    figures.append(figure)
    problems = workload.check_runs(cluster, mix, runs)
    # How the work spread over the workers is the scheduler's business: a figure, not an assertion.
    assert not problems, f"{figure}\n" + workload.problems_summary(problems, len(runs))

"""A Test whose function writes 1 MB of logs, on the function page: `python -m bench.logs [--rounds N] [--quick]`.

Issue 14's row "Test of a function that writes 1 MB of logs" (before: 28-35 s on the page and a
PayloadExceededError on the socket; target: as long as the function plus under 1 s). It starts a
default install, as `tests.live_server` runs it (daphne, a fresh SQLite data folder, the in-memory
channel layer, the thread executor), creates and deploys through the studio's JSON API a Python
function that prints LINES lines of LINE_CHARS characters (1,000,000 bytes with their newlines,
under the runner's 1 MiB an invocation) and returns, then opens the function's page, signed in, in
Debian's Chromium driven by Playwright (headless, launched as tests/conftest.py launches it) and
clicks Test: once untimed (the worker's cold start), then `--rounds` times (default 3; `--quick`: 1).

Each round measures, in the page (performance.now()), from the click's event to the first rendering
after the result panel says succeeded with the log's last line in #result-logs (a
requestAnimationFrame, then a task after it: the style, layout and paint of that frame are in the
figure). The function's own Duration is read from the REPORT line the page shows; the overhead is
the page time minus that Duration, beside the target (under OVERHEAD_TARGET_MS), for each round and
for the round of median overhead. The log socket's frames are counted through Playwright's
WebSocket events (bytes, "log" messages, lines; the page closes its socket once the result is
shown, so frames still on their way then are not counted), and a round fails on an error frame, a
PayloadExceeded or a socket error. Under the table, where the median round's time went, from the
page's own clock: the POST /test's request and response (Resource Timing), the first and last log
frame handled, the result in the DOM and rendered; the overhead in three parts (before the POST:
the log socket opened and ready; the server beyond the Duration; the page after the response
began); and the page's main-thread time in that round by kind (Chromium's Performance metrics:
script, style, layout). It prints the load average at the start and the end; browser, server and
the function share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.api import _clients  # noqa: E402
from bench.live import _load_average  # noqa: E402

LINES, LINE_CHARS = 20000, 49
OVERHEAD_TARGET_MS = 1000.0
BUSY_LOAD = 1.5
LINE = "drill {n:05d}: pass, move, receive, shoot, recover."   # LINE_CHARS characters
LAST_LINE = LINE.format(n=LINES - 1)
CODE = f"""def lambda_handler(event, context):
    for n in range({LINES}):
        print(f"{LINE}")
    return {{"lines": {LINES}}}
"""
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REPORT = re.compile(r"REPORT RequestId: \S+\s+Duration: ([\d.]+) ms")

# Notes, on the page's clock, when the click happened, when each log frame arrived, and when the
# result panel first said succeeded with the log's last line, then the next rendering after it.
PROBE = """(lastLine) => {
  const result = document.getElementById("result"), logs = document.getElementById("result-logs");
  const probe = window.__bench = { clicked: null, running: false, failed: null, shown: null, painted: null,
                                  frames: [] };
  document.addEventListener("click", (event) => {
    if (event.target.closest("#test-button") && probe.clicked === null) probe.clicked = performance.now();
  }, { capture: true });
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      if (String(args[0]).includes("/invocations/")) {
        this.addEventListener("message", (message) => {
          const log = /"type":\s*"log"/.test(message.data.slice(0, 40));
          if (probe.clicked !== null && log) probe.frames.push(performance.now());
        });
      }
    }
  };
  new MutationObserver(() => {
    if (probe.clicked === null || probe.shown !== null) return;
    if (result.dataset.status === "running") probe.running = true;
    if (probe.running && result.dataset.status === "failed") {
      probe.failed = document.getElementById("result-response").textContent;
    }
    if (!probe.running || result.dataset.status !== "succeeded" || !logs.textContent.includes(lastLine)) return;
    probe.shown = performance.now();
    requestAnimationFrame(() => setTimeout(() => { probe.painted = performance.now(); }));
  }).observe(document.getElementById("function-app"), { subtree: true, childList: true, attributes: true,
                                                         characterData: true });
}"""
RESET = """() => { Object.assign(window.__bench, { clicked: null, running: false, failed: null, shown: null,
                                            painted: null, frames: [] }); performance.clearResourceTimings(); }"""
TIMES = """() => {
  const probe = window.__bench;
  const test = performance.getEntriesByType("resource").filter((e) => /\\/test$/.test(e.name)).pop();
  return { clicked: probe.clicked, failed: probe.failed, shown: probe.shown, painted: probe.painted,
           frames: probe.frames, requested: test ? test.requestStart || test.startTime : null,
           answered: test ? test.responseStart : null, received: test ? test.responseEnd : null };
}"""


def deploy(studio, name: str) -> None:
    """Creates the function through the studio's JSON API, gives it CODE and deploys it."""
    studio.post("/api/functions", json={"name": name, "runtime": "python"}).raise_for_status()
    studio.put(f"/api/functions/{name}/configuration", json={"timeout": 60}).raise_for_status()
    studio.put(f"/api/functions/{name}/code", json={"files": {"lambda_function.py": CODE}}).raise_for_status()
    deployed = studio.post(f"/api/functions/{name}/deploy")
    deployed.raise_for_status()
    if deployed.status_code != 200:
        raise SystemExit(f"Deploy answered {deployed.status_code}: {deployed.text[:200]}")


class LogSocket:
    """What the page's log sockets received, through Playwright's WebSocket events."""

    def __init__(self, page):
        self.bytes = self.messages = self.lines = 0
        self.problems: list[str] = []
        page.on("websocket", self._opened)

    def reset(self):
        self.bytes = self.messages = self.lines = 0
        self.problems = []

    def _opened(self, socket):
        if "/invocations/" not in socket.url:
            return
        socket.on("framereceived", self._frame)
        socket.on("socketerror", lambda error: self.problems.append(f"socket error: {error}"))

    def _frame(self, payload):
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        self.bytes += len(text.encode())
        if "PayloadExceeded" in text:
            self.problems.append(f"a PayloadExceeded frame: {text[:200]}")
        message = json.loads(text)
        if message.get("type") == "log":
            self.messages += 1
            self.lines += len(message["lines"])
        elif message.get("type") not in ("ready", "start", "end"):
            self.problems.append(f"an unexpected frame: {text[:200]}")


def main_thread(cdp) -> dict:
    """Returns the page's main-thread seconds so far by kind (Chromium's Performance metrics)."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"script": metrics["ScriptDuration"], "style": metrics["RecalcStyleDuration"],
            "layout": metrics["LayoutDuration"], "layouts": metrics["LayoutCount"],
            "all tasks": metrics["TaskDuration"]}


def one_round(page, cdp, socket: LogSocket) -> dict:
    """Clicks Test once; returns the round's figures (ms on the page's clock, bytes, messages)."""
    socket.reset()
    page.evaluate(RESET)
    before = main_thread(cdp)
    page.click("#test-button")
    page.wait_for_function("() => window.__bench.painted !== null || window.__bench.failed !== null",
                           timeout=300_000, polling=100)
    after = main_thread(cdp)
    times = page.evaluate(TIMES)
    if times["failed"] is not None:
        raise SystemExit(f"the Test failed: {times['failed'][:500]}")
    shown = page.locator("#result-logs").text_content()
    found = REPORT.search(shown)
    if found is None:
        raise SystemExit("the page shows no REPORT line with a Duration")
    summary = page.locator("#result-summary tr").filter(
        has=page.locator("th", has_text=re.compile(r"^Duration$"))).locator("td").text_content()
    if socket.problems:
        raise SystemExit("the log socket: " + "; ".join(socket.problems))
    clicked = times["clicked"]
    frames = times["frames"]
    return {"duration": float(found.group(1)), "summary": summary, "page": times["painted"] - clicked,
            "bytes": socket.bytes, "messages": socket.messages, "lines": socket.lines,
            "stages": {"POST /test sent": times["requested"], "first log frame": frames[0] if frames else None,
                       "last log frame": frames[-1] if frames else None, "response began": times["answered"],
                       "response received": times["received"], "result in the DOM": times["shown"],
                       "rendered": times["painted"]},
            "clicked": clicked, "main thread": {kind: after[kind] - before[kind] for kind in after}}


def run(rounds: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from tests.live_server import running_server

    with tempfile.TemporaryDirectory(prefix="flowbench-bench-logs-") as data, running_server(Path(data)) as server:
        _person, _sfn, studio = _clients(server)
        name = f"bench-log-{uuid.uuid4().hex[:6]}"
        deploy(studio, name)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
            # The browser signs in with the session the JSON API used.
            context.add_cookies([{"name": cookie.name, "value": cookie.value, "url": server["base"]}
                                 for cookie in studio.cookies.jar])
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            socket = LogSocket(page)
            page.goto(f"{server['base']}/functions/{name}/")
            page.wait_for_selector("#function-app[data-ready=true]")
            page.evaluate(PROBE, LAST_LINE)
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            one_round(page, cdp, socket)   # warm-up, untimed: the worker's cold start
            measured = [one_round(page, cdp, socket) for _ in range(rounds)]
            if errors:
                raise SystemExit(f"JavaScript errors on the page: {errors}")
            browser.close()
        studio.close()
    return measured


def stages(row: dict) -> str:
    """Returns where a round's time went: each moment after the click, in ms."""
    return ", ".join(f"{label} {at - row['clicked']:,.0f}" for label, at in row["stages"].items() if at is not None)


def overhead_split(row: dict) -> str:
    """Returns the round's overhead in three parts (ms): before the POST (the log socket opened and
    ready), the server beyond the function's Duration (until the response's first byte), and the
    page after that (the response's body, the log frames still queued, the result shown)."""
    at = {label: moment - row["clicked"] for label, moment in row["stages"].items() if moment is not None}
    if "POST /test sent" not in at or "response began" not in at:
        return "(no Resource Timing of the POST)"
    return (f"before the POST {at['POST /test sent']:,.0f}, server beyond the Duration "
            f"{at['response began'] - at['POST /test sent'] - row['duration']:,.0f}, page after the response began "
            f"{row['page'] - at['response began']:,.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.logs", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after one untimed (3)")
    parser.add_argument("--quick", action="store_true", help="one timed round")
    args, _unknown = parser.parse_known_args(argv)   # `python -m bench` passes every module the same options
    rounds = 1 if args.quick else max(1, args.rounds)
    began_load = _load_average()
    print(f"host: {os.cpu_count()} CPUs, load average {began_load} at the start")
    if os.getloadavg()[0] > BUSY_LOAD:
        print(f"WARNING: the machine is busy (load average above {BUSY_LOAD}): the figures below will be high")
    rows = run(rounds)
    print(f"Test of a function printing {LINES:,} lines of {LINE_CHARS} characters "
          f"({LINES * (LINE_CHARS + 1):,} bytes of log), on the function page in Chromium")
    print(f"{'round':>6} {'duration ms':>12} {'page ms':>8} {'overhead ms':>12} {'socket bytes':>13} "
          f"{'log msgs':>9} {'lines':>7}   target")
    ordered = sorted(rows, key=lambda r: r["page"] - r["duration"])
    median = ordered[len(ordered) // 2]
    for label, row in [*((str(i + 1), r) for i, r in enumerate(rows)), ("median", median)]:
        overhead = row["page"] - row["duration"]
        verdict = "met" if overhead < OVERHEAD_TARGET_MS else "missed"
        print(f"{label:>6} {row['duration']:>12,.1f} {row['page']:>8,.0f} {overhead:>12,.0f} {row['bytes']:>13,} "
              f"{row['messages']:>9} {row['lines']:>7,}   overhead < {OVERHEAD_TARGET_MS:,.0f} ms: {verdict}")
    print(f"median round, ms after the click: {stages(median)}")
    print(f"  its overhead, ms: {overhead_split(median)}")
    spent = median["main thread"]
    print(f"  the page's main thread in that round, until the benchmark saw the result (ms): script "
          f"{spent['script'] * 1000:,.0f}, style {spent['style'] * 1000:,.0f}, layout {spent['layout'] * 1000:,.0f} "
          f"({spent['layouts']:.0f} layouts), every task {spent['all tasks'] * 1000:,.0f}")
    agreed = all(r["summary"] == f"{r['duration']:.2f} ms" for r in rows)
    print(f"the result panel's Duration {'agreed' if agreed else 'DISAGREED'} with the REPORT line; no error frame "
          f"on the log socket")
    print(f"load average at the end: {_load_average()} (this run's own processes count)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

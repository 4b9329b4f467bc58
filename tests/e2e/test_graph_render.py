"""The graph view in Debian's Chromium: the seed's state machine laid out by the vendored WebAssembly
Graphviz, drawn, highlighted, clicked, zoomed, panned and exported.

The page is static: a temporary folder holding static/js/graph-view.js and static/vendor/graphviz/
(as Django serves them) plus a small HTML page, served by http.server on a free port.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from runtime.asl import definition_to_dot, state_id
from tests.unit.asl.seed import seed_definition

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = Path(os.environ.get("FLOWBENCH_GRAPH_SCREENSHOT", "/tmp/graph-seed.png"))
STATES = ["훈련", "공격 훈련", "패스 훈련", "수비 훈련", "프리킥 훈련", "볼 경합 훈련"]

PAGE = """<!doctype html>
<html lang="ko">
<meta charset="utf-8">
<title>Flowbench graph</title>
<style>
  body { margin: 0; padding: 24px; background: #f8fafc; font-family: "Noto Sans CJK KR", sans-serif; }
  #graph { width: 860px; height: 620px; border: 1px solid #e4e7ec; border-radius: 8px; background: #fff; }
</style>
<div id="graph"></div>
<script type="module">
  import { renderGraph } from "./js/graph-view.js";
  window.renderGraph = renderGraph;
  window.selected = [];
  const dot = await (await fetch("./seed.dot")).text();
  window.view = await renderGraph(document.getElementById("graph"), dot,
                                  { onSelect: (pointer) => window.selected.push(pointer) });
  document.body.dataset.ready = "yes";
</script>
</html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Serves the graph page, graph-view.js and the Graphviz bundle; yields the page's URL."""
    folder = tmp_path_factory.mktemp("graph-site")
    shutil.copytree(ROOT / "static/vendor/graphviz", folder / "vendor/graphviz")
    (folder / "js").mkdir()
    shutil.copy(ROOT / "static/js/graph-view.js", folder / "js/graph-view.js")
    (folder / "seed.dot").write_text(definition_to_dot(seed_definition()), encoding="utf-8")
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    handler.extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                              ".js": "text/javascript", ".dot": "text/plain; charset=utf-8"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 910, "height": 670}, locale="ko-KR")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site)
    page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
    yield page
    context.close()
    assert errors == []


def _node(page, name):
    return page.locator(f'[id="{state_id("/States/" + name)}"]')


def test_it_draws_every_state_of_the_seed_with_its_korean_name(page):
    for name in STATES:
        node = _node(page, name)
        assert node.count() == 1
        assert name in node.text_content()
    labels = page.locator("g.edge.fb-choice text").all_text_contents()
    assert sorted(labels) == sorted(f'$.TraningType == "{kind}"' for kind in ["공격수", "미드필더", "수비수"])
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_korean_labels_render_in_a_cjk_font_and_fit_their_boxes(page):
    # Each label line is as wide as the glyphs the browser drew, and lies inside its node's shape.
    overflow = page.evaluate("""() => [...document.querySelectorAll("g.fb-state")].flatMap((g) => {
        const shape = g.querySelector(":scope > :is(polygon, path)").getBBox();
        return [...g.querySelectorAll(":scope > text")].filter((t) => {
          const box = t.getBBox();
          return box.x < shape.x - 0.5 || box.x + box.width > shape.x + shape.width + 0.5;
        }).map((t) => t.textContent);
      })""")
    assert overflow == []
    # The font Chromium actually drew the Hangul with, as DevTools reports it.
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    selector = f'[id="{state_id("/States/볼 경합 훈련")}"] text'
    text = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": text})["fonts"]
    assert [font["familyName"] for font in fonts] == ["Noto Sans CJK KR"]


def test_clicking_a_node_selects_its_state_pointer(page):
    _node(page, "공격 훈련").click()
    page.wait_for_function("() => window.selected.length === 1")
    assert page.evaluate("window.selected") == ["/States/공격 훈련"]
    assert "fb-selected" in _node(page, "공격 훈련").get_attribute("class")
    _node(page, "볼 경합 훈련").locator("text").first.click()
    page.wait_for_function("() => window.selected.length === 2")
    assert page.evaluate("window.selected[1]") == "/States/볼 경합 훈련"
    _node(page, "패스 훈련").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.selected.length === 3")
    assert page.evaluate("window.selected[2]") == "/States/패스 훈련"


def test_highlight_colours_a_node_by_status(page):
    assert page.evaluate("view.highlight('/States/훈련', 'succeeded')") is True
    page.evaluate("view.highlight('/States/공격 훈련', 'running')")
    page.evaluate("view.highlight('/States/패스 훈련', 'not-run')")
    assert "fb-status-succeeded" in _node(page, "훈련").get_attribute("class")
    fill = page.evaluate(f"""getComputedStyle(document.getElementById({state_id('/States/훈련')!r})
                                             .querySelector('polygon')).fill""")
    assert fill == "rgb(220, 252, 231)"
    page.evaluate("view.highlight('/States/공격 훈련', 'failed')")
    classes = _node(page, "공격 훈련").get_attribute("class").split()
    assert "fb-status-failed" in classes and "fb-status-running" not in classes
    assert page.evaluate("view.highlight('/States/없는 상태', 'failed')") is False
    message = page.evaluate("() => { try { view.highlight('/States/훈련', 'green') } catch (e) { return e.message } }")
    assert "unknown status" in message


def test_the_wheel_zooms_a_drag_pans_and_fit_restores_the_whole_graph(page):
    box = page.locator("#graph").bounding_box()
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    fitted = page.evaluate("view.svg.getAttribute('viewBox')")
    page.mouse.move(*middle)
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"() => view.svg.getAttribute('viewBox') !== {fitted!r}")
    zoomed = [float(n) for n in page.evaluate("view.svg.getAttribute('viewBox')").split()]
    assert zoomed[2] < float(fitted.split()[2])
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 90, steps=5)
    page.mouse.up()
    panned = [float(n) for n in page.evaluate("view.svg.getAttribute('viewBox')").split()]
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2] == zoomed[2]
    assert page.evaluate("window.selected") == []   # a drag is not a click
    page.evaluate("view.fit()")
    assert page.evaluate("view.svg.getAttribute('viewBox')") == fitted


def test_it_exports_the_graph_as_svg_and_png(page):
    svg = page.evaluate("view.exportSvg()")
    assert svg.startswith("<?xml") and "볼 경합 훈련" in svg and ".fb-status-running" in svg
    png = page.evaluate("""async () => {
        const blob = await view.exportPng({ scale: 1 });
        const bitmap = await createImageBitmap(blob);
        return { type: blob.type, width: bitmap.width, height: bitmap.height,
                 natural: [view.natural.width, view.natural.height] };
      }""")
    assert png["type"] == "image/png"
    assert (png["width"], png["height"]) == tuple(round(n + 0.4999) for n in png["natural"])


def test_an_update_keeps_statuses_and_bad_dot_is_refused_with_graphvizs_message(page):
    page.evaluate("view.highlight('/States/수비 훈련', 'caught')")
    dot = definition_to_dot({"StartAt": "수비 훈련", "States": {
        "수비 훈련": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:d", "End": True}}})
    page.evaluate("(dot) => view.update(dot)", dot)
    assert page.locator("g.fb-state").count() == 1
    assert "fb-status-caught" in _node(page, "수비 훈련").get_attribute("class")
    message = page.evaluate("""async () => {
        const box = document.createElement("div");
        document.body.append(box);
        try { await renderGraph(box, "digraph { a -> }"); return null; }
        catch (error) { return [String(error), box.className, box.childElementCount]; }
      }""")
    assert message is not None and "syntax error" in message[0].lower()
    assert message[1:] == ["", 0]
    message = page.evaluate("() => { try { view.update('digraph {'); } catch (e) { return String(e); } }")
    assert "syntax error" in message.lower()
    assert page.locator("g.fb-state").count() == 1   # the graph shown before stays

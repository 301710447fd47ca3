"""Render the tool's Mermaid diagrams in a real headless browser, as GitHub's viewer would.

Needs Chromium (Debian: `apt-get install chromium`) and mermaid from the npm registry
(`npm install --prefix .cache/mermaid mermaid`); neither is a CI requirement, and the test that
uses this (tests/plan/test_diagram_render.py) skips without them.

    python benchmarks/render_diagram.py                       # render, print figures
    python benchmarks/render_diagram.py --screenshot docs/images/plan-diagram.png

It renders (1) the diagram of a real plan of specs/ against the embedded local Azure, (2) the
whole-estate graph of specs/, and (3) a diagram whose labels try to inject markup and script;
each must render to an SVG without a Mermaid error, and the injection must not run.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MERMAID_ENV = "IDENTITY_RECONCILER_MERMAID_JS"
DEFAULT_MERMAID = REPO / ".cache/mermaid/node_modules/mermaid/dist/mermaid.min.js"
PWNED = "pwned-by-a-label"


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def mermaid_js() -> Path | None:
    path = Path(os.environ.get(MERMAID_ENV) or DEFAULT_MERMAID)
    return path if path.is_file() else None


def hostile_diagram() -> str:
    from identity_reconciler.plan.diagram import Edge, Graph, render_mermaid

    evil = f'<img src=x onerror="document.title=\'{PWNED}\'">"]\n  click n0 call alert(1)'
    graph = Graph()
    graph.edges.append(Edge(graph.node(evil, "identity"), graph.node("rg", "scope"), evil,
                            "create"))
    return render_mermaid(graph)


def sample_diagrams(workdir: Path) -> dict[str, str]:
    """Diagram sources: a real plan's (markdown), the estate graph, and a hostile one."""
    env = {**os.environ, "NO_COLOR": "1"}
    cli = [sys.executable, "-m", "identity_reconciler.cli"]
    markdown = subprocess.run(
        [*cli, "plan", str(REPO / "specs"), "--cloud", "local", "--state-dir",
         str(workdir / "state"), "--format", "markdown", "-q"],
        capture_output=True, text=True, check=True, env=env, timeout=300,
    ).stdout
    found = re.search(r"```mermaid\n(.*?)```", markdown, re.S)
    if not found:
        raise SystemExit("the plan's markdown has no mermaid block")
    estate = subprocess.run(
        [*cli, "graph", str(REPO / "specs")],
        capture_output=True, text=True, check=True, env=env, timeout=120,
    ).stdout
    return {"plan": found.group(1), "estate": estate, "hostile": hostile_diagram()}


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>rendering</title>
<style>body{{font-family:sans-serif;background:#fff;margin:16px}} h3{{margin:8px 0}}</style>
<script>{mermaid}</script></head><body>
<div id="out"></div>
<script>
const diagrams = {diagrams};
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
(async () => {{
  const results = {{}};
  for (const [name, source] of Object.entries(diagrams)) {{
    const box = document.createElement("section");
    box.innerHTML = "<h3></h3>";
    box.querySelector("h3").textContent = name;
    document.getElementById("out").appendChild(box);
    try {{
      const {{svg}} = await mermaid.render("d_" + name, source);
      const holder = document.createElement("div");
      holder.innerHTML = svg;
      box.appendChild(holder);
      results[name] = {{ok: true, nodes: holder.querySelectorAll("g.node").length,
                       edges: holder.querySelectorAll("path.flowchart-link, .edgePaths path")
                         .length, images: holder.querySelectorAll("img").length}};
    }} catch (e) {{
      results[name] = {{ok: false, error: String(e && e.message || e)}};
    }}
  }}
  const pre = document.createElement("pre");
  pre.id = "results";
  pre.textContent = JSON.stringify(results);
  document.body.appendChild(pre);
  if (document.title !== "{pwned}") document.title = "done";
}})();
</script></body></html>
"""


def render(diagrams: dict[str, str], workdir: Path, screenshot: Path | None = None
           ) -> tuple[dict[str, dict[str, object]], str]:
    """Render every diagram in Chromium; the per-diagram results and the page's final title."""
    browser, script = chromium(), mermaid_js()
    if browser is None or script is None:
        raise SystemExit("needs chromium and mermaid.min.js (see this script's docstring)")
    page = workdir / "diagrams.html"
    page.write_text(PAGE.format(
        mermaid=script.read_text(encoding="utf-8"),
        diagrams=json.dumps(diagrams).replace("</", "<\\/"),
        pwned=PWNED,
    ), encoding="utf-8")
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--allow-file-access-from-files", "--virtual-time-budget=15000",
            f"--user-data-dir={workdir / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=False).stdout
    found = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    if not found:
        raise SystemExit("the page produced no results (did the browser start?)")

    results = json.loads(html.unescape(found.group(1)))
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*base, "--hide-scrollbars", "--window-size=900,1000",
                        f"--screenshot={screenshot.resolve()}", page.as_uri()],
                       capture_output=True, timeout=120, check=True)
    return results, title.group(1) if title else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, help="also save a PNG of the rendered page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        diagrams = sample_diagrams(Path(tmp))
        results, title = render(diagrams, Path(tmp), args.screenshot)
        elapsed = time.monotonic() - started
    ok = all(r.get("ok") for r in results.values()) and title == "done"
    for name, result in results.items():
        print(f"{name:8} {json.dumps(result)}")
    print(f"page title: {title!r} (an injected label would have set {PWNED!r})")
    print(f"rendered {len(results)} diagrams in {elapsed:.1f} s: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

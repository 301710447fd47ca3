"""The diagrams render in a real headless browser with mermaid, and a hostile label stays text.

Needs Chromium and mermaid.min.js (see benchmarks/render_diagram.py); skipped without them,
never a CI requirement.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "render_diagram", REPO / "benchmarks" / "render_diagram.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_diagram"] = module
    spec.loader.exec_module(module)
    return module


render_diagram = _script()
pytestmark = [
    pytest.mark.skipif(render_diagram.chromium() is None,
                       reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(render_diagram.mermaid_js() is None,
                       reason="mermaid.min.js not found (npm install --prefix .cache/mermaid "
                       f"mermaid, or set {render_diagram.MERMAID_ENV})"),
]


def test_plan_and_estate_diagrams_render_and_labels_stay_text(tmp_path: Path) -> None:
    diagrams = render_diagram.sample_diagrams(tmp_path)
    results, title = render_diagram.render(diagrams, tmp_path)
    assert set(results) == {"plan", "estate", "hostile"}
    for name, result in results.items():
        assert result["ok"], (name, result)
        assert result["images"] == 0, name
    assert results["plan"]["nodes"] == 5
    assert results["plan"]["edges"] == 3
    assert results["estate"]["nodes"] == 5
    assert title == "done"  # the label's onerror never ran

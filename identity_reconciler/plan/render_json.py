"""The machine view of a plan: its JSON form, which is also the plan file apply reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from identity_reconciler.plan.model import Plan


def render_json(plan: Plan | Mapping[str, Any]) -> str:
    if isinstance(plan, Plan):
        return plan.to_json()
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

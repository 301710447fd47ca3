"""JSON Schema of the spec format, generated from the models, for editors.

`python -m identity_reconciler.spec.schema > schemas/spec.schema.json` regenerates the committed
file; a test fails when it is out of date. yaml-language-server picks it up from a first line
`# yaml-language-server: $schema=../schemas/spec.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from identity_reconciler.spec.models import SpecDocument

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def spec_schema() -> dict[str, Any]:
    schema = SpecDocument.model_json_schema(mode="validation")
    return {
        "$schema": DIALECT,
        **schema,
        "description": "An identity-reconciler spec: managed identities, federated credentials, "
        "attachments, role grants, SQL users and policy.",
    }


def render() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()

"""Specs: YAML with locations -> Pydantic models -> DesiredState; cross-file checks; policy lint.

`validate(paths)` is the layer's contract; the rest is exported for tools and tests.
"""

from identity_reconciler.spec.errors import SpecLoadError
from identity_reconciler.spec.rules import RULES, Rule
from identity_reconciler.spec.validation import (
    LoadResult,
    ValidationResult,
    load_documents,
    validate,
)
from identity_reconciler.spec.yamlload import Limits, LocatedDocument, parse_yaml

__all__ = [
    "RULES",
    "Limits",
    "LoadResult",
    "LocatedDocument",
    "Rule",
    "SpecLoadError",
    "ValidationResult",
    "load_documents",
    "parse_yaml",
    "validate",
]

"""Specs: YAML with locations -> Pydantic models -> DesiredState; cross-file checks; policy lint."""

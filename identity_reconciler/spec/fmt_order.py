"""The canonical key order of spec YAML, read from the spec models themselves.

A key's place is its field's place in the Pydantic model, so the order `fmt` writes is the
order the spec reference documents, and a field added to a model needs no change here. Keys no
model knows (a typo that validate reports) keep their relative order after the known ones;
free-form mappings (`tags`, policy `rules`) are ordered by key.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from identity_reconciler.spec.models import SpecDocument


@dataclass(frozen=True)
class Shape:
    """What the spec expects at one place: a model's mapping, a free-form mapping, or neither."""

    model: type[BaseModel] | None = None
    sorted_keys: bool = False  # a free-form mapping (tags): keys in alphabetical order
    item: Shape | None = None  # for a list: the shape of its items

    def key_rank(self, key: str) -> tuple[int, str]:
        """Sort key of a mapping key: model fields first, in model order; others after."""
        if self.sorted_keys:
            return (0, key)
        order = _field_order(self.model) if self.model is not None else {}
        return (order.get(key, len(order)), "" if key in order else "~")

    def child(self, key: str) -> Shape:
        """The shape of the value under `key` of this mapping."""
        if self.model is None:
            return Shape()
        field = self.model.model_fields.get(key)
        return Shape() if field is None else _shape_of(field.annotation)

    def element(self) -> Shape:
        return self.item or Shape()


ROOT = Shape(model=SpecDocument)


@cache
def _field_order(model: type[BaseModel]) -> dict[str, int]:
    return {name: index for index, name in enumerate(model.model_fields)}


def _shape_of(annotation: Any) -> Shape:
    """The mapping or list shape an annotation allows (a scope: an ARM id or a model)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _shape_of(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            shape = _shape_of(arg)
            if shape != Shape():
                return shape
        return Shape()
    if origin is list:
        (item,) = get_args(annotation)
        return Shape(item=_shape_of(item))
    if origin is dict:
        return Shape(sorted_keys=True)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Shape(model=annotation)
    return Shape()

"""The one kind of error a person is shown as such: `UserError`.

Every layer raises a `UserError` (or a subclass) for what the user can fix — bad input, a plan
apply refuses, Azure saying no — and `cli.main` alone prints it: `error: <message>` (and one
such line per further message in `also`), then `hint: <hint>` when there is one, and exits
with its `exit_code`. Everything else that escapes a command is a bug in identity-reconciler
and is reported as one (see `cli.py`), so a real bug never passes for bad input just because
it happened to raise `ValueError`.
"""

from __future__ import annotations

from collections.abc import Iterable

EXIT_ERROR = 1


class UserError(Exception):
    """Something the user can fix. `str(exc)` is the message, `also` further error lines (each
    shown as an error of its own), `hint` what to do about it."""

    exit_code: int = EXIT_ERROR
    hint: str | None = None

    def __init__(
        self,
        message: str = "",
        *,
        also: Iterable[str] = (),
        hint: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.also: tuple[str, ...] = tuple(also)
        if hint is not None:
            self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

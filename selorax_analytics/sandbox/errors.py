"""The one error a sandbox raises when it cannot be set up as asked (a bad ``db`` or ``data``)."""

from __future__ import annotations


class SetupError(ValueError):
    """A ``Sandbox`` option names something the sandbox cannot serve.

    ``option`` is the parameter's name (``"db"``, ``"data"``), ``value`` what was given and
    ``reason`` what is wrong with it and what is accepted instead. The command line shows it as
    ``--db 'notes.txt': ...``; ``str()`` as ``db='notes.txt': ...``.
    """

    def __init__(self, option: str, value: object, reason: str) -> None:
        super().__init__(f"{option}={str(value)!r}: {reason}")
        self.option = option
        self.value = value
        self.reason = reason

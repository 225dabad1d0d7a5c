"""Hooks: a lower app lets the apps above it act on what happened, without importing them.

Imports only point downward (``tests/test_architecture.py``), so messaging cannot
call the alerts or the workspace, and accounts cannot call templates. Instead the
lower app declares a :class:`Hook` and fires it; a higher app registers a receiver
in its ``AppConfig.ready()``. Receivers run in the caller's transaction, in
registration order, and must be quick (record a row, enqueue a task): a receiver
that needs the network enqueues work for the task workers instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    """One named point where receivers are called with keyword arguments."""

    def __init__(self, name: str, doc: str = "") -> None:
        self.name = name
        self.__doc__ = doc
        self._receivers: list[Callable[..., Any]] = []

    def register(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        """Add ``receiver`` once (usable as a decorator); registering it again changes nothing."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def unregister(self, receiver: Callable[..., Any]) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Callable[..., Any], ...]:
        return tuple(self._receivers)

    def fire(self, **payload: Any) -> None:
        for receiver in list(self._receivers):
            receiver(**payload)

    def collect(self, **payload: Any) -> list[Any]:
        """Each receiver's answer, in registration order (for hooks that ask the apps above for something)."""
        return [receiver(**payload) for receiver in list(self._receivers)]

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receiver(s)>"

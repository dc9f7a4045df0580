"""Plugins through entry points, loaded lazily: only the chosen one is imported.

Groups: ``dbsynth.generators``, ``dbsynth.rules``, ``dbsynth.sinks``. Third-party packages register
their own under the same groups in their ``pyproject.toml``.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from dbsynth.errors import DbsynthError

__all__ = ["load", "names"]


def names(group: str) -> list[str]:
    return sorted(ep.name for ep in entry_points(group=group))


def load(group: str, name: str) -> Any:
    found = [ep for ep in entry_points(group=group) if ep.name == name]
    if not found:
        raise DbsynthError(f"no {group} plugin named {name!r}; installed: {', '.join(names(group)) or 'none'}")
    try:
        return found[0].load()
    except ModuleNotFoundError as exc:
        raise DbsynthError(f"the {group} plugin {name!r} needs {exc.name}, which is not installed") from exc

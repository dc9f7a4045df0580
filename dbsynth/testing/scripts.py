"""DDL files as users make them first — ``pg_dump -s`` and ``mysqldump --no-data`` output — turned
into what a server accepts over a plain connection.

Current pg_dump writes psql meta-commands (``\\restrict KEY``, ``\\connect``) that only psql
understands; mysqldump may switch the statement delimiter (``DELIMITER ;;``) around triggers and
routines, which only the mysql client understands. Both are client-side syntax, so they are handled
here rather than sent to the server.
"""

from __future__ import annotations

import re

__all__ = ["mysql_statements", "postgres_script"]

_META = re.compile(r"^\s*\\[a-zA-Z]+.*$", re.M)
_DELIMITER = re.compile(r"^\s*DELIMITER\s+(\S+)\s*$", re.I)


def postgres_script(sql: str) -> str:
    """``sql`` without psql meta-command lines (backslash commands never reach the server)."""
    return _META.sub("", sql)


def mysql_statements(sql: str) -> list[str]:
    """``sql`` as scripts the server runs in order: one multi-statement script while the delimiter
    is ``;``, one statement per custom-delimited block (a trigger body keeps its inner ``;``)."""
    out: list[str] = []
    delimiter, chunk = ";", list[str]()
    for line in sql.splitlines():
        switch = _DELIMITER.match(line)
        if switch:
            if chunk and "".join(chunk).strip():
                out.append("\n".join(chunk))
            delimiter, chunk = switch.group(1), []
            continue
        if delimiter != ";" and line.rstrip().endswith(delimiter):
            chunk.append(line.rstrip()[: -len(delimiter)])
            out.append("\n".join(chunk))
            chunk = []
            continue
        chunk.append(line)
    if "".join(chunk).strip():
        out.append("\n".join(chunk))
    return [s for s in out if s.strip()]

"""The literal subset of PowerShell module specs are written in, and the
cross-option constraints of a module's ``$spec`` read with it."""

from __future__ import annotations

import re
import typing as t

from ..models._base import SimulatorError

_CONSTRAINT_KEYS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class _PwshParseError(ValueError):
    pass


class _PwshLiteral:
    """Parser for the literal subset of PowerShell used in module specs:
    ``@{}``, ``@()``, ``,`` arrays, quoted strings, ``$true``/``$false``/
    ``$null`` and numbers."""

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def _skip(self, newlines: bool = True) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            elif c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            elif c == "`" and self.text[self.pos + 1:self.pos + 2] in ("\n", "\r"):
                self.pos += 2
            else:
                break

    def expr(self) -> t.Any:
        self._skip(newlines=False)
        items = [self.primary()]
        comma = False
        while True:
            self._skip(newlines=False)
            if self.text.startswith(",", self.pos):
                comma = True
                self.pos += 1
                self._skip()
                items.append(self.primary())
            else:
                break
        return items if comma else items[0]

    def primary(self) -> t.Any:
        self._skip(newlines=False)
        text, pos = self.text, self.pos
        if text.startswith(",", pos):
            self.pos += 1
            return [self.primary()]
        if text.startswith("@(", pos):
            self.pos += 2
            elems: list[t.Any] = []
            while True:
                self._skip()
                if text.startswith(")", self.pos):
                    self.pos += 1
                    break
                # Each statement's output is enumerated one level into @().
                value = self.expr()
                if isinstance(value, list):
                    elems.extend(value)
                else:
                    elems.append(value)
                self._skip(newlines=False)
                if text.startswith(";", self.pos):
                    self.pos += 1
            return elems
        if text.startswith("@{", pos):
            self.pos += 2
            out: dict[str, t.Any] = {}
            while True:
                self._skip()
                if text.startswith("}", self.pos):
                    self.pos += 1
                    return out
                m = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|'[^']*'|\"[^\"$`]*\")\s*=").match(text, self.pos)
                if not m:
                    raise _PwshParseError(f"bad key at {self.pos}")
                key = m.group(1).strip("'\"")
                self.pos = m.end()
                out[key] = self.expr()
                self._skip(newlines=False)
                if text.startswith(";", self.pos):
                    self.pos += 1
        if text.startswith("'", pos):
            end = pos + 1
            buf = []
            while True:
                nxt = text.find("'", end)
                if nxt < 0:
                    raise _PwshParseError("unterminated string")
                buf.append(text[end:nxt])
                if text.startswith("''", nxt):
                    buf.append("'")
                    end = nxt + 2
                    continue
                self.pos = nxt + 1
                return "".join(buf)
        if text.startswith('"', pos):
            m = re.compile(r'"([^"$`]*)"').match(text, pos)
            if not m:
                raise _PwshParseError("expandable string")
            self.pos = m.end()
            return m.group(1)
        m = re.compile(r"\$(true|false|null)\b", re.IGNORECASE).match(text, pos)
        if m:
            self.pos = m.end()
            return {"true": True, "false": False, "null": None}[m.group(1).lower()]
        m = re.compile(r"-?\d+\b").match(text, pos)
        if m:
            self.pos = m.end()
            return int(m.group(0))
        raise _PwshParseError(f"unsupported expression at {pos}: {text[pos:pos + 30]!r}")


def _constraints_from_source(fqcn: str, source: str) -> dict[str, t.Any]:
    """The top-level cross-option constraints of the module's ``$spec``.
    A constraint the parser cannot read fails loudly rather than being
    silently skipped."""
    out: dict[str, t.Any] = {}
    start = re.search(r"^\s*\$spec\s*=\s*@\{", source, re.MULTILINE)
    if not start:
        return out
    # Only look at the top level of the spec hashtable.
    depth, i, top_positions = 0, start.end() - 2, []
    in_str: str | None = None
    while i < len(source):
        c = source[i]
        if in_str:
            if c == in_str:
                in_str = None
        elif c in "'\"":
            in_str = c
        elif c == "#":
            i = source.find("\n", i)
            if i < 0:
                break
            continue
        elif c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and c == "\n":
            top_positions.append(i + 1)
        i += 1
    for pos in top_positions:
        m = re.compile(r"[ \t]*(" + "|".join(_CONSTRAINT_KEYS) + r")\s*=\s*").match(source, pos)
        if not m:
            continue
        try:
            value = _PwshLiteral(source, m.end()).expr()
        except _PwshParseError as exc:
            raise SimulatorError(f"winsim: cannot read {m.group(1)} of {fqcn}'s argument spec: {exc}") from exc
        out[m.group(1)] = value
    return out

"""Field masks (``fields=sheets(properties(title))``): parsed into trees and applied to
answers, as Google does."""

from __future__ import annotations

import re
from typing import Any

from .errors import bad


def parse_mask(text: str) -> dict[str, Any]:
    """'a,b(c,d/e),f/g' -> {'a': {}, 'b': {'c': {}, 'd': {'e': {}}}, 'f': {'g': {}}}."""
    pos = 0

    def parse_list() -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(text):
            m = re.compile(r"[A-Za-z0-9_.*]+(/[A-Za-z0-9_.*]+)*").match(text, pos)
            if not m:
                raise bad(f"Invalid field selection {text}")
            path = m.group(0).replace(".", "/").split("/")
            pos = m.end()
            node = tree
            for part in path:
                node = node.setdefault(part, {})
            if pos < len(text) and text[pos] == "(":
                pos += 1
                _merge(node, parse_list())
                pos += 1  # ')'
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
        return tree

    return parse_list()


def _merge(a: dict[str, Any], b: dict[str, Any]) -> None:
    for k, v in b.items():
        _merge(a.setdefault(k, {}), v)


def apply_mask(obj: Any, mask: dict[str, Any]) -> Any:
    if not mask or "*" in mask:
        return obj
    if isinstance(obj, list):
        return [apply_mask(x, mask) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, sub in mask.items():
        if k in obj:
            out[k] = apply_mask(obj[k], sub)  # a message the mask empties stays, as {}
    return out

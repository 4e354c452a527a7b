"""Griffe extension for the docs build: Sphinx roles in docstrings become mkdocs links.

The docstrings are numpy style and cross-reference with Sphinx roles
(``:func:`genomarray.views.windows.view` ``, ``:class:`~xarray.DataArray` ``). mkdocstrings does
not read those roles, so this extension rewrites each one when the package is loaded:

- a target inside the documented packages (resolved from the docstring's scope, so
  relative names work too) becomes an autorefs link ``[`view`][genomarray.views.windows.view]``;
- any other target (numpy, xarray, keras, ...) becomes inline code.

It also turns reStructuredText simple tables (``=====  =====`` borders) into markdown
tables, and double backquotes are already inline code in markdown.

Only the rendered documentation changes; the source files are left as they are. Loaded by
``mkdocs.yml`` (``plugins: mkdocstrings: handlers: python: options: extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(
    r":(?:py:)?(?P<role>func|meth|class|mod|attr|data|obj|exc|const|ref|term)"
    r":`(?P<body>[^`]+)`"
)
_TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^>]+)>$")


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """Full path of ``target`` as seen from ``obj``'s docstring, if it is documented here."""
    collection = obj.modules_collection
    candidates = [target.lstrip(".")]
    scope: griffe.Object | None = obj
    head, _, rest = target.lstrip(".").partition(".")
    while scope is not None:
        try:
            resolved = scope.resolve(head)
        except Exception:  # name not in this scope
            resolved = None
        if resolved:
            candidates.append(f"{resolved}.{rest}" if rest else resolved)
            break
        scope = scope.parent
    for path in candidates:
        if path.split(".")[0] not in ("genomarray", "accessors"):
            continue
        try:
            found = collection.get_member(path)
        except Exception:  # not part of the loaded packages
            continue
        try:
            final = found.final_target if found.is_alias else found
        except Exception:  # alias to an object that was not loaded
            continue
        if any(part.startswith("_") for part in final.path.split(".")):
            return None  # private: not rendered, a link would dangle
        if final.docstring is None and not final.is_module:
            return None  # undocumented members are not rendered either
        return final.path
    return None


_BORDER = re.compile(r"^(?P<indent>[ \t]*)=+(?:[ \t]+=+)+[ \t]*$")


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    """Cut a table line into its columns; a cell that overflows its column (a word
    across the boundary) runs on to the next gap of two spaces."""
    cells, start = [], 0
    for k in range(len(spans)):
        end = spans[k + 1][0] if k + 1 < len(spans) else len(line)
        end = max(end, start)
        if 0 < end < len(line) and line[end - 1] != " " and line[end] != " ":
            gap = line.find("  ", end)
            end = gap if gap >= 0 else len(line)
        cells.append(line[start:end].strip())
        start = end
    return cells


def _rst_tables(text: str) -> str:
    """Rewrite reStructuredText simple tables as markdown tables (other text unchanged)."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        border = _BORDER.match(lines[i])
        if not border:
            out.append(lines[i])
            i += 1
            continue
        spans = [m.span() for m in re.finditer(r"=+", lines[i])]
        block: list[list[str]] = []  # rows between borders, grouped by border
        j, groups = i + 1, [[]]
        while j < len(lines):
            if _BORDER.match(lines[j]):
                if (
                    len(groups) == 2
                    or (j + 1 < len(lines) and not lines[j + 1].strip())
                    or j + 1 == len(lines)
                ):
                    break
                groups.append([])
            else:
                groups[-1].append(lines[j])
            j += 1
        if j == len(lines):  # no closing border: not a table
            out.append(lines[i])
            i += 1
            continue
        for group in groups:
            rows: list[list[str]] = []
            for line in group:
                cells = _cells(line, spans)
                if rows and not cells[0]:
                    rows[-1] = [
                        f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)
                    ]
                elif any(cells):
                    rows.append(cells)
            block.append(rows)
        header, body = (block[0], block[1]) if len(block) == 2 else ([], block[0])
        if not header:
            header, body = body[:1], body[1:]
        indent = border.group("indent")

        def row(cells: list[str], indent: str = indent) -> str:
            return indent + "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        out.extend([row(header[0]), indent + "|" + " --- |" * len(spans)])
        out.extend(row(r) for r in header[1:] + body)
        i = j + 1
    return "\n".join(out)


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        body = match.group("body").strip()
        titled = _TITLED.match(body)
        if titled:
            title, target = titled.group("title"), titled.group("target")
        else:
            target = body
            title = body.lstrip("~").split(".")[-1] if body.startswith("~") else body
            target = target.lstrip("~")
        if match.group("role") == "meth" or match.group("role") == "func":
            label = title if title.endswith(")") else f"{title}()"
        else:
            label = title
        path = _resolve(obj, target)
        return f"[`{label}`][{path}]" if path else f"`{label}`"

    return _ROLE.sub(replace, _rst_tables(text))


def _walk(obj: griffe.Object, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if obj.docstring is not None:
        obj.docstring.value = _rewrite(obj, obj.docstring.value)
    for member in obj.members.values():
        if member.is_alias:
            continue
        _walk(member, seen)  # type: ignore[arg-type]


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles into autorefs links or inline code once a package is loaded."""

    def on_package(
        self, *, pkg: griffe.Module, loader: griffe.GriffeLoader | None = None, **kwargs: Any
    ) -> None:
        # ``accessors`` refers to genomarray: load it first so that those links resolve
        # whatever order the pages are built in.
        if (
            pkg.name != "genomarray"
            and loader is not None
            and ("genomarray" not in loader.modules_collection)
        ):
            loader.load("genomarray")
        _walk(pkg, set())

"""Generated parts of ``winsim/docs/winsim.md``: never written twice by hand.

The document holds blocks delimited by ``<!-- BEGIN GENERATED: NAME -->`` and
``<!-- END GENERATED: NAME -->``; this module renders each block from the
code that defines it:

``modules``  the modelled upstream modules, their upstream collection version
             (``@model(..., upstream=...)``) and their check-mode behaviour,
             read from the installed module source the way the runner reads it;
``drifts``   the named drifts of ``winsim drift`` (``drift.all_drifts()``);
``faults``   the fault kinds of ``winsim fault`` (``faults.KINDS``).

    python -m winsim.docgen winsim/docs/winsim.md
    python -m ...docgen --check winsim/docs/winsim.md     # exit 1 when a block is stale

A unit test runs the check, so a new model, drift or fault kind fails the
tests until the document is regenerated.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing as t
from pathlib import Path

__all__ = ["BLOCKS", "check", "installed_version", "render", "render_drifts", "render_faults", "render_modules",
           "update", "upstream_mismatches"]

_BLOCK_RE = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[a-z]+) -->\n)(?P<body>.*?)"
                       r"(<!-- END GENERATED: (?P=name) -->)", re.DOTALL)


def installed_version(collection: str) -> str | None:
    """Version of the installed collection ``ns.name`` that ansible would
    load (first in the collection search path), from its ``MANIFEST.json``."""
    import json

    from ansible.utils.collection_loader import AnsibleCollectionConfig

    from .drift import ensure_plugin_loader

    ensure_plugin_loader()
    ns, name = collection.split(".", 1)
    for base in AnsibleCollectionConfig.collection_paths:
        manifest = Path(base) / "ansible_collections" / ns / name / "MANIFEST.json"
        if manifest.is_file():
            return str(json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"])
        galaxy = manifest.with_name("galaxy.yml")  # an in-repo (project-owned) collection, not built
        if galaxy.is_file():
            import yaml

            return str((yaml.safe_load(galaxy.read_text(encoding="utf-8")) or {}).get("version"))
    return None


def upstream_mismatches() -> list[str]:
    """Collections whose installed version is not the one the models were
    written from: the module table can only be rendered faithfully from the
    pinned versions."""
    from .models import load_all

    wanted: dict[str, set[str]] = {}
    for spec in load_all().values():
        collection, _, version = spec.upstream.partition(" ")
        wanted.setdefault(collection, set()).add(version)
    out = []
    for collection, versions in sorted(wanted.items()):
        have = installed_version(collection)
        if have is None or {have} != versions:
            out.append(f"{collection}: installed {have or 'nothing'}, "
                       f"models written from {', '.join(sorted(versions))}")
    return out


def _check_mode(fqcn: str, legacy_check_mode: bool) -> str:
    from .drift import DriftError, ensure_plugin_loader, module_source
    from .models._base import SimulatorError
    from .spec import module_spec

    ensure_plugin_loader()
    try:
        spec = module_spec(fqcn, *module_source(fqcn))
    except (DriftError, SimulatorError) as exc:
        return f"unknown ({exc})"
    if spec.supports_check_mode:
        return "supported"
    if spec.style == "legacy" and spec.supports_check_mode is None and legacy_check_mode:
        return "handled by the module (Legacy)"
    return "not supported: skipped in check mode"


def render_modules() -> str:
    from .models import load_all

    rows = ["| Module | Modelled from | Check mode |", "|---|---|---|"]
    for fqcn, spec in sorted(load_all().items()):
        rows.append(f"| `{fqcn}` | {spec.upstream} | {_check_mode(fqcn, spec.legacy_check_mode)} |")
    return "\n".join(rows) + "\n"


def _arg_usage(arg: t.Any) -> str:
    if arg.positional:
        text = "{" + ",".join(arg.choices) + "}" if arg.choices else arg.dest.upper()
        return f"[{text}]" if not arg.required else text
    if arg.action == "store_true":
        text = arg.name
    elif arg.choices:
        text = f"{arg.name} {{{','.join(arg.choices)}}}"
    else:
        text = f"{arg.name} {arg.dest.upper()}"
    if arg.action == "append":
        text += " ..."
    return text if arg.required else f"[{text}]"


def render_drifts() -> str:
    from .drift import all_drifts

    rows = ["| Drift | Arguments | Section | What it does |", "|---|---|---|---|"]
    for name, spec in sorted(all_drifts().items()):
        usage = " ".join(_arg_usage(a) for a in spec.args)
        rows.append(f"| `{name}` | `{usage}` | `{spec.section}` | {spec.help} |")
    return "\n".join(rows) + "\n"


def render_faults() -> str:
    from .faults import KINDS

    rows = ["| Kind | Target | Effect |", "|---|---|---|"]
    for name, kind in sorted(KINDS.items()):
        rows.append(f"| `{name}` | {kind.target or '(none)'} | {kind.help} |")
    return "\n".join(rows) + "\n"


BLOCKS: dict[str, t.Callable[[], str]] = {
    "modules": render_modules,
    "drifts": render_drifts,
    "faults": render_faults,
}


def render(text: str) -> str:
    """``text`` with every generated block re-rendered."""

    def repl(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in BLOCKS:
            raise ValueError(f"unknown generated block {name!r}")
        return match.group(1) + BLOCKS[name]() + match.group(4)

    return _BLOCK_RE.sub(repl, text)


def check(path: str | Path) -> list[str]:
    """Names of the blocks of ``path`` that differ from the code (and of
    the blocks missing from it)."""
    text = Path(path).read_text(encoding="utf-8")
    found = {m.group("name"): m.group("body") for m in _BLOCK_RE.finditer(text)}
    stale = [name for name in BLOCKS if name not in found]
    stale += [name for name, body in found.items() if name in BLOCKS and BLOCKS[name]() != body]
    return stale


def update(path: str | Path) -> bool:
    """Re-render the blocks of ``path``; returns whether the file changed."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        p.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the generated blocks of winsim/docs/winsim.md.")
    parser.add_argument("path", nargs="?", default="winsim/docs/winsim.md")
    parser.add_argument("--check", action="store_true", help="only report stale blocks (exit 1 if any)")
    args = parser.parse_args(argv)
    mismatches = upstream_mismatches()
    if mismatches:
        print(f"cannot render {args.path} from these collections: {'; '.join(mismatches)} "
              "(use the project's pinned toolchain, make setup)", file=sys.stderr)
        return 2
    if args.check:
        stale = check(args.path)
        if stale:
            print(f"{args.path}: stale generated blocks: {', '.join(stale)}; regenerate with "
                  f"python -m {__name__} {args.path}", file=sys.stderr)
            return 1
        return 0
    changed = update(args.path)
    print(f"{args.path}: {'updated' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

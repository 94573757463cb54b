"""Render a role's reference documentation from its ``meta/argument_specs.yml``.

Each role's doc (``docs/roles/<role>.md``) has a hand-written part (purpose,
requirements, example, idempotence and check mode, rollback) and a generated
part between two markers, rendered from the argument spec so that the
variables are never documented twice (docs/style.md §16)::

    <!-- BEGIN GENERATED: roles/iis/meta/argument_specs.yml -->
    ...
    <!-- END GENERATED -->

Command line (from the repository root)::

    PYTHONPATH=collections python -m ansible_collections.mcms.infra.plugins.plugin_utils._roledoc [--check] [ROLE ...]

Without ``--check`` the generated parts are rewritten in place (a missing doc
is created with its markers); with ``--check`` nothing is written and the exit
status is 1 when a doc is stale or missing.  Without role names every role
under ``roles/`` that has a ``meta/argument_specs.yml`` is processed.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import typing as t

import yaml

BEGIN = "<!-- BEGIN GENERATED: {source} -->"
END = "<!-- END GENERATED -->"
NOTE = ("_Generated from `{source}` by `python -m ansible_collections.mcms.infra.plugins.plugin_utils._roledoc`; "
        "edit the argument spec, not this section._")


class RoleDocError(Exception):
    """A doc cannot be rendered or updated (bad spec, markers missing)."""


def _text(value: t.Any) -> str:
    """Inline text for a Markdown table cell: joined lines, pipes escaped,
    Ansible doc markup (``O(x)``, ``C(x)``, ``V(x)``, ``I(x)``) as code."""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = " ".join(str(value or "").split())
    for macro in ("O", "C", "V", "I", "M"):
        while f"{macro}(" in text:
            start = text.index(f"{macro}(")
            depth, end = 0, start + 2
            for end in range(start + 2, len(text)):
                if text[end] == "(":
                    depth += 1
                elif text[end] == ")":
                    if depth == 0:
                        break
                    depth -= 1
            else:
                break
            text = text[:start] + "`" + text[start + 2:end] + "`" + text[end + 1:]
    return text.replace("|", "\\|")


def _default(option: dict[str, t.Any]) -> str:
    if "default" not in option:
        return "*required*" if option.get("required") else ""
    value = option["default"]
    if value is None:
        return "`null`"
    rendered = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    if rendered.endswith("\n..."):
        rendered = rendered[:-4].strip()
    rendered = rendered.removesuffix("...").strip()
    return f"`{rendered}`".replace("|", "\\|")


def _type(option: dict[str, t.Any]) -> str:
    kind = str(option.get("type", "str"))
    if kind == "list" and option.get("elements"):
        kind = f"list of {option['elements']}"
    if option.get("choices"):
        kind += " (" + ", ".join(f"`{c}`" for c in option["choices"]) + ")"
    return kind


@dataclasses.dataclass
class _Renderer:
    """Renders options as tables; a nested option set shared by YAML anchor
    (the same object) is rendered once and referred to afterwards."""

    seen: dict[int, str] = dataclasses.field(default_factory=dict)
    lines: list[str] = dataclasses.field(default_factory=list)

    def options(self, options: dict[str, t.Any], prefix: str = "") -> None:
        if not isinstance(options, dict):
            raise RoleDocError(f"options of '{prefix or 'entry point'}' must be a mapping")
        nested: list[tuple[str, dict[str, t.Any]]] = []
        self.lines += ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
        for name in sorted(options):
            option = options[name] or {}
            if not isinstance(option, dict):
                raise RoleDocError(f"option '{prefix}{name}' must be a mapping")
            if "description" not in option:
                raise RoleDocError(f"option '{prefix}{name}' has no description")
            full = f"{prefix}{name}"
            description = _text(option.get("description"))
            sub = option.get("options")
            element = "[]" if option.get("type") == "list" else ""
            if isinstance(sub, dict) and id(sub) in self.seen:
                description += f" Same options as `{self.seen[id(sub)]}.*`."
            elif isinstance(sub, dict):
                description += f" Options below (`{full}{element}.*`)."
                self.seen[id(sub)] = f"{full}{element}"
                nested.append((full, option))
            self.lines.append(f"| `{full}` | {_type(option)} | {_default(option)} | {description} |")
        self.lines.append("")
        for full, option in nested:
            element = "[]" if option.get("type") == "list" else ""
            self.lines += [f"#### Options of `{full}{element}`", ""]
            self.options(option["options"], f"{full}{element}.")


def render(spec_path: pathlib.Path, source: str) -> str:
    """The generated section (markers included) for the spec at ``spec_path``."""
    try:
        data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RoleDocError(f"{source}: cannot read the argument spec: {exc}") from exc
    entry_points = (data or {}).get("argument_specs")
    if not isinstance(entry_points, dict) or not entry_points:
        raise RoleDocError(f"{source}: no argument_specs entry points")
    renderer = _Renderer()
    out = [BEGIN.format(source=source), "", NOTE.format(source=source), ""]
    for entry_name in sorted(entry_points, key=lambda n: (n != "main", n)):
        entry = entry_points[entry_name] or {}
        out += [f"### Entry point `{entry_name}`: {_text(entry.get('short_description'))}", ""]
        for paragraph in entry.get("description") or []:
            out += [f"- {_text(paragraph)}"]
        out.append("")
        renderer.lines = []
        renderer.options(entry.get("options") or {})
        out += renderer.lines
    out.append(END)
    return "\n".join(out) + "\n"


def update(doc: str, section: str, source: str) -> str:
    """``doc`` with its generated section replaced by ``section``."""
    begin = BEGIN.format(source=source)
    if begin not in doc or END not in doc:
        raise RoleDocError(f"the doc has no generated section; add the lines '{begin}' and '{END}'")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(END, 1)
    return head + section.rstrip("\n") + tail


def skeleton(role: str, section: str) -> str:
    return (f"# Role `{role}`\n\n## Purpose\n\n## Requirements\n\n## Example\n\n"
            "## Idempotence and check mode\n\n## Rollback\n\n## Variables\n\n" + section)


def process(root: pathlib.Path, roles: list[str], check: bool) -> list[str]:
    """Render or check the docs of ``roles`` (all roles with an argument spec
    when empty).  Returns the problems found (stale or missing docs in check
    mode, errors in both modes)."""
    names = roles or sorted(p.parent.parent.name for p in (root / "roles").glob("*/meta/argument_specs.yml"))
    problems = []
    for role in names:
        spec = root / "roles" / role / "meta" / "argument_specs.yml"
        source = spec.relative_to(root).as_posix()
        doc_path = root / "docs" / "roles" / f"{role}.md"
        try:
            section = render(spec, source)
            current = doc_path.read_text(encoding="utf-8") if doc_path.exists() else None
            wanted = update(current, section, source) if current is not None else skeleton(role, section)
        except RoleDocError as exc:
            problems.append(f"{role}: {exc}")
            continue
        if current == wanted:
            continue
        rel = doc_path.relative_to(root).as_posix()
        if check:
            problems.append(f"{rel} is {'missing' if current is None else 'stale'}: regenerate it from {source}")
        else:
            doc_path.parent.mkdir(parents=True, exist_ok=True)
            doc_path.write_text(wanted, encoding="utf-8")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render docs/roles/<role>.md from the role's argument spec.")
    parser.add_argument("roles", nargs="*", help="role names (default: every role with meta/argument_specs.yml)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a doc is stale")
    parser.add_argument("--root", type=pathlib.Path, default=pathlib.Path.cwd(), help="repository root")
    args = parser.parse_args(argv)
    problems = process(args.root.resolve(), args.roles, args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

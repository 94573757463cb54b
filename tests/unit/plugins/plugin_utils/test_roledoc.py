"""Tests of the role reference doc generator, and the guard that keeps every
docs/roles/<role>.md generated section in step with its argument spec."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.mcms.infra.plugins.plugin_utils import _roledoc as roledoc

REPO = pathlib.Path(__file__).resolve().parents[4]
ROLES_WITH_SPECS = sorted(p.parent.parent.name for p in (REPO / "roles").glob("*/meta/argument_specs.yml"))

SPEC = """\
argument_specs:
  main:
    short_description: Demo role
    description:
      - Does C(one) thing.
    options:
      demo_sites:
        type: list
        elements: dict
        default: []
        description: Sites. See O(demo_port).
        options: &site
          name:
            type: str
            required: true
            description: Site name | with a pipe.
      demo_host_sites:
        type: list
        elements: dict
        default: []
        description: Host sites.
        options: *site
      demo_port:
        type: int
        default: 443
        choices: [443, 8443]
        description: Port.
"""


def make_repo(tmp_path: pathlib.Path, doc: str | None) -> pathlib.Path:
    (tmp_path / "roles" / "demo" / "meta").mkdir(parents=True)
    (tmp_path / "roles" / "demo" / "meta" / "argument_specs.yml").write_text(SPEC, encoding="utf-8")
    if doc is not None:
        (tmp_path / "docs" / "roles").mkdir(parents=True)
        (tmp_path / "docs" / "roles" / "demo.md").write_text(doc, encoding="utf-8")
    return tmp_path


MARKED = ("# Role demo\n\nHand-written.\n\n<!-- BEGIN GENERATED: roles/demo/meta/argument_specs.yml -->\nold\n"
          "<!-- END GENERATED -->\n\nAfter.\n")


def test_render_tables_defaults_choices_and_shared_options(tmp_path: pathlib.Path) -> None:
    repo = make_repo(tmp_path, MARKED)
    assert roledoc.process(repo, [], check=False) == []
    doc = (repo / "docs" / "roles" / "demo.md").read_text(encoding="utf-8")
    assert doc.startswith("# Role demo\n\nHand-written.\n\n<!-- BEGIN GENERATED")
    assert doc.endswith("<!-- END GENERATED -->\n\nAfter.\n")
    assert "- Does `one` thing." in doc
    assert "| `demo_port` | int (`443`, `8443`) | `443` | Port. |" in doc
    assert "| `demo_host_sites[].name` | str | *required* | Site name \\| with a pipe. |" in doc
    assert "Same options as `demo_host_sites[].*`." in doc  # rendered once, referred to afterwards
    assert "See `demo_port`." in doc
    assert "old" not in doc


def test_check_reports_a_stale_doc_and_writes_nothing(tmp_path: pathlib.Path) -> None:
    repo = make_repo(tmp_path, MARKED)
    problems = roledoc.process(repo, ["demo"], check=True)
    assert problems == ["docs/roles/demo.md is stale: regenerate it from roles/demo/meta/argument_specs.yml"]
    assert (repo / "docs" / "roles" / "demo.md").read_text(encoding="utf-8") == MARKED


def test_check_passes_once_rendered(tmp_path: pathlib.Path) -> None:
    repo = make_repo(tmp_path, MARKED)
    roledoc.process(repo, [], check=False)
    assert roledoc.process(repo, [], check=True) == []
    assert roledoc.main(["--check", "--root", str(repo)]) == 0


def test_missing_doc_is_created_with_its_sections(tmp_path: pathlib.Path) -> None:
    repo = make_repo(tmp_path, None)
    assert roledoc.process(repo, [], check=True) == [
        "docs/roles/demo.md is missing: regenerate it from roles/demo/meta/argument_specs.yml"]
    assert roledoc.process(repo, [], check=False) == []
    doc = (repo / "docs" / "roles" / "demo.md").read_text(encoding="utf-8")
    assert "## Rollback" in doc
    assert "<!-- END GENERATED -->" in doc


def test_doc_without_markers_is_an_error(tmp_path: pathlib.Path) -> None:
    repo = make_repo(tmp_path, "# Role demo\n")
    problems = roledoc.process(repo, [], check=False)
    assert len(problems) == 1
    assert "has no generated section" in problems[0]
    assert roledoc.main(["--root", str(repo)]) == 1


def test_option_without_description_is_an_error(tmp_path: pathlib.Path) -> None:
    repo = make_repo(tmp_path, MARKED)
    spec = repo / "roles" / "demo" / "meta" / "argument_specs.yml"
    spec.write_text(SPEC.replace("        description: Port.\n", ""), encoding="utf-8")
    assert roledoc.process(repo, [], check=False) == ["demo: option 'demo_port' has no description"]


@pytest.mark.parametrize("role", ROLES_WITH_SPECS)
def test_committed_role_docs_are_current(role: str) -> None:
    """Fails when roles/<role>/meta/argument_specs.yml changed without
    regenerating docs/roles/<role>.md (run the generator without --check)."""
    assert roledoc.process(REPO, [role], check=True) == []

"""Tests of the generated parts of ``winsim/docs/winsim.md`` (``docgen.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from winsim import docgen
from winsim.drift import DRIFTS
from winsim.faults import KINDS
from winsim.models import load_all

DOC = Path(__file__).resolve().parents[2] / "docs" / "winsim.md"


def test_docs_winsim_md_is_up_to_date() -> None:
    mismatches = docgen.upstream_mismatches()
    if mismatches:
        pytest.skip(f"installed collections differ from the pinned ones: {'; '.join(mismatches)}")
    stale = docgen.check(DOC)
    assert stale == [], (f"winsim/docs/winsim.md is stale ({', '.join(stale)}); run: .venv/bin/python -m "
                         "winsim.docgen winsim/docs/winsim.md")


def test_modules_table_names_every_model_and_its_upstream_version() -> None:
    table = docgen.render_modules()
    for fqcn, spec in load_all().items():
        assert f"| `{fqcn}` | {spec.upstream} |" in table


def test_pinned_collections_have_no_mismatch_on_the_newest_toolchain() -> None:
    from ansible.release import __version__

    if not __version__.startswith("2.21."):
        pytest.skip("the temporary 2.19 environment carries older collections")
    assert docgen.upstream_mismatches() == []


def test_installed_version_reads_the_manifest() -> None:
    assert docgen.installed_version("ansible.windows") is not None
    assert docgen.installed_version("nobody.nothing") is None


@pytest.mark.parametrize(("fqcn", "check_mode"), [
    ("ansible.windows.win_feature", "supported"),
    ("community.windows.win_regmerge", "not supported: skipped in check mode"),
])
def test_modules_table_reads_check_mode_from_the_source(fqcn: str, check_mode: str) -> None:
    (row,) = [r for r in docgen.render_modules().splitlines() if f"`{fqcn}`" in r]
    assert row.endswith(f"| {check_mode} |")


def test_drift_and_fault_tables_list_every_entry() -> None:
    drifts, faults = docgen.render_drifts(), docgen.render_faults()
    assert all(f"| `{name}` |" in drifts for name in DRIFTS)
    assert all(f"| `{name}` |" in faults for name in KINDS)


def test_render_replaces_only_generated_blocks() -> None:
    text = "intro\n<!-- BEGIN GENERATED: faults -->\nold\n<!-- END GENERATED: faults -->\noutro\n"
    assert docgen.render(text) == ("intro\n<!-- BEGIN GENERATED: faults -->\n" + docgen.render_faults()
                                   + "<!-- END GENERATED: faults -->\noutro\n")


def test_check_reports_stale_and_missing_blocks(tmp_path: Path) -> None:
    doc = tmp_path / "w.md"
    doc.write_text("<!-- BEGIN GENERATED: faults -->\nold\n<!-- END GENERATED: faults -->\n")
    assert sorted(docgen.check(doc)) == ["drifts", "faults", "modules"]


def test_update_then_check_is_clean(tmp_path: Path) -> None:
    doc = tmp_path / "w.md"
    doc.write_text("".join(f"<!-- BEGIN GENERATED: {n} -->\n<!-- END GENERATED: {n} -->\n" for n in docgen.BLOCKS))
    assert docgen.update(doc) is True
    assert docgen.check(doc) == []


def test_unknown_block_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown generated block 'nope'"):
        docgen.render("<!-- BEGIN GENERATED: nope -->\n<!-- END GENERATED: nope -->\n")


def test_main_check_exit_status(tmp_path: Path) -> None:
    doc = tmp_path / "w.md"
    doc.write_text("nothing generated\n")
    assert docgen.main(["--check", str(doc)]) == (2 if docgen.upstream_mismatches() else 1)

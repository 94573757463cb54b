"""One way for tests to read drift: the drift records of the ``mcms.infra.drift`` collector.

Playbook tests, Molecule side effects (through :func:`main`) and the drift
check's own tests assert on the records of a drift report (``drift.json``,
schema ``docs/schemas/drift-report-v1.schema.json``) instead of parsing task
names out of recorder output::

    run = drift_check(lab, tmp_path / "reports")
    assert run.returncode == EXIT_DRIFT
    assert find(run.report, host="web01", resource_type="iis_site", resource="MCMS", attribute="state")

:func:`drift_check` runs ``bin/mcms-drift-check`` (the operator's command)
against a lab; :func:`find` / :func:`summary` read its report; :func:`expect`
compares a report with the expected drift.  Molecule side effects call the same
code as a command (no import of the test package needed)::

    python tests/playbooks/drift.py REPORT_DIR/ENV/latest \
        --expect 'web01|iis_site|MCMS|state' --expect 'web01|iis_app_pool|MCMS-Api-Pool|startMode'

which exits 1 and prints both lists unless the report's drift is exactly the
expected (host, resource_type, resource, attribute) set (``*`` matches any
field; ``--allow-coarse`` accepts coarse records).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import typing as t

REPO = pathlib.Path(__file__).resolve().parents[2]
EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR = 0, 3, 4
SCHEMA = REPO / "docs" / "schemas" / "drift-report-v1.schema.json"
WRAPPER = REPO / "bin" / "mcms-drift-check"


@dataclasses.dataclass
class DriftRun:
    """One ``bin/mcms-drift-check`` run and the report it left."""

    returncode: int
    stdout: str
    stderr: str
    report_dir: pathlib.Path
    run_dir: pathlib.Path | None
    report: dict[str, t.Any]

    @property
    def output(self) -> str:
        return (self.stdout + "\n--- stderr ---\n" + self.stderr)[-12000:]


def load_report(run_dir: pathlib.Path) -> dict[str, t.Any]:
    return json.loads((run_dir / "drift.json").read_text(encoding="utf-8"))


def drift_check(lab: t.Any, report_dir: pathlib.Path, *extra: str, env: str = "sim",
                keep_weeks: int = 12) -> DriftRun:
    """``bin/mcms-drift-check`` against ``lab`` (a :class:`tests.playbooks.lab.Lab`), with the
    toolchain running the tests; the report goes to ``report_dir``."""
    environ = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PY_COLORS="0")
    for name in ("ANSIBLE_CONFIG", "WINSIM_STATE_DIR", "ANSIBLE_INVENTORY", "ANSIBLE_CHECK_MODE",
                 "ANSIBLE_CALLBACKS_ENABLED", "MCMS_DRIFT_RUN_ID"):
        environ.pop(name, None)
    argv = [sys.executable, str(WRAPPER), "--env", env, "-i", str(lab.inventory), "--report-dir", str(report_dir),
            "--keep-weeks", str(keep_weeks), *(("--", *extra) if extra else ())]
    proc = subprocess.run(argv, cwd=REPO, env=environ, capture_output=True, text=True, timeout=900, check=False)
    latest = report_dir / env / "latest"
    run_dir = latest.resolve() if latest.exists() else None
    report = load_report(run_dir) if run_dir is not None else {}
    return DriftRun(returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, report_dir=report_dir,
                    run_dir=run_dir, report=report)


def find(report: dict[str, t.Any], **where: t.Any) -> list[dict[str, t.Any]]:
    """The drift records of ``report`` whose fields equal ``where`` (host, role, resource_type, resource,
    attribute, ...)."""
    return [d for d in report.get("drift", []) if all(d.get(k) == v for k, v in where.items())]


def summary(report: dict[str, t.Any]) -> str:
    """The drift records as readable lines, for assertion messages."""
    return "\n".join(f"  {d['host']}: {d['role']}: {d['resource_type']} {d['resource']} {d['attribute']}: "
                     f"wanted {d['wanted']!r}, found {d['found']!r} ({d['source']})"
                     for d in report.get("drift", [])) or "  (no drift)"


def counts(report: dict[str, t.Any], host: str | None = None) -> dict[str, int]:
    """Number of drift records per (host,) resource: ``{"web01 iis_site MCMS": 1, ...}``."""
    out: dict[str, int] = {}
    for d in report.get("drift", []):
        if host is None or d["host"] == host:
            key = f"{d['host']} {d['resource_type']} {d['resource']}"
            out[key] = out.get(key, 0) + 1
    return out


def keys(report: dict[str, t.Any]) -> list[tuple[str, str, str, str]]:
    """(host, resource_type, resource, attribute) of every drift record, sorted."""
    return sorted((d["host"], d["resource_type"], d["resource"], d["attribute"]) for d in report.get("drift", []))


def expect(report: dict[str, t.Any], expected: t.Iterable[tuple[str, str, str, str]], *,
           allow_coarse: bool = False) -> list[str]:
    """Problems (empty when none) between the report's drift and ``expected``
    (each field may be ``*``): a missing drift, an unexpected one, a coarse
    record when not allowed, an error, a run that could not check something."""
    problems: list[str] = []
    found = keys(report)
    patterns = [tuple(e) for e in expected]
    matched: set[int] = set()
    for pattern in patterns:
        hits = [i for i, k in enumerate(found) if all(p in ("*", v) for p, v in zip(pattern, k, strict=True))]
        if not hits:
            problems.append(f"missing drift {'|'.join(pattern)}")
        matched.update(hits)
    problems.extend(f"unexpected drift {'|'.join(k)}" for i, k in enumerate(found) if i not in matched)
    if not allow_coarse:
        problems.extend(f"coarse record (no wanted/found): {d['host']} {d['task']}" for d in report.get("drift", [])
                        if d.get("coarse"))
    problems.extend(f"error on {e['host']}: {e.get('task')}: {e.get('msg')}" for e in report.get("errors", []))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Assert the drift of a drift report (tests/playbooks/drift.py).")
    parser.add_argument("run_dir", type=pathlib.Path, help="the report directory (holds drift.json), e.g. .../latest")
    parser.add_argument("--expect", action="append", default=[], metavar="HOST|TYPE|RESOURCE|ATTRIBUTE")
    parser.add_argument("--allow-coarse", action="store_true")
    args = parser.parse_args(argv)
    report = load_report(args.run_dir)
    expected = []
    for item in args.expect:
        parts = item.split("|")
        if len(parts) < 4:
            parser.error(f"--expect {item!r}: want HOST|TYPE|RESOURCE|ATTRIBUTE")
        # a resource may hold "|" itself (a task name): host and type first, attribute last
        expected.append((parts[0], parts[1], "|".join(parts[2:-1]), parts[-1]))
    problems = expect(report, expected, allow_coarse=args.allow_coarse)
    print(summary(report))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

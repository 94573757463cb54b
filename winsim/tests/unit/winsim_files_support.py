"""Test support: ``run(fqcn, host, **params)`` runs a model through the one
test runner (``conftest.run_in_place``: the connection plugin's path, real
argument validation against the upstream module's spec, the runner's failure
transaction) and leaves in ``host`` the state the run leaves."""

from __future__ import annotations

import datetime as dt
import typing as t

from winsim import state as st
from winsim.models import load_all

NOW = dt.datetime(2026, 3, 2, 14, 30, 15, tzinfo=dt.UTC)

load_all()


def fresh(hostname: str = "web01") -> dict[str, t.Any]:
    return st.fresh_state(hostname)


def run(fqcn: str, host: dict[str, t.Any], /, *, check: bool = False, diff: bool = False,
        now: dt.datetime = NOW, faults: t.Any = None, runtime: t.Any = None, **params: t.Any) -> t.Any:
    """Run the model through the one test runner (``conftest.run_in_place``:
    real argument validation, the runner's failure transaction); ``host``
    becomes the state the run leaves."""
    from conftest import run_in_place

    return run_in_place(fqcn, host, check=check, diff=diff, now=now, faults=faults, runtime=runtime, **params)

"""The FQCN -> model file index that keeps module runs from importing every model."""

from __future__ import annotations

import subprocess
import sys

from winsim.models import _index, index_from_registry


def test_index_matches_the_registry() -> None:
    """A stale index would make every run of a new model import all models:
    regenerate with ``python -m winsim.models``."""
    assert index_from_registry() == _index.INDEX


def test_running_one_module_imports_only_its_model_file(tmp_path) -> None:
    """The hot path imports the requested module's model file, not all of them."""
    code = (
        "import sys\n"
        "from winsim.models import get_model\n"
        "assert get_model('ansible.windows.win_ping').fqcn == 'ansible.windows.win_ping'\n"
        "prefix = 'winsim.models.'\n"
        "print(sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env={"PYTHONPATH": ":".join(p for p in sys.path if p)}).stdout
    assert eval(out) == ["_base", "_index", "facts"]


def test_unknown_module_has_no_model() -> None:
    from winsim.models import get_model

    assert get_model("ansible.windows.win_no_such_module") is None

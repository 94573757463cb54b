"""The project-owned ``mcms.infra.win_schannel`` module
(``collections/ansible_collections/mcms/infra/plugins/modules/win_schannel.ps1``).

It works on winsim's registry (``state["registry"]``, see ``registry.py``)
through the same key helpers, so ``winsim drift set-registry``/``remove-registry``
and ``winsim set`` on registry keys interact with it exactly as with
``win_regedit``:

* only the values given in ``values`` (SCHANNEL key path relative to
  ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL`` ->
  value name -> DWORD) and, with ``cipher_suite_order``, the REG_SZ
  ``Functions`` of ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002``
  are read; a value differs when it is missing, of another type or other data;
* in normal mode the marker ``HKLM\\SOFTWARE\\MCMS\\Infra`` ``SchannelRebootPending``
  (REG_SZ, ISO 8601 UTC, .NET's round-trip ``o`` format) is written first, then the
  differing values (missing keys are created); nothing else is touched;
* ``reboot_pending`` is the marker compared with ``state["host"]["last_boot"]``
  (``Win32_OperatingSystem.LastBootUpTime``), which the simulated
  ``ansible.windows.win_reboot`` moves on (``transport.py``).

The host's clock is ``ctx.now()``, but never earlier than one second after the
last boot: a real host cannot be running before it booted, while winsim's
pinned lab clock may lag behind a simulated reboot (``transport._reboot``
moves ``last_boot`` past the pinned time).
"""

from __future__ import annotations

import datetime as _dt
import typing as t

from .. import state as st
from ._base import ModuleContext, model
from .registry import SCHANNEL, get_value, set_value

UPSTREAM = "mcms.infra 0.1.0"

ORDER_KEY = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002"
MARKER_KEY = "HKLM\\SOFTWARE\\MCMS\\Infra"
MARKER_NAME = "SchannelRebootPending"

_DWORD_MAX = 0xFFFFFFFF


def _dword(ctx: ModuleContext, where: str, value: t.Any) -> int:
    """``ConvertTo-Dword``: an integer (or integer string) within DWORD range;
    -1 .. -2^31 are the signed spelling of the high half."""
    bad = (f"values: {where} is '{_ps(value)}', not a DWORD; give an integer from 0 to 4294967295")
    if isinstance(value, bool):
        ctx.fail(bad)
    try:
        number = int(str(value).strip())
    except ValueError:
        ctx.fail(bad)
    if -(2 ** 31) <= number < 0:
        number += 2 ** 32
    if number < 0 or number > _DWORD_MAX:
        ctx.fail(bad)
    return number


def _ps(value: t.Any) -> str:
    from ..pwsh import ps_str

    return ps_str(value)


def _read(state: dict[str, t.Any], path: str, name: str) -> tuple[bool, str | None, t.Any]:
    """``Get-RegistryData``: (exists, RegistryValueKind name, data)."""
    from .registry import TYPE_NAMES

    val = get_value(state, path, name)
    if val is None:
        return False, None, None
    data = val["data"]
    if val["type"] == "dword":
        data = int(data) & _DWORD_MAX
    return True, TYPE_NAMES[val["type"]], data


def _sort(names: t.Iterable[str]) -> list[str]:
    return sorted(names, key=lambda n: (n.lower(), n))


def _iso_o(when: _dt.datetime) -> str:
    """``[DateTime]::UtcNow.ToString('o')``: seven fraction digits and ``Z``."""
    when = when.astimezone(_dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"


def _parse_o(text: t.Any) -> _dt.datetime | None:
    """``[DateTime]::TryParse(..., RoundtripKind)`` for the formats a marker holds."""
    if not isinstance(text, str) or not text.strip():
        return None
    s = text.strip().replace("Z", "+00:00")
    head, dot, rest = s.partition(".")
    if dot:  # .NET writes 7 fraction digits; Python reads at most 6
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        s = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        when = _dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if when.tzinfo is None:  # RoundtripKind leaves an unzoned time as local; winsim hosts run on UTC
        when = when.replace(tzinfo=_dt.UTC)
    return when.astimezone(_dt.UTC)


def host_clock(ctx: ModuleContext) -> _dt.datetime:
    boot = st.parse_iso(ctx.state["host"]["last_boot"])
    now = ctx.now()
    return max(now, boot + _dt.timedelta(seconds=1))


@model("mcms.infra.win_schannel", upstream=UPSTREAM)
def win_schannel(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    changes: list[tuple[str, str, str, t.Any]] = []
    drift: list[dict[str, t.Any]] = []
    before: dict[str, dict[str, t.Any]] = {}
    after: dict[str, dict[str, t.Any]] = {}
    values = p["values"] or {}
    for sub in _sort(values):
        wanted = values[sub]
        if wanted is None:
            continue
        if not isinstance(wanted, dict):
            ctx.fail(f"values: '{sub}' must map value names to DWORDs, got '{_ps(wanted)}'")
        if sub.startswith("\\") or sub.endswith("\\") or "\\\\" in sub:
            ctx.fail(f"values: '{sub}' is not a key path relative to the SCHANNEL key (no leading, trailing or "
                     "doubled '\\')")
        path = f"{SCHANNEL}\\{sub}" if sub else SCHANNEL
        label = path.replace("HKLM\\", "HKLM:\\", 1)
        for name in _sort(wanted):
            want = _dword(ctx, f"'{sub}' {name}", wanted[name])
            exists, kind, found = _read(state, path, name)
            before.setdefault(label, {})[name] = found
            after.setdefault(label, {})[name] = want
            if not (exists and kind == "DWord" and found == want):
                changes.append((path, name, "dword", want))
                drift.append({"resource_type": "schannel", "resource": label, "attribute": name,
                              "wanted": want, "found": found})
    order = p.get("cipher_suite_order")
    if order is not None:
        suites = [s for s in order if s]
        if not suites:
            ctx.fail("cipher_suite_order: an empty list would disable every cipher suite; omit the option to "
                     "leave the order alone")
        want_s = ",".join(suites)
        exists, kind, found = _read(state, ORDER_KEY, "Functions")
        label = ORDER_KEY.replace("HKLM\\", "HKLM:\\", 1)
        before[label] = {"Functions": found}
        after[label] = {"Functions": want_s}
        if not (exists and kind == "String" and found == want_s):
            changes.append((ORDER_KEY, "Functions", "string", want_s))
            drift.append({"resource_type": "schannel", "resource": label, "attribute": "Functions",
                          "wanted": want_s, "found": found})

    if changes:
        ctx.changed(True)
        if not ctx.check_mode:
            set_value(state, MARKER_KEY, MARKER_NAME, "string", _iso_o(host_clock(ctx)))
            for path, name, vtype, data in changes:
                set_value(state, path, name, vtype, data)

    last_boot = st.parse_iso(state["host"]["last_boot"]).astimezone(_dt.UTC)
    pending, since = False, None
    exists, _kind, marker = _read(state, MARKER_KEY, MARKER_NAME)
    if exists:
        when = _parse_o(marker if isinstance(marker, str) else None)
        if when is not None and when > last_boot:
            pending, since = True, _iso_o(when)
    ctx.set_diff(before, after)
    return ctx.exit(reboot_required=bool(changes), reboot_pending=pending, pending_since=since,
                    mcms_drift=drift, last_boot=_iso_o(last_boot))

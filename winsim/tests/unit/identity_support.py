"""A small simulated lab for identity tests: a DC state saved where the
``run_module`` fixture's runtime looks for the lab (the state directory of
``host_store``), and domain members that know their domain."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from iis_ad_support import NOW, run

from winsim import state as st
from winsim.models import ad
from winsim.store import HostStore

DOMAIN = "corp.mcms.internal"
NETBIOS = "CORP"
DN = "DC=corp,DC=mcms,DC=internal"
ADMIN_PASSWORD = "Adm1n!Pass"


def make_dc(hostname: str = "dc01", *, domain: str = DOMAIN, netbios: str = NETBIOS) -> dict[str, t.Any]:
    """A DC state with a usable KDS root key."""
    dc = st.fresh_state(hostname)
    ad.ensure_domain(dc, domain, netbios, admin_password=ADMIN_PASSWORD)
    r = run("microsoft.ad.kds_root_key", dc, effective_time_hours=0)
    assert not r.failed, r.result
    return dc


def ad_run(dc: dict[str, t.Any], fqcn: str, **params: t.Any) -> t.Any:
    r = run(fqcn, dc, now=NOW, **params)
    assert not r.failed, r.result
    return r


def save(lab_dir: Path, host: str, state: dict[str, t.Any]) -> None:
    HostStore(lab_dir / f"{host}.json", host).save_state(state)


def load(lab_dir: Path, host: str) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], json.loads((lab_dir / f"{host}.json").read_text(encoding="utf-8")))


def member(hostname: str = "winsim", *, domain: str = DOMAIN, netbios: str = NETBIOS) -> dict[str, t.Any]:
    """A fresh host that joined ``domain`` (its state only; see
    ``microsoft.ad.membership`` for the real join)."""
    h = st.fresh_state(hostname)
    h["host"].update(domain=domain, domain_netbios=netbios, workgroup=None, domain_role="Member server")
    return h


def add_computer(dc: dict[str, t.Any], hostname: str) -> dict[str, t.Any]:
    """The computer object a join creates (as ``membership`` does)."""
    name = hostname.upper()
    rid = dc["ad"]["next_rid"]
    dc["ad"]["next_rid"] = rid + 1
    dn = f"CN={name},CN=Computers,{dc['ad']['domain']['dn']}"
    obj = {"guid": f"00000000-0000-4000-8000-{rid:012d}", "dn": dn, "name": name, "class": "computer",
           "sid": f"{dc['ad']['domain']['sid']}-{rid}",
           "attrs": {"samaccountname": f"{name}$", "enabled": True, "description": None,
                     "protectedfromaccidentaldeletion": False}}
    dc["ad"]["objects"][obj["guid"]] = obj
    return obj


def dc_with_gmsas(lab_dir: Path, member_name: str = "WINSIM",
                  names: tuple[str, ...] = ("gmsa_app", "gmsa_wrk")) -> dict[str, t.Any]:
    """dc01 with ``member_name`` joined and gMSAs it may retrieve, saved in
    ``lab_dir`` (where the member's resolver finds the domain)."""
    lab_dir.mkdir(parents=True, exist_ok=True)
    dc = make_dc()
    add_computer(dc, member_name)
    for name in names:
        ad_run(dc, "microsoft.ad.service_account", name=name, dns_hostname=f"{name}.corp.mcms.internal",
               allowed_to_retrieve_password={"set": [f"{member_name}$"]})
    save(lab_dir, "dc01", dc)
    return dc


class MemLab:
    """An in-memory lab (``runtime.Lab``'s read/edit interface) for the
    model-level ``run`` helpers."""

    def __init__(self, states: dict[str, dict[str, t.Any]]) -> None:
        self.states = states
        self.spec: dict[str, t.Any] | None = None

    def hosts(self) -> list[str]:
        return sorted(self.states)

    def state(self, host: str) -> dict[str, t.Any] | None:
        return self.states.get(host)

    def edit(self, host: str) -> t.Any:
        import contextlib

        @contextlib.contextmanager
        def cm() -> t.Iterator[dict[str, t.Any]]:
            work = json.loads(json.dumps(self.states[host]))
            yield work
            self.states[host] = work

        return cm()


class Runtime:
    def __init__(self, lab: MemLab) -> None:
        self.lab = lab

"""A private, multi-host simulated lab for the ``test_site_*`` playbook tests.

Every lab is a temporary directory laid out like the repository, so the
relative paths in ``inventories/sim`` resolve inside it and nothing touches
the developer's ``.winsim/``::

    <root>/inventories/sim/        copy of the repository's inventories/sim
    <root>/.winsim/sim/            winsim host state files and their sidecars
    <root>/.winsim/sim-pki/        the tls role's controller-side lab CA
    <root>-records/                recorder output (outside the lab, so the lab's own
                                   files can be compared byte for byte)

Converging a fresh lab is the slowest step of the suite, so it is done once
per session (:func:`golden`) and every test module works on its own copy
(:meth:`Lab.clone`).  Mutations go through the ``winsim`` CLI, exactly as an
operator or a CI job would script them; results are read from the
``mcms.infra.recorder`` JSON lines, the ``winsim stats`` sidecars and the host
state documents (a stable, documented format: ``winsim/docs/winsim.md``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import textwrap
import time
import typing as t

import pytest
import yaml

from .conftest import REPO, ansible_bin

# winsim's bookkeeping beside each host state (round-trip statistics, trace,
# lock file): written on every round trip by design, also in check mode.
SIDECAR_SUFFIXES = (".stats.json", ".trace.jsonl", ".lock")
# Repository paths the suite never compares: toolchains, VCS and caches.
_REPO_SKIP = {".git", ".venv", ".venv-oldest", ".pytest_cache", ".ruff_cache", "__pycache__", "wheelhouse"}
# Source trees teammates edit while the suite runs; a new, git-tracked-or-trackable
# file there is their work, never something ansible-playbook writes.
_SOURCE_TREES = {"roles", "molecule", "tests", "collections", "docs", "playbooks", "inventories", "changelogs",
                 "bench", "scripts", "requirements", ".ci", ".config"}
_RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                    r"\s+failed=(?P<failures>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)"
                    r"\s+ignored=(?P<ignored>\d+)", re.MULTILINE)
PLAYBOOK_TIMEOUT = 1200


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def probe_result(run: Run) -> dict[str, t.Any]:
    """The module result an ad-hoc run printed (``host | SUCCESS => ...``, JSON
    or the YAML of the configured callback), or {}."""
    match = re.search(r"=>[ \t]*\n?(.*)$", run.stdout, re.DOTALL)
    if not match:
        return {}
    try:
        doc = yaml.safe_load(textwrap.dedent(match.group(1)))
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


@dataclasses.dataclass
class Run:
    """One ``ansible-playbook`` (or ``ansible``) run and what it left behind."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, t.Any]]
    wall: float

    @property
    def output(self) -> str:
        """The end of the run's output, for assertion messages."""
        text = self.stdout + ("\n--- stderr ---\n" + self.stderr if self.stderr.strip() else "")
        return text[-12000:]

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP per host: the recorder's summary, else the printed recap."""
        for record in reversed(self.records):
            if record.get("type") == "summary":
                return {h: dict(v) for h, v in record["hosts"].items()}
        return {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
                for m in _RECAP.finditer(self.stdout)}

    def tasks(self, host: str | None = None) -> list[dict[str, t.Any]]:
        return [r for r in self.records if r.get("type") == "task" and (host is None or r["host"] == host)]

    def changed(self, host: str | None = None) -> set[tuple[str, str]]:
        """(host, task name) of every result that reported a change."""
        return {(r["host"], r["task"]) for r in self.tasks(host) if r["changed"]}

    def failed(self, host: str | None = None) -> list[dict[str, t.Any]]:
        """Failed (not ignored) and unreachable results."""
        return [r for r in self.tasks(host) if (r["failed"] and not r["ignored"]) or r["unreachable"]]


class Lab:
    """A temporary copy of ``inventories/sim`` with its own winsim state."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.inventory = root / "inventories" / "sim"
        self.state_dir = root / ".winsim" / "sim"
        self.pki_dir = root / ".winsim" / "sim-pki"
        self.records_dir = root.parent / f"{root.name}-records"
        self._runs = 0

    # -- creation ----------------------------------------------------------------
    @classmethod
    def fresh(cls, root: pathlib.Path, profile: str | None = None) -> Lab:
        """Fresh hosts: the inventory's declared lab (``winsim_lab``) built as
        freshly installed hosts before any play, as a real estate's hosts
        exist before Ansible first runs (winsim/docs/lab.md); ``profile``
        overrides the declaration's host profile (winsim/docs/profiles.md)."""
        shutil.copytree(REPO / "inventories" / "sim", root / "inventories" / "sim")
        lab = cls(root)
        if profile is not None:
            path = lab.inventory / "group_vars" / "windows" / "winsim.yml"
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            doc["winsim_lab"]["profile"] = profile
            path.write_text("---\n" + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        proc = subprocess.run([ansible_bin("winsim"), "-i", str(lab.inventory), "lab", "build"], cwd=REPO,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, f"winsim lab build failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        return lab

    def clone(self, root: pathlib.Path) -> Lab:
        """A byte-identical copy of this lab (inventory, host states, sidecars, CA)."""
        shutil.copytree(self.root, root, symlinks=True)
        return Lab(root)

    # -- inventory -----------------------------------------------------------------
    @property
    def hosts(self) -> list[str]:
        doc = yaml.safe_load((self.inventory / "hosts.yml").read_text(encoding="utf-8"))
        found: list[str] = []

        def walk(group: dict[str, t.Any]) -> None:
            found.extend(h for h in (group.get("hosts") or {}) if h not in found)
            for child in (group.get("children") or {}).values():
                walk(child or {})

        walk(doc["all"])
        return found

    def group(self, name: str) -> list[str]:
        doc = yaml.safe_load((self.inventory / "hosts.yml").read_text(encoding="utf-8"))

        def find(group: dict[str, t.Any]) -> dict[str, t.Any] | None:
            for child_name, child in (group.get("children") or {}).items():
                if child_name == name:
                    return child or {}
                hit = find(child or {})
                if hit is not None:
                    return hit
            return None

        found = find(doc["all"])
        assert found is not None, f"no group {name} in {self.inventory}"
        return list(found.get("hosts") or {})

    def write_host_vars(self, host: str, name: str, data: dict[str, t.Any]) -> pathlib.Path:
        """Add ``host_vars/<host>/<name>.yml`` (host vars win over group vars)."""
        path = self.inventory / "host_vars" / host / f"{name}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def write_vaulted_host_var(self, host: str, name: str, value: str) -> pathlib.Path:
        """Add ``host_vars/<host>/<name>.yml`` holding ``name`` as an inline
        ``!vault`` value, encrypted with the simulated lab's vault identity
        (the preflight refuses a secret in plain text)."""
        proc = subprocess.run(
            [ansible_bin("ansible-vault"), "encrypt_string", "--vault-id",
             f"sim@{REPO / 'inventories' / 'sim' / '.vault-pass-DEMO-ONLY'}", "--encrypt-vault-id", "sim",
             "--stdin-name", name],
            input=value, capture_output=True, text=True, check=True, cwd=REPO)
        path = self.inventory / "host_vars" / host / f"{name}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n" + proc.stdout, encoding="utf-8")
        return path

    # -- running -------------------------------------------------------------------
    def _env(self, record: pathlib.Path) -> dict[str, str]:
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PY_COLORS="0",
                   ANSIBLE_CALLBACKS_ENABLED="ansible.posix.timer,mcms.infra.recorder",
                   MCMS_RECORDER_PATH=str(record), MCMS_RECORDER_APPEND="0")
        for name in ("ANSIBLE_CONFIG", "WINSIM_STATE_DIR", "ANSIBLE_INVENTORY", "ANSIBLE_CHECK_MODE"):
            env.pop(name, None)
        return env

    def _record_path(self, label: str) -> pathlib.Path:
        self._runs += 1
        self.records_dir.mkdir(parents=True, exist_ok=True)
        return self.records_dir / f"{self._runs:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.jsonl"

    def _run(self, argv: list[str], record: pathlib.Path) -> Run:
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=REPO, env=self._env(record), capture_output=True, text=True,
                              timeout=PLAYBOOK_TIMEOUT, check=False)
        wall = time.monotonic() - start
        records = []
        if record.exists():
            records = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines() if line.strip()]
        return Run(argv=argv, returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, records=records,
                   wall=wall)

    def playbook(self, playbook: str = "site.yml", *args: str, label: str = "") -> Run:
        """ansible-playbook from the repository root (its ansible.cfg applies) against this lab."""
        record = self._record_path(label or playbook)
        argv = [ansible_bin("ansible-playbook"), playbook, "-i", str(self.inventory), *args]
        return self._run(argv, record)

    def adhoc(self, pattern: str, module: str, args: dict[str, t.Any]) -> Run:
        """One module on the hosts of ``pattern`` (``ansible -m``), e.g. an https probe."""
        record = self._record_path(f"adhoc-{module}")
        argv = [ansible_bin("ansible"), pattern, "-i", str(self.inventory), "-m", module, "-a", json.dumps(args)]
        return self._run(argv, record)

    def https_probe(self, host: str, hostname: str, port: int = 443) -> Run:
        """The tls role's own proof, on the host itself and without DNS
        (``mcms.infra.win_tls_probe``: a TLS handshake with the local listener
        sending ``hostname`` as SNI): a run whose returncode is 0 only when the
        presented certificate's chain is trusted by the host and it matches the
        name; the result is in ``probe_result(run)``."""
        run = self.adhoc(host, "mcms.infra.win_tls_probe", {"server_name": hostname, "port": port})
        result = probe_result(run)
        if run.returncode == 0 and not (result.get("chain_valid") and result.get("name_matches")):
            return dataclasses.replace(run, returncode=1, stdout=run.stdout + (
                f"\nhttps_probe: {hostname}:{port} presented {result.get('thumbprint')}: chain valid "
                f"{result.get('chain_valid')} ({result.get('chain_status')}), "
                f"name matches {result.get('name_matches')}"))
        return run

    def winsim(self, *args: str) -> str:
        """The ``winsim`` CLI on this lab's state directory; fails the test on a CLI error."""
        proc = subprocess.run([ansible_bin("winsim"), "--state-dir", str(self.state_dir), *args], cwd=REPO,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, f"winsim {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    def stats(self, host: str, run: str | None = "last") -> dict[str, t.Any]:
        """``winsim stats --json`` of one host: the last run by default."""
        out = self.winsim("stats", "--json", *(("--run", run) if run else ()), host)
        doc = json.loads(out)
        if isinstance(doc, dict) and "hosts" in doc:
            doc = doc["hosts"]
        if isinstance(doc, list):
            doc = next(h for h in doc if h["host"] == host)
        elif isinstance(doc, dict) and host in doc:
            doc = doc[host]
        assert doc["host"] == host, doc
        return doc

    # -- host state ----------------------------------------------------------------
    def state_file(self, host: str) -> pathlib.Path:
        return self.state_dir / f"{host}.json"

    def state(self, host: str) -> dict[str, t.Any]:
        return json.loads(self.state_file(host).read_text(encoding="utf-8"))

    def state_digests(self) -> dict[str, str | None]:
        """sha256 of every inventory host's state file (``None``: no file, a fresh host)."""
        return {h: sha256(self.state_file(h)) if self.state_file(h).exists() else None for h in self.hosts}

    def tree_digests(self) -> dict[str, str]:
        """sha256 of every file of the lab but winsim's sidecars: inventory, states, CA, temp dirs."""
        return {str(p.relative_to(self.root)): sha256(p) for p in sorted(self.root.rglob("*"))
                if p.is_file() and not p.name.endswith(SIDECAR_SUFFIXES)}

    def site(self, host: str, name: str) -> dict[str, t.Any]:
        return self.state(host)["iis"]["sites"][name]

    def https_binding(self, host: str, site: str) -> dict[str, t.Any]:
        bindings = [b for b in self.site(host, site)["bindings"] if b["protocol"] == "https"]
        assert len(bindings) == 1, f"{host}: site {site}: expected one https binding, got {bindings}"
        return bindings[0]

    def certificate(self, host: str, thumbprint: str, store: str = "My") -> dict[str, t.Any] | None:
        return self.state(host)["certificates"]["LocalMachine"][store].get(thumbprint.upper())


def host_now(lab: Lab, host: str) -> dt.datetime:
    """The simulated host's clock (winsim's drift.host_now), so expiry maths matches the host."""
    from winsim.drift import host_now as _host_now

    return _host_now(lab.state(host))


def days_left(lab: Lab, host: str, certificate: dict[str, t.Any]) -> float:
    not_after = dt.datetime.fromisoformat(str(certificate["not_after"]).replace("Z", "+00:00"))
    return (not_after - host_now(lab, host)).total_seconds() / 86400


def age_certificate(lab: Lab, host: str, site: str, days: int) -> str:
    """Make the certificate bound to ``site`` on ``host`` expire in ``days`` days, everywhere.

    ``winsim drift expire-cert`` moves the host's view of the bound
    certificate.  On a real lab the controller's copy of that certificate (the
    tls role's own CA keeps what it issued under ``<pki>/issued/<host>/``)
    ages with it; so the copy is re-signed here by the lab CA, same key and
    names, with the same remaining lifetime.  Returns the bound thumbprint.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    thumbprint = lab.https_binding(host, site)["certificate_hash"]
    lab.winsim("drift", host, "expire-cert", thumbprint, "--days", str(days))
    issued = lab.pki_dir / "issued" / host / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', site)}.crt"
    ca_cert = x509.load_pem_x509_certificate((lab.pki_dir / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((lab.pki_dir / "ca.key").read_bytes(), password=None)
    held = x509.load_pem_x509_certificate(issued.read_bytes())
    now = host_now(lab, host)
    lifetime = held.not_valid_after_utc - held.not_valid_before_utc
    builder = (x509.CertificateBuilder().subject_name(held.subject).issuer_name(ca_cert.subject)
               .public_key(held.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + dt.timedelta(days=days) - lifetime)
               .not_valid_after(now + dt.timedelta(days=days)))
    for ext in held.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    issued.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))  # type: ignore[arg-type]
    return thumbprint


# -- controller-side writes ------------------------------------------------------------
def repo_files() -> set[str]:
    """Every file under the repository but the toolchains, VCS data and caches."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(REPO):
        dirnames[:] = [d for d in dirnames if d not in _REPO_SKIP]
        rel = pathlib.Path(dirpath).relative_to(REPO)
        found.update(str(rel / f) for f in filenames)
    return found


def unexpected_repo_files(before: set[str], after: set[str]) -> list[str]:
    """Files that appeared under the repository, except teammates' new source files.

    The repository is shared with engineers editing it while the suite runs: a
    new, not git-ignored file inside a source tree is their work.  Anything
    else (a git-ignored file anywhere, e.g. ``.winsim/``, ``.ansible/``,
    ``*.retry``, a recording, or any new file at the top level) is a write by
    the run under test.
    """
    new = sorted(after - before)
    if not new:
        return []
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=REPO, input="\n".join(new),
                          capture_output=True, text=True, check=False)
    ignored = set(proc.stdout.split("\n"))
    return [p for p in new if p in ignored or pathlib.Path(p).parts[0] not in _SOURCE_TREES]


# -- the converged lab, once per session ------------------------------------------------
@dataclasses.dataclass
class Golden:
    """A lab converged from fresh hosts by ``site.yml``, and that run; never modified."""

    lab: Lab
    run: Run


_GOLDEN: dict[str, Golden] = {}


def golden(tmp_path_factory: pytest.TempPathFactory) -> Golden:
    """Converge a fresh lab once per session; the test modules clone it.

    Memoised here rather than through a fixture scope because each test module
    imports its fixtures from this file (pytest would otherwise run one
    session fixture per importing module).
    """
    key = str(tmp_path_factory.getbasetemp())
    if key not in _GOLDEN:
        lab = Lab.fresh(tmp_path_factory.mktemp("golden") / "lab")
        run = lab.playbook("site.yml", label="fresh-converge")
        _GOLDEN[key] = Golden(lab=lab, run=run)
    found = _GOLDEN[key]
    assert found.run.returncode == 0, f"site.yml did not converge the fresh lab:\n{found.run.output}"
    return found


_PROFILE_GOLDEN: dict[tuple[str, str], Golden] = {}
PROFILE_LIMIT = "web01,domain_controllers"


def profile_golden(tmp_path_factory: pytest.TempPathFactory, profile: str) -> Golden:
    """A lab of ``profile`` hosts (winsim/docs/profiles.md) converged once per
    session by ``site.yml`` on web01 (and the DC its gMSAs live on); the test
    modules clone it (test_profiles.py, test_schannel.py).  The converge run
    is returned as is, failed or not: the tests assert on it."""
    key = (str(tmp_path_factory.getbasetemp()), profile)
    if key not in _PROFILE_GOLDEN:
        lab = Lab.fresh(tmp_path_factory.mktemp(f"golden-{profile}") / "lab", profile=profile)
        run = lab.playbook("site.yml", "--limit", PROFILE_LIMIT, label=f"{profile}-converge")
        _PROFILE_GOLDEN[key] = Golden(lab=lab, run=run)
    return _PROFILE_GOLDEN[key]


def clone_golden(tmp_path_factory: pytest.TempPathFactory, name: str) -> Lab:
    """A private converged lab (its own state dir) for one test module or test."""
    return golden(tmp_path_factory).lab.clone(tmp_path_factory.mktemp(name) / "lab")


def describe(records: t.Iterable[dict[str, t.Any]]) -> str:
    """Task results as readable lines for assertion messages."""
    return "\n".join(f"  {r['host']}: {r['status']}{' changed' if r['changed'] else ''}: {r['task']} ({r['action']})"
                     + (f": {r['msg']}" if r.get("msg") else "") for r in records) or "  (none)"

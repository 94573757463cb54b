"""PowerShell modules: ``community.windows.win_psmodule``
(community.windows 3.3.0), i.e. PowerShellGet's ``Find-Module`` /
``Install-Module`` / ``Uninstall-Module`` on an offline host.

State section ``state["psmodules"]``::

    {"nuget_provider": null | "2.8.5.208",
     "installed": {NAME: {"name", "versions": ["1.0.0.1", ...]}},   # Get-Module -ListAvailable
     "repositories": {NAME: {"name", "source_location", "installation_policy": "Trusted"|"Untrusted",
                             "reachable": bool,
                             "modules": {MODULE: ["1.2.0", "2.0.0-beta1", ...]}}}}

A fresh Windows Server 2022 host has the inbox ``PackageManagement`` and
``PowerShellGet`` 1.0.0.1 and ``Pester`` 3.4.0, no NuGet provider, and only
``PSGallery`` registered; the lab is offline, so ``PSGallery`` is not
reachable.  Modules can only come from a reachable (internal) repository
registered in the state; the NuGet provider bootstraps only when such a
repository exists (it mirrors the provider).
"""

from __future__ import annotations

import re
import typing as t

from ..state import section
from ._base import ModuleContext, model

UPSTREAM = "community.windows 3.3.0"

PREREQS = {"PackageManagement": "1.1.7", "PowerShellGet": "1.6.0"}


@section("psmodules")
def _fresh_psmodules() -> dict[str, t.Any]:
    return {
        "nuget_provider": None,
        "installed": {
            "packagemanagement": {"name": "PackageManagement", "versions": ["1.0.0.1"]},
            "pester": {"name": "Pester", "versions": ["3.4.0"]},
            "powershellget": {"name": "PowerShellGet", "versions": ["1.0.0.1"]},
        },
        "repositories": {
            "psgallery": {"name": "PSGallery", "source_location": "https://www.powershellgallery.com/api/v2",
                          "installation_policy": "Untrusted", "reachable": False, "modules": {}},
        },
    }


def _vkey(version: str) -> tuple[tuple[int, ...], int, str]:
    base, _, pre = version.partition("-")
    nums = tuple(int(x) for x in re.findall(r"\d+", base))
    nums = nums + (0,) * (4 - len(nums))
    return nums, 0 if pre else 1, pre


def _no_match(name: str) -> str:
    return (f"No match was found for the specified search criteria and module name '{name}'. "
            "Try Get-PSRepository to see all available registered module repositories.")


def _repos(state: dict[str, t.Any], repo: str | None) -> list[dict[str, t.Any]]:
    repos = state["psmodules"]["repositories"]
    if repo:
        r = repos.get(repo.lower())
        return [r] if r else []
    return list(repos.values())


def _find(state: dict[str, t.Any], name: str, repo: str | None, *, required: str | None = None,
          minimum: str | None = None, maximum: str | None = None,
          prerelease: bool = False) -> list[tuple[dict[str, t.Any], str]]:
    """``Find-Module``: the newest matching version in each reachable repo."""
    found = []
    for r in _repos(state, repo):
        if not r.get("reachable"):
            continue
        versions = next((v for k, v in r.get("modules", {}).items() if k.lower() == name.lower()), [])
        cands = []
        for v in versions:
            if "-" in v and not prerelease:
                continue
            if required and v.lower() != required.lower():
                continue
            if minimum and _vkey(v) < _vkey(minimum):
                continue
            if maximum and _vkey(v) > _vkey(maximum):
                continue
            cands.append(v)
        if cands:
            found.append((r, max(cands, key=_vkey)))
    return found


def _existing(state: dict[str, t.Any], name: str, required: str | None = None, minimum: str | None = None,
              maximum: str | None = None) -> str | None:
    """The module's ``Get-PsModule``: the matching installed version."""
    mod = state["psmodules"]["installed"].get(name.lower())
    if mod is None or not mod["versions"]:
        return None
    versions = sorted(mod["versions"], key=_vkey, reverse=True)
    if not (required or minimum or maximum):
        return versions[0]
    if required:
        match = [v for v in versions if v == required]
        return match[0] if len(match) == 1 else None
    for v in versions:
        if (not minimum or _vkey(minimum) <= _vkey(v)) and (not maximum or _vkey(maximum) >= _vkey(v)):
            return v
    return None


def _add_version(state: dict[str, t.Any], name: str, version: str) -> None:
    mod = state["psmodules"]["installed"].setdefault(name.lower(), {"name": name, "versions": []})
    if version not in mod["versions"]:
        mod["versions"].append(version)


@model("community.windows.win_psmodule", upstream=UPSTREAM)
def win_psmodule(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    state = ctx.state
    check = ctx.check_mode
    name, want, repo = p["name"], p["state"], p.get("repository")
    req, mini, maxi = p.get("required_version"), p.get("minimum_version"), p.get("maximum_version")
    result: dict[str, t.Any] = {"changed": False, "output": "", "nuget_changed": False, "repository_changed": False}

    def fail(msg: str) -> t.NoReturn:
        ctx.fail(msg, **{k: v for k, v in result.items() if k != "changed"}, changed=result["changed"])

    if req and (mini or maxi):
        fail("Parameters required_version and minimum/maximum_version are mutually exclusive.")
    if p["allow_prerelease"] and (mini or maxi):
        fail("Parameters minimum_version, maximum_version can't be used with the parameter allow_prerelease.")
    if p["allow_prerelease"] and want == "absent":
        fail("The parameter allow_prerelease can't be used with state set to 'absent'.")
    if want == "latest" and (req or mini or maxi):
        fail("When the parameter state is equal to 'latest' you can't use any of required_version, "
             "minimum_version, maximum_version.")
    if repo and repo.lower() not in state["psmodules"]["repositories"]:
        fail(f"The repository {repo} doesn't exist.")

    if any((p["allow_clobber"], p["allow_prerelease"], p["skip_publisher_check"], req, mini, maxi,
            p["accept_license"])):
        missing = [m for m, v in PREREQS.items() if _existing(state, m, minimum=v) is None]
        if missing:
            result["changed"] = True
            if check:
                result["output"] = "Skipped check mode run on win_psmodule as the pre-reqs need upgrading"
                return ctx.exit(**result)
            for m in missing:
                hits = _find(state, m, repo, minimum=PREREQS[m])
                if not hits:
                    fail("Problems adding a prerequisite module PackageManagement or PowerShellGet: "
                         + _no_match(m))
                _add_version(state, m, hits[0][1])

    def install(required: str | None, minimum: str | None, maximum: str | None) -> None:
        if _existing(state, name, required, minimum, maximum) is not None:
            result["output"] = f"Module {name} already present"
            return
        if state["psmodules"]["nuget_provider"] is None:
            if not any(r.get("reachable") for r in state["psmodules"]["repositories"].values()):
                fail("Problems adding package provider: No match was found for the specified search criteria for "
                     "the provider 'NuGet'. The package provider requires 'PackageManagement' and 'Provider' tags. "
                     "Please check if the specified package has the tags.")
            if not check:
                state["psmodules"]["nuget_provider"] = "2.8.5.208"
            result["changed"] = True
            result["nuget_changed"] = True
        hits = _find(state, name, repo, required=required, minimum=minimum, maximum=maximum,
                     prerelease=p["allow_prerelease"])
        if not hits:
            fail(f"Problems installing {name} module: {_no_match(name)}")
        if not check:
            _add_version(state, name, hits[0][1])
        result["changed"] = True
        result["output"] = f"Module {name} installed"

    if want == "present":
        install(req, mini, maxi)
    elif want == "absent":
        mod = state["psmodules"]["installed"].get(name.lower())
        if mod is not None and mod["versions"]:
            match = _existing(state, name, req, mini, maxi)
            if match is not None:
                if not check:
                    if req or mini or maxi:
                        mod["versions"].remove(match)
                    else:
                        mod["versions"] = []
                    if not mod["versions"]:
                        del state["psmodules"]["installed"][name.lower()]
                result["changed"] = True
                result["output"] = f"Module {name} removed"
        else:
            result["output"] = f"Module {name} removed"
    else:
        hits = _find(state, name, repo, prerelease=p["allow_prerelease"])
        if not hits:
            fail(f"Cant find the module {name}: {_no_match(name)}")
        if len(hits) > 1:
            fail(f"The module {name} exists in multiple repositories. Define a repository.")
        latest = hits[0][1]
        if latest != (_existing(state, name) or "") or p["force"]:
            install(latest, None, None)
    changed = result.pop("changed")
    ctx.changed(changed)
    return ctx.exit(**result)

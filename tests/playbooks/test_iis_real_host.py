"""What only a real host would have shown the ``iis`` role (issue 8, decision 15), on a simulated one.

The realistic-profile converge (tests/playbooks/test_profiles.py) proves the
IIS default firewall rules end disabled and the Hosting Bundle installs on a
host that did not trust the artifact CA; these cases need a host prepared
first, so they run the role alone against a fresh simulated host.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import textwrap

import pytest

from .conftest import REPO, ansible_bin

pytestmark = pytest.mark.playbook

SHARED_REDIRECTION = ('<configuration><configSections><section name="configurationRedirection" /></configSections>'
                      '<configurationRedirection enabled="true" path="\\\\fs01\\iis-shared" userName="" '
                      'password="" /></configuration>')


def _run(tmp_path: pathlib.Path, pre_tasks: str) -> subprocess.CompletedProcess[str]:
    state_dir = tmp_path / "state"
    (tmp_path / "hosts.yml").write_text(textwrap.dedent(f"""\
        all:
          hosts:
            web01:
              ansible_connection: mcms.winsim.sim
              ansible_shell_type: powershell
              winsim_state_dir: {state_dir}
        """), encoding="utf-8")
    (tmp_path / "play.yml").write_text(textwrap.dedent("""\
        - name: Prepare the host, then run the iis role
          hosts: all
          gather_facts: false
          vars:
            iis_hosting_bundle_source: https://artifacts.mcms.internal/dotnet/dotnet-hosting-8.0.11-win.exe
            iis_hosting_bundle_product_id: "{26839EEE-DB8F-52EA-8A81-B752A6602FA0}"
            iis_sites: [{name: MCMS, hostnames: [mcms.lab.example]}]
          pre_tasks:
        """) + textwrap.indent(textwrap.dedent(pre_tasks), "    ") + "  roles:\n    - role: iis\n",
        encoding="utf-8")
    (tmp_path / "ansible.cfg").write_text(textwrap.dedent(f"""\
        [defaults]
        roles_path = {REPO / "roles"}
        collections_path = {REPO / "collections"}
        stdout_callback = ansible.builtin.default
        retry_files_enabled = false
        """), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run([ansible_bin("ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                           str(tmp_path / "play.yml")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_shared_configuration_is_refused_before_applicationhost_config_is_edited(tmp_path: pathlib.Path) -> None:
    # winsim installs redirection.config with Web-Server, as Windows does; the
    # role reads it (win_xml would otherwise edit the local applicationHost.config
    # that IIS ignores while <configurationRedirection enabled="true">).
    run = _run(tmp_path, f"""\
        - name: Install IIS
          ansible.windows.win_feature:
            name: Web-Server
        - name: Turn on IIS shared configuration (as IIS Manager's Shared Configuration does)
          ansible.windows.win_copy:
            content: '{SHARED_REDIRECTION}'
            dest: C:\\Windows\\System32\\inetsrv\\config\\redirection.config
        """)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "IIS shared configuration is enabled on web01" in output, output
    assert "\\\\fs01\\iis-shared" in output or "fs01" in output, output
    assert "Harden applicationHost.config" not in output, "win_xml ran under shared configuration"


def test_default_rules_that_are_gone_fail_the_run_naming_them(tmp_path: pathlib.Path) -> None:
    # winsim answers as community.windows win_firewall_rule.ps1 does: it selects
    # rules through HNetCfg.FwPolicy2 by `$_.Name -eq $name` (the COM Name is the
    # display name) or `$_.Grouping -eq $group` (the stored indirect string,
    # @%windir%\system32\inetsrv\iisres.dll,-30501), and a group that matches
    # no rule changes nothing and reports ok, which is why the role must fail.
    run = _run(tmp_path, """\
        - name: Install IIS
          ansible.windows.win_feature:
            name: Web-Server
        - name: Delete the rule IIS created for port 80
          community.windows.win_firewall_rule:
            name: World Wide Web Services (HTTP Traffic-In)
            state: absent
        """)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "no firewall rule found on web01" in output, output
    assert "(rule IIS-WebServerRole-HTTP-In-TCP)" in output, output
    assert "IIS-WebServerRole-HTTPS-In-TCP" not in output.split("no firewall rule found")[1].split("IIS creates")[0]

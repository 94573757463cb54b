#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.preflight action (plugins/action/preflight.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Check every host's role input, secrets and connection before any host is touched
version_added: 0.1.0
description:
  - Controller-side action, run once for all hosts in play (the first play of C(site.yml)). It never opens a
    connection to a host.
  - For each host it finds the roles its tiers will run (O(tiers)), loads each role's C(meta/argument_specs.yml)
    (entry point C(main)) and validates the role variables the inventory defines for that host with Ansible's
    C(ArgumentSpecValidator). Role defaults fill what the inventory leaves out, so only required options without a
    default must be defined. A variable that carries a role's prefix but is no option of that role is reported.
  - Variables listed as C(required) by a tier must be set and not empty (optionally only while another variable
    is true).
  - Each role's own validation function (C(plugin_utils/_<role>.py) C(input_errors), which the role's C(validate.yml)
    also calls) runs on the role's variables as the host will see them, so a bad variable of a later role fails
    before an earlier role touches any host. A C(tls_sites) entry must name a site of the C(iis) role when both run.
  - Every C(vault_*) variable referenced by the host's variables must exist and not be empty; an option a role marks
    C(no_log) (an app pool password, a PFX and its password) and every connection password (C(ansible_password),
    C(ansible_become_password), ...) must be vaulted (an inline C(!vault) value or a variable of an encrypted file,
    possibly through a template), never plain text.
  - Kerberos delegation (C(ansible_psrp_negotiate_delegate), C(ansible_winrm_kerberos_delegation)) is refused unless
    the host's environment sets C(mcms_allow_kerberos_delegation) with a non-empty C(reason).
  - Real hosts (any connection but C(mcms.winsim.sim)) must use C(ansible.builtin.psrp) over HTTPS with
    certificate validation and Kerberos (or certificate) authentication; CredSSP, Basic and NTLM are refused; a
    configured CA bundle must exist on the controller.
  - "It fails once, with one message listing every problem as C(host: variable: problem → fix)."
options:
  tiers:
    description:
      - The tiers of C(site.yml) in order (C(playbooks/vars/tiers.yml)).
      - Each is a mapping with C(name), C(hosts) (an inventory group), C(roles) (role names, in order) and
        optionally C(required), a list of variable names or of mappings C(var), C(when) (a boolean variable; the
        requirement applies only while it is true, role defaults included) and C(why).
    type: list
    elements: dict
    required: true
  roles_path:
    description:
      - Directories to find the roles in. Defaults to the configured roles path (C(roles_path) in C(ansible.cfg)).
    type: list
    elements: path
  hosts:
    description:
      - The hosts to check. Defaults to every host in play (C(ansible_play_hosts_all)).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - Run it with C(run_once) and C(delegate_to=localhost); it checks every host in play itself.
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Check every required variable and secret of the hosts in play
  mcms.infra.preflight:
    tiers: "{{ mcms_tiers }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
checked:
  description: The roles checked for each host in play.
  returned: always
  type: dict
  sample: {"web01": ["iis", "tls"], "sql01": []}
problems:
  description: Every problem found, one entry each.
  returned: failed
  type: list
  elements: dict
  sample: [{"host": "web01", "variable": "iis_hosting_bundle_source", "problem": "required for tier web and empty",
            "fix": "set a value in group_vars/<group>/ or host_vars/web01/"}]
"""

#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.win_cert_usage Windows module (win_cert_usage.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_cert_usage
short_description: Certificates a Windows host serves with, trusted CA roots, sweep of leftover temporary key files
version_added: 0.2.0
description:
  - Reads the http.sys SSL bindings (IP:port, SNI host:port and central certificate store entries under
    C(HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters)), whoever created them (IIS, C(netsh http add
    sslcert), a self-hosted service), and the certificate thumbprints of the WinRM HTTPS listeners
    (C(WSMan:\localhost\Listener)).
  - Returns the union as RV(in_use), and the part IIS did not write as RV(in_use_outside_iis), so that
    certificate cleanup never removes a certificate something serves with.
  - In the same round trip, tells which of O(root_thumbprints) C(LocalMachine\Root) holds, and removes the files
    of O(sweep_directory) matching O(sweep_patterns) (temporary key files an interrupted run left behind). That
    sweep is the only change the module makes.
options:
  root_thumbprints:
    description: CA certificate thumbprints to look for in C(LocalMachine\Root).
    type: list
    elements: str
    default: []
  sweep_directory:
    description: Directory whose files matching O(sweep_patterns) are removed (not recursive).
    type: path
  sweep_patterns:
    description: C(Get-ChildItem -Filter) patterns (C(*), C(?)) of the files to remove from O(sweep_directory).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads everything and reports the files it would remove, removing none.
  diff_mode:
    support: full
    description: Before and after lists of the leftover files.
  platform:
    platforms: windows
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Read which certificates the host serves with, and sweep leftover PFX files
  mcms.infra.win_cert_usage:
    root_thumbprints: ["{{ ca_thumbprint }}"]
    sweep_directory: C:\Windows\Temp
    sweep_patterns: [mcms-tls-*.pfx]
  register: usage
"""

RETURN = r"""
ssl_bindings:
  description: The http.sys SSL bindings.
  returned: success
  type: list
  elements: dict
  contains:
    kind:
      description: C(ipport), C(sni) or C(ccs).
      type: str
    endpoint:
      description: C(0.0.0.0:443), C(10.0.0.5:443), C(www.example.com:443).
      type: str
    thumbprint:
      description: Certificate thumbprint (upper case; empty for C(ccs)).
      type: str
    store:
      description: Certificate store name.
      type: str
    app_id:
      description: Application ID of the entry (C({4dc3e181-e14b-4a21-b022-59fc669b0914}) for IIS).
      type: str
    iis:
      description: The entry was written by IIS (its application ID).
      type: bool
winrm_listeners:
  description: The WinRM HTTPS listeners.
  returned: success
  type: list
  elements: dict
  contains:
    address:
      description: Listener address (C(*) for all).
      type: str
    port:
      description: Listener port.
      type: str
    thumbprint:
      description: Certificate thumbprint (upper case).
      type: str
in_use:
  description: Every thumbprint in use by one of the above, upper case, sorted.
  returned: success
  type: list
  elements: str
in_use_outside_iis:
  description: The thumbprints of RV(in_use) used by something other than an IIS binding (WinRM, other services).
  returned: success
  type: list
  elements: str
in_root:
  description: The O(root_thumbprints) present in C(LocalMachine\Root), upper case.
  returned: success
  type: list
  elements: str
swept_files:
  description: The leftover files removed (or, in check mode, that would be removed).
  returned: success
  type: list
  elements: str
mcms_drift:
  description: One record per leftover file (C(resource_type) C(file), C(attribute) C(state), wanted C(absent)).
  returned: always
  type: list
  elements: dict
"""

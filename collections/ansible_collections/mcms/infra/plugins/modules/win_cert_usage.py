#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.win_cert_usage Windows module (win_cert_usage.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_cert_usage
short_description: List the certificates a Windows host serves with (http.sys SSL bindings, WinRM HTTPS listeners)
version_added: 0.2.0
description:
  - Reads the http.sys SSL bindings (IP:port, SNI host:port and central certificate store entries under
    C(HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters)), whoever created them (IIS, C(netsh http add
    sslcert), a self-hosted service), and the certificate thumbprints of the WinRM HTTPS listeners
    (C(WSMan:\localhost\Listener)).
  - Returns the union as O(in_use), so that certificate cleanup never removes a certificate something serves with.
  - Read-only; it runs in check mode too.
options: {}
attributes:
  check_mode:
    support: full
    description: The module changes nothing and runs in check mode.
  diff_mode:
    support: none
  platform:
    platforms: windows
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Read which certificates the host serves with
  mcms.infra.win_cert_usage:
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
mcms_drift:
  description: Always empty, the module changes nothing.
  returned: always
  type: list
  elements: dict
"""

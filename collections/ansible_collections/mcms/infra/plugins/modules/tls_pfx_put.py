#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.tls_pfx_put action (plugins/action/tls_pfx_put.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_pfx_put
short_description: Put a base64-encoded PFX held in Vault on a Windows host as a binary file
version_added: 0.1.0
description:
  - Decodes O(content_b64) into a private temporary directory on the controller (mode 0700), copies the file to
    O(dest) with M(ansible.windows.win_copy) and removes the controller copy whatever happens.
  - No upstream module writes binary content given inline, and Windows modules import a PFX from a file on the
    host; this action fills that gap for PFX files kept in Ansible Vault as base64 text.
  - The result keeps only C(changed), C(failed), C(msg), C(checksum), C(size) and C(dest) of the copy. The task
    must still set C(no_log) because its arguments hold the PFX.
options:
  content_b64:
    description: The PFX, base64-encoded (whitespace ignored).
    type: str
    required: true
  dest:
    description: Absolute Windows path of the file to write.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Nothing is written on the controller or the host; the result reports C(changed).
  diff_mode:
    support: none
  platform:
    platforms: windows
notes:
  - Remove the file after importing it (the C(tls) role does so in an C(always) section).
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Put the vaulted PFX on the host
  mcms.infra.tls_pfx_put:
    content_b64: "{{ vault_tls_mcms_pfx_b64 }}"
    dest: C:\Windows\Temp\mcms-tls-MCMS.pfx
  no_log: true
"""

RETURN = r"""
dest:
  description: The path written on the host.
  returned: always
  type: str
checksum:
  description: SHA-1 checksum of the file, as M(ansible.windows.win_copy) returns it.
  returned: when copied
  type: str
size:
  description: Size of the file in bytes.
  returned: when copied
  type: int
"""

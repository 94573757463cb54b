#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.win_schannel Windows module (plugins/modules/win_schannel.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_schannel
short_description: Converge the managed SCHANNEL values and cipher suite order, and remember the reboot they need
version_added: 0.2.0
description:
  - Reads only the SCHANNEL values it is given (under
    C(HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL)) and, with O(cipher_suite_order), the
    C(Functions) value of C(HKLM:\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002); writes only
    the values that differ. Keys and values it is not given are never read, written or removed, so an unmanaged
    key (another tool's, a policy's) never causes a change or a reboot.
  - Apply and check mode take the same decision from the same read, in one round trip; in check mode nothing is
    written.
  - SCHANNEL reads its settings at boot. Before writing any change the module records the time in the marker
    value C(SchannelRebootPending) of C(HKLM:\SOFTWARE\MCMS\Infra) (REG_SZ, ISO 8601 UTC); every run compares
    the marker with the host's last boot time and returns RV(reboot_pending) while the marker is newer, so a
    reboot that was deferred or lost (a failed handler, a dropped connection) is found again by the next run.
    A reboot makes the marker stale; it is overwritten by the next change.
options:
  values:
    description:
      - The managed SCHANNEL values, key path relative to the SCHANNEL key (C('') for the key itself, for example
        C(Protocols\TLS 1.2\Server)) -> value name -> DWORD (0 to 4294967295; -1 is taken as 0xFFFFFFFF).
      - A value of another type (a REG_SZ C("1")) differs and is rewritten as a DWORD. A key with no values is
        ignored (a missing key is created when one of its values is written).
      - The C(mcms.infra.tls_schannel_values) filter computes this from the C(tls) role's lists.
    type: dict
    required: true
  cipher_suite_order:
    description:
      - The cipher suites, in order, written comma-separated as the REG_SZ C(Functions) policy value (what the
        C(SSL Cipher Suite Order) group policy writes). Compared case-sensitively.
      - Omit it to leave the order alone. An empty list is refused (it would disable every suite).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Reads everything, writes nothing (no value, no marker), reports what would change.
  diff_mode:
    support: full
    description: Before and after of the managed values only (key path -> value name -> data).
  platform:
    platforms: windows
notes:
  - The module never reboots. Reboot with M(ansible.windows.win_reboot) when RV(reboot_pending) is true.
  - The last boot time is C(Win32_OperatingSystem.LastBootUpTime), the value M(ansible.windows.win_reboot) reads.
seealso:
  - module: community.windows.win_regmerge
  - module: ansible.windows.win_regedit
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Converge SCHANNEL
  mcms.infra.win_schannel:
    values:
      Protocols\TLS 1.0\Server:
        Enabled: 0
        DisabledByDefault: 1
      Ciphers\RC4 128/128:
        Enabled: 0
    cipher_suite_order:
      - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
      - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  register: schannel

- name: Reboot when a change is waiting for one
  ansible.windows.win_reboot:
  when: schannel.reboot_pending
"""

RETURN = r"""
reboot_required:
  description: This run changed (in check mode, would change) a value; SCHANNEL applies it at the next boot.
  returned: always
  type: bool
reboot_pending:
  description:
    - A change made by this or an earlier run has not been followed by a reboot yet (the marker is newer than the
      last boot). In check mode it reflects only earlier runs.
  returned: always
  type: bool
pending_since:
  description: When the change waiting for a reboot was made (ISO 8601 UTC), or null.
  returned: always
  type: str
  sample: "2026-12-06T04:51:07.1234567Z"
last_boot:
  description: The host's last boot time (ISO 8601 UTC).
  returned: always
  type: str
mcms_drift:
  description:
    - One record per managed value that differs (in check mode, would be written; otherwise, was written).
    - C(found) is null for a missing value, the data as read (a string, ...) for a value of another type.
  returned: always
  type: list
  elements: dict
  sample:
    - resource_type: schannel
      resource: HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.0\Server
      attribute: Enabled
      wanted: 0
      found: 1
"""

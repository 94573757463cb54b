#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.tls_expiry_report action (plugins/action/tls_expiry_report.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_expiry_report
short_description: Report the days left of every certificate bound to an https binding; warn and fail on thresholds
version_added: 0.1.0
description:
  - Controller-side action; it opens no connection to the host. It reads what the C(tls) role already read with
    M(microsoft.iis.website_info) and M(ansible.windows.win_certificate_info).
  - Returns one line per https binding in C(msg) (site, host name, port, thumbprint, days left).
  - A certificate with O(warn_days) days left or fewer raises a warning naming host, site, binding and certificate.
  - A certificate with O(fail_days) days left or fewer, an expired one, or one missing from the store fails the
    task, naming host, site, binding and certificate.
  - A deferred SCHANNEL reboot (O(reboot_pending)) is reported as C(REBOOT PENDING) in the output and as a warning.
options:
  sites:
    description: The C(site) list returned by M(microsoft.iis.website_info).
    type: list
    elements: dict
    required: true
  certificates:
    description: The C(certificates) list returned by M(ansible.windows.win_certificate_info) for the store the
      bindings use.
    type: list
    elements: dict
    required: true
  now:
    description: The current time (ISO 8601 text or epoch seconds).
    type: raw
    required: true
  warn_days:
    description: Warn when a bound certificate has this many days left or fewer.
    type: int
    required: true
  fail_days:
    description: Fail when a bound certificate has this many days left or fewer (or has expired).
    type: int
    required: true
  reboot_pending:
    description: A SCHANNEL change is waiting for a reboot that was deferred.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; it behaves the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: windows
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Report each bound certificate's days left
  mcms.infra.tls_expiry_report:
    sites: "{{ iis_sites.site }}"
    certificates: "{{ my_store.certificates }}"
    now: "{{ now(utc=true).isoformat() }}"
    warn_days: 21
    fail_days: 7
"""

RETURN = r"""
msg:
  description: One line per https binding, then C(REBOOT PENDING) when a reboot was deferred. On failure, the
    failures joined with C(; ).
  returned: always
  type: raw
  sample:
    - "MCMS mcms.lab.example:443 -> 3E6E324D0CB5798D35B8E4C3D94FCC98720DFAEC: 396 days left (ok)"
report:
  description: One entry per https binding.
  returned: always
  type: list
  elements: dict
  contains:
    site:
      description: IIS site name.
      type: str
    hostname:
      description: Host name of the binding (empty for a binding without one).
      type: str
    port:
      description: Port of the binding.
      type: int
    thumbprint:
      description: Thumbprint of the bound certificate.
      type: str
    subject:
      description: Subject of the certificate (null when it is missing from the store).
      type: str
    valid_to:
      description: Expiry, ISO 8601 (null when missing).
      type: str
    days_left:
      description: Whole days left (negative when expired, null when missing).
      type: int
    status:
      description: C(ok), C(warning), C(critical), C(expired) or C(missing).
      type: str
reboot_pending:
  description: Whether a deferred SCHANNEL reboot is pending.
  returned: always
  type: bool
"""

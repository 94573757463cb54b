#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.win_tls_probe Windows module (win_tls_probe.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_tls_probe
short_description: Show which certificate a TLS listener of this Windows host presents for a server name
version_added: 0.2.0
description:
  - Opens a TCP connection to O(address):O(port) on the managed host itself, performs a TLS handshake sending
    O(server_name) as SNI and returns the certificate the listener presented.
  - No DNS lookup and no HTTP request are made, so the answer is about this host's binding even when the name
    has no DNS record yet or points at a load balancer or another node.
  - Reports whether the certificate chain is valid against the host's trusted roots (or ends at
    O(ca_thumbprint)) and whether the certificate matches O(server_name) (SAN DNS names, wildcards on one
    label; the subject CN only when there is no SAN).
  - Read-only; it runs in check mode too.
options:
  server_name:
    description: The host name sent as SNI and compared with the certificate.
    type: str
    required: true
  address:
    description:
      - Address of this host to connect to. Use the binding's own IP address for an IP-specific binding,
        C(127.0.0.1) for an C(*) binding.
    type: str
    default: 127.0.0.1
  port:
    description: TCP port of the listener.
    type: int
    default: 443
  ca_thumbprint:
    description: When set, the chain is only valid when its root is this certificate (SHA-1 thumbprint).
    type: str
  timeout:
    description: Seconds to wait for the connection and the handshake.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description: The module changes nothing and runs in check mode.
  diff_mode:
    support: none
  platform:
    platforms: windows
notes:
  - Revocation is not checked (the internal CA publishes no CRL the hosts are required to reach).
  - The module fails when nothing listens on the port (connection refused), or the handshake fails (for
    example no certificate is bound for that name, address and port).
seealso:
  - module: ansible.windows.win_uri
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Prove the SNI binding of mcms.corp.example presents the selected certificate
  mcms.infra.win_tls_probe:
    server_name: mcms.corp.example
    port: 443
  register: probe

- name: Fail when it does not
  ansible.builtin.assert:
    that:
      - probe.thumbprint == wanted_thumbprint
      - probe.chain_valid
      - probe.name_matches
"""

RETURN = r"""
thumbprint:
  description: SHA-1 thumbprint of the presented certificate (upper case).
  returned: success
  type: str
  sample: 3C8A1F0D5E6B7A8C9D0E1F2A3B4C5D6E7F8A9B0C
certificate:
  description: The presented certificate.
  returned: success
  type: dict
  contains:
    thumbprint:
      description: SHA-1 thumbprint.
      type: str
    subject:
      description: Subject as .NET renders it (C(CN=a, O=b)).
      type: str
    issuer:
      description: Issuer as .NET renders it.
      type: str
    dns_names:
      description: DNS names of the subject alternative name extension.
      type: list
      elements: str
    eku_oids:
      description: Enhanced key usage OIDs; null when the certificate has no EKU extension (any purpose).
      type: list
      elements: str
    not_before:
      description: Start of validity, UTC, ISO 8601.
      type: str
    not_after:
      description: End of validity, UTC, ISO 8601.
      type: str
chain:
  description: Thumbprints of the built chain, leaf first.
  returned: success
  type: list
  elements: str
chain_status:
  description: X509ChainStatusFlags names of the chain build (empty when valid).
  returned: success
  type: list
  elements: str
chain_valid:
  description: The chain builds to a trusted root (and to O(ca_thumbprint) when given).
  returned: success
  type: bool
name_matches:
  description: The certificate is valid for O(server_name).
  returned: success
  type: bool
mcms_drift:
  description: Always empty, the module changes nothing.
  returned: always
  type: list
  elements: dict
"""

#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.win_folder_acl Windows module (win_folder_acl.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_folder_acl
short_description: Exactly the declared access rules on one folder, nothing inherited, in one call
version_added: 0.1.0
description:
  - Makes the explicit access rules of O(path) exactly O(rules) - one allow rule per account with
    C(ContainerInherit, ObjectInherit) and no propagation flags - and removes every other explicit rule (of any
    account, allow or deny).
  - Inheritance from the parent is disabled without copying the inherited rules (C(SetAccessRuleProtection($true,
    $false))), so nobody but the declared accounts has access.
  - Every account is translated to a SID before anything changes; a name that does not translate fails with nothing
    changed. A missing folder fails.
  - One round trip for what takes one M(ansible.windows.win_acl) call per rule plus one
    M(ansible.windows.win_acl_inheritance) call, with a check mode that says which rule differs (C(mcms_drift)).
options:
  path:
    description: Absolute path of an existing folder.
    type: path
    required: true
  rules:
    description: The folder's explicit allow rules, exactly.
    type: list
    elements: dict
    required: true
    options:
      identity:
        description: The account (C(NT Service\MSSQLSERVER), C(BUILTIN\Administrators)).
        type: str
        required: true
      rights:
        description: A C(FileSystemRights) value (C(Modify), C(ReadAndExecute)); C(Synchronize) is added as .NET does.
        type: str
        required: true
attributes:
  check_mode:
    support: full
    description: Reports every change (C(mcms_drift), diff) and writes nothing.
  diff_mode:
    support: full
  platform:
    platforms: windows
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: The backup folder - the SQL Server service writes, administrators read, nobody else
  mcms.infra.win_folder_acl:
    path: D:\SQLBackup
    rules:
      - identity: NT Service\MSSQLSERVER
        rights: Modify
      - identity: BUILTIN\Administrators
        rights: ReadAndExecute
"""

RETURN = r"""
mcms_drift:
  description:
    - One record per difference, C(resource_type) C(folder_acl), C(resource) the path; attribute C(inheritance)
      (wanted C(disabled)) or C(rule <account>) (wanted the rights or C(absent), found the rights or C(absent)).
  returned: always
  type: list
  elements: dict
"""

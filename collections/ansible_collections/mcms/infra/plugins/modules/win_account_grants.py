#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.win_account_grants Windows module (win_account_grants.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: win_account_grants
short_description: User rights and folder access of several accounts, exactly as declared, in one call
version_added: 0.1.0
description:
  - Makes every account of O(accounts) hold exactly the user rights in its O(accounts[].rights) on this host (rights
    it holds directly and that are not listed are taken away; other holders of a right are never touched) and
    exactly the folder access in its O(accounts[].folders).
  - Folder access is one explicit allow rule per declared folder (C(ContainerInherit, ObjectInherit), no
    propagation flags). On every declared folder and on every parent of one inside O(root), any other explicit rule
    of a managed account is removed, so no managed account inherits more than declared. Rules of other principals
    stay.
  - The effective access of each managed account on each declared folder is compared, inherited rules included
    (C(Get-Acl) lists them with C(IsInherited)). A rule a managed account inherits from a parent above O(root) is
    reported as a C(folder_acl) record on that parent (check mode, with a warning) and otherwise fails the module
    before any change, naming the parent, the account, the rule and the folders it reaches; the module never edits
    folders above the managed tree.
  - Missing declared folders are created first (in the same call), with inheritance from their parent.
  - O(remove) lists accounts removed from the data (prune); they end with no user right and no explicit rule on
    those folders and their parents. An account of O(remove) that no longer translates is skipped with a warning.
  - Every name is translated to a SID before anything changes; a name that does not translate fails the module
    with nothing changed.
  - Replaces one M(ansible.windows.win_user_right) call per right plus one M(ansible.windows.win_acl) call per rule
    and account (each a PowerShell start); one round trip whatever the number of accounts, rights and folders.
options:
  accounts:
    description: The managed accounts, each with the exact set of its rights and folder access on this host.
    type: list
    elements: dict
    required: true
    options:
      name:
        description: The account as Windows names it (C(CORP\svc_mcms_app$), C(.\svc_local), C(CORP\svc_user)).
        type: str
        required: true
      rights:
        description:
          - User rights and privileges the account holds directly (C(SeServiceLogonRight),
            C(SeDenyInteractiveLogonRight)); every other right it holds directly is removed.
        type: list
        elements: str
        default: []
      folders:
        description: Folders the account may access, with the access.
        type: list
        elements: dict
        default: []
        options:
          path:
            description: Absolute path of the folder.
            type: path
            required: true
          rights:
            description: A C(FileSystemRights) value (C(ReadAndExecute), C(Modify), C(Read)).
            type: str
            required: true
  remove:
    description: Accounts removed from the data (prune); they keep no right and no rule on the folders above.
    type: list
    elements: str
    default: []
  root:
    description:
      - The managed tree (the application root, C(C:\MCMS)). Parents of a declared folder under it, and O(root)
        itself, get their explicit rules of the managed accounts removed; parents above it are never edited, and a
        rule there that a declared folder inherits fails the module (check mode reports it).
      - Omitted, every parent of a declared folder is in the managed tree.
    type: path
  create_folders:
    description: Create missing declared folders. Off, a missing folder fails the module.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Computes and reports every change (C(mcms_drift), diff) and writes nothing.
  diff_mode:
    support: full
    description: Before and after are the rights and folder access of the managed accounts.
  platform:
    platforms: windows
notes:
  - Rights held through a group are not the account's own and are neither counted nor removed.
  - Explicit deny rules of a managed account on the folders are removed as well (exact set).
seealso:
  - module: ansible.windows.win_user_right
  - module: ansible.windows.win_acl
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Rights and folder access of the MCMS service accounts
  mcms.infra.win_account_grants:
    accounts:
      - name: CORP\svc_mcms_app$
        rights: [SeBatchLogonRight, SeDenyInteractiveLogonRight, SeDenyRemoteInteractiveLogonRight]
        folders:
          - path: C:\MCMS\releases
            rights: ReadAndExecute
          - path: C:\MCMS\shared\logs
            rights: Modify
    root: C:\MCMS
"""

RETURN = r"""
rights_added:
  description: Account -> rights granted (or that would be granted in check mode).
  returned: always
  type: dict
rights_removed:
  description: Account -> rights taken away.
  returned: always
  type: dict
folders_created:
  description: Folders created.
  returned: always
  type: list
  elements: str
acl_changed:
  description: Folder -> accounts whose explicit rules were replaced.
  returned: always
  type: dict
mcms_drift:
  description:
    - One record per difference found (and fixed, outside check mode), C(resource_type) C(user_right), C(folder) or
      C(folder_acl); C(wanted)/C(found) are the values the account should hold and held.
  returned: always
  type: list
  elements: dict
"""

#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.sql_principals Windows module (sql_principals.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sql_principals
short_description: Windows logins, their database users and exactly their database roles, in one call
version_added: 0.1.0
description:
  - For every entry of O(logins), a Windows login (C(CREATE LOGIN ... FROM WINDOWS)) that is enabled and in no
    server role, a user of the same name in O(logins[].database) mapped to that login, and exactly the database
    roles O(logins[].roles) (other role memberships of that user are dropped).
  - A database that does not exist yet (the application's migrations create it) leaves the user pending
    (C(pending), a warning); the login is created all the same. The next run creates the user.
  - Every login to create is checked with C(SUSER_SID()) before anything changes; a Windows name SQL Server cannot
    find fails with error 15401 and nothing changed.
  - O(remove) names logins removed from the data (prune); their users in every user database, then the logins, are
    dropped. A name with no login is ignored.
  - One round trip for all logins, users and roles; the C(lowlydba.sqlserver) modules need one call per login, per
    user and per role set (dbatools' C(Connect-DbaInstance) each time).
options:
  sql_instance:
    description: The SQL Server instance (C(localhost), C(HOST\INSTANCE)), reached with Windows authentication.
    type: str
    required: true
  logins:
    description: The managed logins.
    type: list
    elements: dict
    default: []
    options:
      name:
        description: Windows account of the login (C(CORP\svc_mcms_app$)); also the database user's name.
        type: str
        required: true
      database:
        description: The database the account uses.
        type: str
        required: true
      roles:
        description: Exactly the database roles of the user.
        type: list
        elements: str
        default: [db_datareader, db_datawriter]
  remove:
    description: Logins to drop with their database users (prune).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reports every change (C(mcms_drift), diff) and writes nothing.
  diff_mode:
    support: full
  platform:
    platforms: windows
requirements:
  - The C(SqlServer) or C(dbatools) PowerShell module is not needed; the module uses C(System.Data.SqlClient).
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Logins, users and roles of the MCMS service accounts
  mcms.infra.sql_principals:
    sql_instance: localhost
    logins:
      - name: CORP\svc_mcms_app$
        database: MCMS
        roles: [db_datareader, db_datawriter]
"""

RETURN = r"""
pending:
  description: Logins whose database does not exist yet (no user created).
  returned: always
  type: list
  elements: str
mcms_drift:
  description:
    - One record per difference found (and fixed outside check mode), C(resource_type) C(sql_login),
      C(sql_user) or C(sql_role_member).
  returned: always
  type: list
  elements: dict
"""

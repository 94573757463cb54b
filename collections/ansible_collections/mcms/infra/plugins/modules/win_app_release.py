# -*- coding: utf-8 -*-
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_app_release
short_description: Read the state of an MCMS release in one round trip
description:
  - Reads what the C(app) role needs to decide a deploy, in one PowerShell run. The IIS application's
    physical path and the version (C(version.json)) of the release there, the release folders on disk,
    the SHA-256 of the wanted release's files compared with the expected ones, missing shared folders
    and the Worker service.
  - Changes nothing; check mode runs the same reads.
  - Returns the SHA-256 found for every mismatched file, so the app role publishes drift records (wanted beside
    found) controller-side (C(roles/app/tasks/drift.yml)).
  - With O(worker_account), says whether that account may log on as a service here (C(SeServiceLogonRight),
    directly or through a group; LocalSystem, LocalService, NetworkService and virtual accounts need none);
    without it the service control manager refuses to start the Worker with error 1069.
options:
  app_root:
    description: Application root, e.g. C(C:\MCMS); releases live in C(<app_root>\releases\<version>).
    type: path
    required: true
  site:
    description: IIS site of the application.
    type: str
    required: true
  application:
    description: IIS application (virtual path under the site, without leading slash).
    type: str
    required: true
  version:
    description: The wanted release.
    type: str
    required: true
  files:
    description: Relative path (below the release folder) -> expected lower-case SHA-256.
    type: dict
    default: {}
  shared_dirs:
    description: Folders that must exist (reported in C(shared_missing) when they do not).
    type: list
    elements: str
    default: []
  worker_service:
    description: Name of the Worker Windows service to report on; empty for none.
    type: str
    default: ""
  worker_account:
    description:
      - The account the Worker is to run as; its C(SeServiceLogonRight) on this host is reported.
      - Empty means the account the Worker service runs as now.
    type: str
    default: ""
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Read the release state
  mcms.infra.win_app_release:
    app_root: C:\MCMS
    site: MCMS
    application: api
    version: 1.5.0
    files:
      Mcms.Api.dll: 0f1e...
    worker_service: MCMS.Worker
  register: release
"""

RETURN = r"""
iis_installed:
  description: Whether IIS (its WebAdministration module) is installed; when false, nothing else is returned.
  returned: always
  type: bool
application:
  description: The IIS application (exists, physical_path, application_pool).
  returned: always
  type: dict
current_path:
  description: Physical path of the application, null when it does not exist.
  returned: always
  type: str
current_version:
  description: C(version) of C(version.json) in the current physical path, null when unknown.
  returned: always
  type: str
releases:
  description: Names of the folders under C(<app_root>\releases).
  returned: always
  type: list
  elements: str
release:
  description: The wanted release (path, exists, missing and mismatched files, C(found) SHA-256 per mismatched file).
  returned: always
  type: dict
shared_missing:
  description: Shared folders that do not exist.
  returned: always
  type: list
  elements: str
worker:
  description: >-
    The Worker service (exists, state, path, username), the O(worker_account) asked about (C(account)) and
    whether it holds C(SeServiceLogonRight) here (C(logon_right): true, false, or null when it cannot be told).
  returned: always
  type: dict
"""

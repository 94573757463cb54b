#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.app_logbook action (plugins/action/app_logbook.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_logbook
short_description: Append a deploy or rollback record to the controller logbook
version_added: 0.1.0
description:
  - Controller-side action; it opens no connection to the host.
  - Appends one JSON line to C(<dir>/<environment>.jsonl) (UTC time, environment, host, action, from and to
    version, strategy, result, duration, user, message) and drops lines older than O(retention_days).
  - Writes nothing in check mode. Only these fields are written, never a variable or a secret.
  - The user is E(MCMS_DEPLOY_USER) when set, else the controller account.
options:
  dir:
    description: Logbook directory on the controller.
    type: path
    required: true
  environment:
    description: Environment name (the file name).
    type: str
    required: true
  action:
    description: What happened.
    type: str
    choices: [deploy, rollback, automatic-rollback]
    required: true
  from_version:
    description: Version serving before.
    type: str
  to_version:
    description: Version serving after (or attempted).
    type: str
    required: true
  strategy:
    description: Deployment strategy.
    type: str
    default: inplace
  result:
    description: C(success) or C(failed).
    type: str
    required: true
  started:
    description: ISO 8601 UTC start time, for the duration.
    type: str
  message:
    description: What failed, in one line.
    type: str
  retention_days:
    description: Lines older than this many days are dropped.
    type: int
    default: 30
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Record the deploy
  mcms.infra.app_logbook:
    dir: logs/deploy
    environment: prod
    action: deploy
    from_version: 1.4.0
    to_version: 1.5.0
    result: success
"""

RETURN = r"""
record:
  description: The record written (or that would be written in check mode).
  returned: always
  type: dict
path:
  description: The logbook file.
  returned: when written
  type: str
"""

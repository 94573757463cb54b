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
    description: Logbook directory on the controller (required unless O(write=false)).
    type: path
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
  write:
    description: Write the logbook line (C(false) when only the notification is wanted).
    type: bool
    default: true
  notify_url:
    description:
      - Internal webhook; the same record is POSTed to it as JSON after the line is written.
      - A failure (timeout, refused, non-2xx, TLS) is a warning and never fails the task. Check mode sends nothing.
      - Warnings show the URL without user info, query or fragment.
    type: str
  notify_timeout:
    description: Seconds to wait for the webhook.
    type: float
    default: 10
  notify_ca_path:
    description: CA bundle on the controller for an https webhook (validation is always on).
    type: path
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
notified:
  description: Whether the webhook accepted the record (2xx).
  returned: when notify_url is set, outside check mode
  type: bool
"""

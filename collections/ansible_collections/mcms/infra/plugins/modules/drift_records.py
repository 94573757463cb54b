#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.drift_records action (plugins/action/drift_records.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: drift_records
short_description: Publish a role's drift records from what its read-only modules found
version_added: 0.1.0
description:
  - Controller-side action; it opens no connection to the host (zero round trips).
  - Compares, per resource, the wanted attributes with what the role's reads found, and returns each difference
    as a drift record (C(resource_type), C(resource), C(attribute), C(wanted), C(found)) in C(mcms_drift), for
    the M(mcms.infra.drift) callback. Never reports a change.
  - Lists compare as sets; strings compare case-insensitively unless C(ignore_case=false) on the resource.
  - Secret values are masked as C(********).
options:
  resources:
    description:
      - Resources to compare. Each has C(resource_type), C(resource), C(wanted) (a mapping attribute -> value),
        C(found) (the same attributes as read from the host, or C(null) when the resource is missing),
        optional C(ignore_case) (default true) and C(secret) (attribute names whose values are masked).
    type: list
    elements: dict
    default: []
  records:
    description: Ready-made drift records (the five convention keys), e.g. from a role's own plan.
    type: list
    elements: dict
    default: []
  covers:
    description:
      - Names of tasks skipped in check mode whose resources these records verify instead; the collector does
        not list them under "could not check" and drops their coarse records.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: drift | Publish the sites' drift records
  mcms.infra.drift_records:
    resources:
      - resource_type: iis_site
        resource: MCMS
        wanted: {state: Started}
        found: {state: Stopped}
  when: ansible_check_mode
"""

RETURN = r"""
mcms_drift:
  description: The drift records.
  returned: always
  type: list
  elements: dict
mcms_drift_checked:
  description: Every resource compared (C(resource_type), C(resource)), drifted or not.
  returned: always
  type: list
  elements: dict
mcms_drift_covers:
  description: The O(covers) task names.
  returned: always
  type: list
  elements: str
"""

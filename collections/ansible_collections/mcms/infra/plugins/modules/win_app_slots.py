# -*- coding: utf-8 -*-
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: win_app_slots
short_description: Read the blue/green slots and the front's rewrite target in one round trip
description:
  - Reads what the C(app) role's blue/green strategy decides from, in one PowerShell run. The two slot
    sites (state, bindings, application pool and its state, the application's physical path and the
    C(version.json) version there), the front site's URL Rewrite rule C(rule_name) (its action URL and so
    the active slot, matched by port), whether ARR's C(system.webServer/proxy) is present and enabled, and
    whether the given MSI product codes are installed.
  - Changes nothing; check mode runs the same reads.
  - With O(wanted_version), returns an C(mcms_drift) record when the front does not point at the slot
    whose application serves that version.
options:
  front_site:
    description: The front site (on 443) whose rewrite rule proxies to the active slot.
    type: str
    required: true
  rule_name:
    description: Name of the URL Rewrite rule in C(<location path="front_site">) of applicationHost.config.
    type: str
    required: true
  application:
    description: The application (virtual path without leading slash) inside each slot site.
    type: str
    required: true
  slots:
    description: The slots, each a dict with C(name), C(site), C(pool) and C(port).
    type: list
    elements: dict
    required: true
  wanted_version:
    description: The release that should serve; empty for no drift record.
    type: str
    default: ""
  product_ids:
    description: MSI product codes to report in C(products) (installed or not).
    type: list
    elements: str
    default: []
author:
  - MCMS infrastructure team
"""

EXAMPLES = r"""
- name: Read the slots
  mcms.infra.win_app_slots:
    front_site: MCMS
    rule_name: mcms-bluegreen
    application: api
    slots:
      - {name: blue, site: MCMS-blue, pool: MCMS-blue, port: 8081}
      - {name: green, site: MCMS-green, pool: MCMS-green, port: 8082}
    wanted_version: 1.5.0
  register: slots
"""

RETURN = r"""
iis_installed:
  description: Whether IIS (WebAdministration) is installed; nothing else is read without it.
  returned: always
  type: bool
products:
  description: Product code -> installed.
  returned: always
  type: dict
proxy:
  description: C(present) and C(enabled) of ARR's C(system.webServer/proxy).
  returned: when IIS is installed
  type: dict
front:
  description: C(site_exists), C(rule_exists), C(target) (the rule's action URL) and C(active_slot).
  returned: when IIS is installed
  type: dict
slots:
  description: Slot name -> site, pool and application state, physical path and version.
  returned: when IIS is installed
  type: dict
mcms_drift:
  description: Drift records (the front not pointing at the slot serving O(wanted_version)).
  returned: always
  type: list
"""

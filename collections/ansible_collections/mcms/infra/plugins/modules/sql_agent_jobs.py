#!/usr/bin/python
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the mcms.infra.sql_agent_jobs Windows module (sql_agent_jobs.ps1)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sql_agent_jobs
short_description: SQL Server Agent jobs with exactly one T-SQL step and one schedule each, in one call
version_added: 0.1.0
description:
  - Reads and converges every job of O(jobs) in one PowerShell start (the C(lowlydba.sqlserver) modules need three
    calls per job, C(agent_job), C(agent_job_step) and C(agent_job_schedule), each with dbatools'
    C(Connect-DbaInstance)).
  - Exact for the jobs it lists. A missing job is created with its step and schedule (C(sp_add_job),
    C(sp_add_jobstep), C(sp_add_schedule), C(sp_attach_schedule), C(sp_add_jobserver)). On an existing job the
    description, category, enabled state, start step and (when O(jobs[].owner) is set) owner are compared; step 1
    must match O(jobs[].step) and every other step is deleted; the job has exactly one schedule, O(jobs[].schedule),
    and every other schedule is detached (and deleted when no other job uses it). A schedule this job shares with
    another job is never edited; the job is detached from it and gets its own.
  - Jobs that are not listed are never read or changed.
  - "Every job is validated before anything changes, with msdb's answers: the step's database must exist
    (C(The specified @database_name ('X') does not exist.)), the owner login must exist, the category must exist,
    the schedule must pass C(sp_verify_schedule) (C(The schedule for this job is invalid (reason: ...).)). A refused
    entry fails the module with nothing changed."
  - An edition without SQL Server Agent (Express) fails; a stopped Agent service only warns (the jobs are
    configured, they run once it starts).
options:
  sql_instance:
    description: The SQL Server instance (C(localhost), C(HOST\INSTANCE)), reached with Windows authentication.
    type: str
    required: true
  jobs:
    description: The managed jobs.
    type: list
    elements: dict
    default: []
    options:
      name:
        description: Job name (unique in msdb; compared without case).
        type: str
        required: true
      description:
        description: Job description.
        type: str
        default: ''
      category:
        description: An existing local job category.
        type: str
        default: '[Uncategorized (Local)]'
      enabled:
        description: Whether the job is enabled.
        type: bool
        default: true
      owner:
        description:
          - Owner login. Empty, a new job is owned by the connecting login (C(sp_add_job)'s default) and an
            existing job's owner is not compared.
        type: str
      step:
        description: The job's one step (step 1).
        type: dict
        required: true
        options:
          name:
            description: Step name.
            type: str
            required: true
          database:
            description: The database the T-SQL runs in.
            type: str
            default: master
          subsystem:
            description: The step's subsystem.
            type: str
            default: TransactSql
            choices: [TransactSql]
          command:
            description: The T-SQL.
            type: str
            required: true
          on_success_action:
            description: What the job does when the step succeeds.
            type: str
            default: QuitWithSuccess
            choices: [QuitWithSuccess, QuitWithFailure]
          on_fail_action:
            description: What the job does when the step fails.
            type: str
            default: QuitWithFailure
            choices: [QuitWithSuccess, QuitWithFailure]
      schedule:
        description: The job's one schedule (msdb codes in the drift records and diff).
        type: dict
        required: true
        options:
          name:
            description: Schedule name.
            type: str
            required: true
          enabled:
            description: Whether the schedule is enabled.
            type: bool
            default: true
          frequency_type:
            description: C(freq_type) 1, 4, 8, 16, 64, 128.
            type: str
            required: true
            choices: [Once, Daily, Weekly, Monthly, AgentStart, IdleComputer]
          frequency_interval:
            description:
              - Daily, every this many days; Weekly, the days as msdb's bit mask (1 Sunday ... 64 Saturday);
                Monthly, the day of the month. Ignored for the other types.
            type: int
            default: 1
          frequency_recurrence_factor:
            description: Weekly and Monthly, every this many weeks or months (at least 1).
            type: int
            default: 1
          frequency_subday_type:
            description: C(freq_subday_type) 1 (C(Once)/C(Time), at the start time), 2, 4, 8.
            type: str
            default: Once
            choices: [Once, Time, Seconds, Minutes, Hours]
          frequency_subday_interval:
            description: Every this many seconds (at least 10), minutes or hours.
            type: int
            default: 0
          start_date:
            description: C(yyyyMMdd), from 19900101.
            type: str
            required: true
          end_date:
            description: C(yyyyMMdd).
            type: str
            default: '99991231'
          start_time:
            description: C(HHmmss).
            type: str
            default: '000000'
          end_time:
            description: C(HHmmss).
            type: str
            default: '235959'
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
- name: The hourly log backup job
  mcms.infra.sql_agent_jobs:
    sql_instance: localhost
    jobs:
      - name: DatabaseBackup - LOG
        description: LOG backups
        category: Database Maintenance
        step:
          name: DatabaseBackup - LOG
          database: master
          command: EXECUTE [dbo].[DatabaseBackup] @Databases = 'MCMS', @BackupType = 'LOG'
        schedule:
          name: DatabaseBackup - LOG
          frequency_type: Daily
          frequency_subday_type: Hours
          frequency_subday_interval: 1
          start_date: '20260101'
          start_time: '001500'
"""

RETURN = r"""
mcms_drift:
  description:
    - One record per difference found (and fixed outside check mode), C(resource_type) C(sql_agent_job)
      (resource the job name; attributes C(present), C(description), C(category), C(enabled), C(owner_login),
      C(start_step_id)), C(sql_agent_job_step) (resource C(<job>/step <id>); C(present) and the step's fields) or
      C(sql_agent_job_schedule) (resource C(<job>/<schedule>); C(present) and msdb's C(sysschedules) columns).
  returned: always
  type: list
  elements: dict
mcms_drift_checked:
  description: Every job, step and schedule compared (resource_type, resource), for the drift report.
  returned: always
  type: list
  elements: dict
"""

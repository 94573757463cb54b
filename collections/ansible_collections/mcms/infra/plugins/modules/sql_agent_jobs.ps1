#!powershell
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# SQL Server Agent jobs with exactly one T-SQL step and one schedule each, read
# and converged in one PowerShell start through msdb's own procedures.
# Documentation: sql_agent_jobs.py; design: docs/decisions.md section 21.

$spec = @{
    options = @{
        sql_instance = @{ type = 'str'; required = $true }
        jobs = @{
            type = 'list'
            elements = 'dict'
            default = @()
            options = @{
                name = @{ type = 'str'; required = $true }
                description = @{ type = 'str'; default = '' }
                category = @{ type = 'str'; default = '[Uncategorized (Local)]' }
                enabled = @{ type = 'bool'; default = $true }
                owner = @{ type = 'str' }
                step = @{
                    type = 'dict'
                    required = $true
                    options = @{
                        name = @{ type = 'str'; required = $true }
                        database = @{ type = 'str'; default = 'master' }
                        subsystem = @{ type = 'str'; default = 'TransactSql'; choices = @('TransactSql') }
                        command = @{ type = 'str'; required = $true }
                        on_success_action = @{ type = 'str'; default = 'QuitWithSuccess'; choices = @('QuitWithSuccess', 'QuitWithFailure') }
                        on_fail_action = @{ type = 'str'; default = 'QuitWithFailure'; choices = @('QuitWithSuccess', 'QuitWithFailure') }
                    }
                }
                schedule = @{
                    type = 'dict'
                    required = $true
                    options = @{
                        name = @{ type = 'str'; required = $true }
                        enabled = @{ type = 'bool'; default = $true }
                        frequency_type = @{ type = 'str'; required = $true; choices = @('Once', 'Daily', 'Weekly', 'Monthly', 'AgentStart', 'IdleComputer') }
                        frequency_interval = @{ type = 'int'; default = 1 }
                        frequency_recurrence_factor = @{ type = 'int'; default = 1 }
                        frequency_subday_type = @{ type = 'str'; default = 'Once'; choices = @('Once', 'Time', 'Seconds', 'Minutes', 'Hours') }
                        frequency_subday_interval = @{ type = 'int'; default = 0 }
                        start_date = @{ type = 'str'; required = $true }
                        end_date = @{ type = 'str'; default = '99991231' }
                        start_time = @{ type = 'str'; default = '000000' }
                        end_time = @{ type = 'str'; default = '235959' }
                    }
                }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$check = $module.CheckMode

$connection = New-Object System.Data.SqlClient.SqlConnection(
    "Server=$($module.Params.sql_instance);Database=msdb;Integrated Security=SSPI;Application Name=mcms.infra")
try { $connection.Open() }
catch { $module.FailJson("Error connecting to [$($module.Params.sql_instance)]: $($_.Exception.InnerException.Message)", $_) }

function Invoke-Sql([string]$Query, [hashtable]$Parameters = @{}) {
    $cmd = $connection.CreateCommand()
    $cmd.CommandText = $Query
    foreach ($k in $Parameters.Keys) {
        $v = $Parameters[$k]
        if ($null -eq $v) { $v = [System.DBNull]::Value }
        [void]$cmd.Parameters.AddWithValue($k, $v)
    }
    $table = New-Object System.Data.DataTable
    try { $table.Load($cmd.ExecuteReader()) }
    catch { $module.FailJson("$($_.Exception.InnerException.Message)", $_) }
    , $table
}

$freqTypes = @{ Once = 1; Daily = 4; Weekly = 8; Monthly = 16; AgentStart = 64; IdleComputer = 128 }
$subdayTypes = @{ Once = 1; Time = 1; Seconds = 2; Minutes = 4; Hours = 8 }
$actionNames = @{ 1 = 'QuitWithSuccess'; 2 = 'QuitWithFailure'; 3 = 'GoToNextStep'; 4 = 'GoToStep' }
$actionCodes = @{ QuitWithSuccess = 1; QuitWithFailure = 2 }
$subsystemNames = @{ TSQL = 'TransactSql'; CmdExec = 'CmdExec'; PowerShell = 'PowerShell' }
$scheduleFields = @('enabled', 'freq_type', 'freq_interval', 'freq_subday_type', 'freq_subday_interval',
    'freq_recurrence_factor', 'active_start_date', 'active_end_date', 'active_start_time', 'active_end_time')
$stepFields = @('name', 'subsystem', 'database_name', 'command', 'on_success_action', 'on_fail_action')

function Get-Invalid([string]$Reason) { "The schedule for this job is invalid (reason: $Reason)." }

function ConvertTo-MsdbDate([string]$Value, [string]$Param) {
    $parsed = [datetime]::MinValue
    $ok = $Value -match '^\d{8}$' -and [datetime]::TryParseExact($Value, 'yyyyMMdd',
        [System.Globalization.CultureInfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::None, [ref]$parsed)
    if (-not $ok -or $parsed -lt [datetime]'1990-01-01') {
        throw (Get-Invalid "The specified '$Param' is invalid (valid values are: 19900101 to 99991231).")
    }
    $parsed.ToString('yyyy-MM-dd', [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertTo-MsdbTime([string]$Value, [string]$Param) {
    if ($Value -notmatch '^(\d\d)(\d\d)(\d\d)$' -or [int]$Matches[1] -gt 23 -or [int]$Matches[2] -gt 59 -or [int]$Matches[3] -gt 59) {
        throw (Get-Invalid "The specified '$Param' is invalid (valid values are: 000000 to 235959).")
    }
    "$($Matches[1]):$($Matches[2]):$($Matches[3])"
}

function Format-MsdbDate([int]$Value) { '{0:0000}-{1:00}-{2:00}' -f [math]::Floor($Value / 10000), ([math]::Floor($Value / 100) % 100), ($Value % 100) }
function Format-MsdbTime([int]$Value) { '{0:00}:{1:00}:{2:00}' -f [math]::Floor($Value / 10000), ([math]::Floor($Value / 100) % 100), ($Value % 100) }
function ConvertTo-MsdbInt([string]$Text) { [int]($Text -replace '[-:]', '') }

# The msdb row sp_add_schedule would write, after sp_verify_schedule's checks.
function Get-WantedSchedule($S) {
    $ftype = $freqTypes[$S.frequency_type]
    $interval = [int]$S.frequency_interval
    $subday = $subdayTypes[$S.frequency_subday_type]
    $subInterval = [int]$S.frequency_subday_interval
    $recurrence = [int]$S.frequency_recurrence_factor
    if ($ftype -eq 4 -and $interval -lt 1) { throw (Get-Invalid "The specified '@freq_interval' is invalid.") }
    if ($ftype -eq 8 -and ($interval -lt 1 -or $interval -gt 127)) { throw (Get-Invalid "The specified '@freq_interval' is invalid (valid values are: 1 to 127).") }
    if ($ftype -eq 16 -and ($interval -lt 1 -or $interval -gt 31)) { throw (Get-Invalid "The specified '@freq_interval' is invalid (valid values are: 1 to 31).") }
    if (($ftype -in @(8, 16)) -and $recurrence -lt 1) { throw (Get-Invalid "The specified '@freq_recurrence_factor' is invalid.") }
    if ($ftype -in @(1, 64, 128)) { $interval = 0; $recurrence = 0 }
    elseif ($ftype -eq 4) { $recurrence = 0 }
    if ($subday -eq 1) { $subInterval = 0 }
    elseif ($subInterval -lt 1 -or ($subday -eq 2 -and $subInterval -lt 10)) { throw (Get-Invalid "The specified '@freq_subday_interval' is invalid.") }
    $startDate = ConvertTo-MsdbDate $S.start_date '@active_start_date'
    $endDate = ConvertTo-MsdbDate $S.end_date '@active_end_date'
    if ([string]::CompareOrdinal($endDate, $startDate) -lt 0) { throw (Get-Invalid '@active_end_date cannot be before @active_start_date.') }
    $startTime = ConvertTo-MsdbTime $S.start_time '@active_start_time'
    $endTime = ConvertTo-MsdbTime $S.end_time '@active_end_time'
    [ordered]@{
        enabled = [bool]$S.enabled; freq_type = $ftype; freq_interval = $interval; freq_subday_type = $subday
        freq_subday_interval = $subInterval; freq_recurrence_factor = $recurrence; active_start_date = $startDate
        active_end_date = $endDate; active_start_time = $startTime; active_end_time = $endTime
    }
}

function Get-ScheduleParameters($Wanted) {
    @{
        '@enabled' = [int]$Wanted.enabled; '@freq_type' = $Wanted.freq_type; '@freq_interval' = $Wanted.freq_interval
        '@freq_subday_type' = $Wanted.freq_subday_type; '@freq_subday_interval' = $Wanted.freq_subday_interval
        '@freq_relative_interval' = 0; '@freq_recurrence_factor' = $Wanted.freq_recurrence_factor
        '@active_start_date' = ConvertTo-MsdbInt $Wanted.active_start_date
        '@active_end_date' = ConvertTo-MsdbInt $Wanted.active_end_date
        '@active_start_time' = ConvertTo-MsdbInt $Wanted.active_start_time
        '@active_end_time' = ConvertTo-MsdbInt $Wanted.active_end_time
    }
}
$scheduleArgs = '@enabled = @enabled, @freq_type = @freq_type, @freq_interval = @freq_interval, ' +
'@freq_subday_type = @freq_subday_type, @freq_subday_interval = @freq_subday_interval, ' +
'@freq_relative_interval = @freq_relative_interval, @freq_recurrence_factor = @freq_recurrence_factor, ' +
'@active_start_date = @active_start_date, @active_end_date = @active_end_date, ' +
'@active_start_time = @active_start_time, @active_end_time = @active_end_time'

function Add-JobSchedule([string]$Job, [string]$Name, $Wanted) {
    $p = Get-ScheduleParameters $Wanted
    $p['@j'] = $Job
    $p['@s'] = $Name
    [void](Invoke-Sql "EXEC dbo.sp_add_jobschedule @job_name = @j, @name = @s, $scheduleArgs" $p)
}

function Add-JobStep([string]$Job, $Step) {
    [void](Invoke-Sql ('EXEC dbo.sp_add_jobstep @job_name = @j, @step_id = 1, @step_name = @n, @subsystem = N''TSQL'', ' +
            '@database_name = @d, @command = @c, @on_success_action = @ok, @on_fail_action = @ko') @{
            '@j' = $Job; '@n' = $Step.name; '@d' = $Step.database_name; '@c' = $Step.command
            '@ok' = $actionCodes[$Step.on_success_action]; '@ko' = $actionCodes[$Step.on_fail_action]
        })
}

# 0. SQL Server Agent is there (not Express), and running (a warning otherwise).
$server = (Invoke-Sql "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine, CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition").Rows[0]
if ($server.engine -eq 4) {
    $module.FailJson("SQL Server Agent is not part of the $($server.edition) edition of $($module.Params.sql_instance): Agent jobs would never run.")
}
$agent = Invoke-Sql "SELECT servicename, status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'"
foreach ($row in $agent) {
    if ($row.status_desc -ne 'Running') {
        $module.Warn("the SQL Server Agent service ($($row.servicename)) is not running: the jobs are configured but will not run until it starts")
    }
}

# 1. Validate every job before any change (what msdb would refuse).
$names = @($module.Params.jobs | ForEach-Object { $_.name.ToLowerInvariant() })
$dupes = @($names | Group-Object | Where-Object { $_.Count -gt 1 } | ForEach-Object { $_.Name } | Sort-Object)
if ($dupes.Count -gt 0) { $module.FailJson("jobs: the job names $($dupes -join ', ') are listed more than once") }
$categories = @((Invoke-Sql 'SELECT name FROM dbo.syscategories WHERE category_class = 1').name)
$databases = @{}
foreach ($row in (Invoke-Sql 'SELECT name FROM sys.databases')) { $databases[$row.name.ToLowerInvariant()] = $row.name }
$logins = @{}
foreach ($row in (Invoke-Sql "SELECT name FROM sys.server_principals WHERE type IN ('S', 'U', 'G')")) {
    $logins[$row.name.ToLowerInvariant()] = $row.name
}
# No query inside the try below: it only turns msdb's refusals into one failure naming the job.
$plans = [System.Collections.Generic.List[object]]@()
foreach ($entry in $module.Params.jobs) {
    try {
        if ($entry.category -notin $categories) {
            throw "The specified '@category_name' is invalid (valid values are returned by sp_help_category)."
        }
        $owner = $null
        if ($entry.owner) {
            $owner = $logins[$entry.owner.ToLowerInvariant()]
            if (-not $owner) { throw "The specified @owner_login_name ('$($entry.owner)') does not exist." }
        }
        $db = $databases[$entry.step.database.ToLowerInvariant()]
        if (-not $db) { throw "The specified @database_name ('$($entry.step.database)') does not exist." }
        $step = [ordered]@{
            name = $entry.step.name; subsystem = $entry.step.subsystem; database_name = $db; command = $entry.step.command
            on_success_action = $entry.step.on_success_action; on_fail_action = $entry.step.on_fail_action
        }
        $plans.Add(@{ entry = $entry; owner = $owner; step = $step; schedule = (Get-WantedSchedule $entry.schedule) })
    }
    catch { $module.FailJson("job $($entry.name): $($_.Exception.Message)") }
}

$drift = [System.Collections.Generic.List[object]]@()
$checked = [System.Collections.Generic.List[object]]@()
$before = @{}
$after = @{}
$login = (Invoke-Sql 'SELECT SUSER_SNAME() AS name').name
function Join-Dict($First, $Second, [string[]]$Skip = @()) {
    $out = [ordered]@{}
    foreach ($d in $First, $Second) { foreach ($k in $d.Keys) { if ($k -notin $Skip) { $out[$k] = $d[$k] } } }
    $out
}
function Add-Record($Type, $Resource, $Attribute, $Wanted, $Found) {
    $drift.Add(@{ resource_type = $Type; resource = $Resource; attribute = $Attribute; wanted = $Wanted; found = $Found })
}

# 2. Read and converge each job.
foreach ($plan in $plans) {
    $entry = $plan.entry
    $name = $entry.name
    $step = $plan.step
    $sched = $plan.schedule
    $schedName = $entry.schedule.name
    $stepRes = "$name/step 1"
    $schedRes = "$name/$schedName"
    $checked.Add(@{ resource_type = 'sql_agent_job'; resource = $name })
    $checked.Add(@{ resource_type = 'sql_agent_job_step'; resource = $stepRes })
    $checked.Add(@{ resource_type = 'sql_agent_job_schedule'; resource = $schedRes })

    $job = (Invoke-Sql @'
SELECT j.job_id, j.name, j.description, CAST(j.enabled AS bit) AS enabled, j.start_step_id,
       SUSER_SNAME(j.owner_sid) AS owner_login, c.name AS category
FROM dbo.sysjobs j JOIN dbo.syscategories c ON c.category_id = j.category_id WHERE j.name = @n
'@ @{ '@n' = $name }).Rows | Select-Object -First 1
    $wantedJob = [ordered]@{ description = $entry.description; category = $entry.category; enabled = [bool]$entry.enabled }
    if ($plan.owner) { $wantedJob.owner_login = $plan.owner }
    $afterOwner = if ($plan.owner) { $plan.owner } elseif ($job) { $job.owner_login } else { $login }
    $after[$name] = @{
        present = $true; description = $entry.description; category = $entry.category; enabled = [bool]$entry.enabled
        owner_login = $afterOwner; steps = @(Join-Dict @{ id = 1 } $step); schedules = @(Join-Dict @{ name = $schedName } $sched)
    }
    if (-not $job) {
        $before[$name] = @{ present = $false }
        Add-Record 'sql_agent_job' $name 'present' $true $false
        if (-not $check) {
            [void](Invoke-Sql ('EXEC dbo.sp_add_job @job_name = @n, @description = @d, @category_name = @c, ' +
                    '@enabled = @e, @owner_login_name = @o') @{
                    '@n' = $name; '@d' = $entry.description; '@c' = $entry.category; '@e' = [int]$entry.enabled; '@o' = $afterOwner
                })
            Add-JobStep $name $step
            Add-JobSchedule $name $schedName $sched
            [void](Invoke-Sql 'EXEC dbo.sp_add_jobserver @job_name = @n, @server_name = N''(local)''' @{ '@n' = $name })
        }
        continue
    }
    $jobId = $job.job_id
    $steps = @((Invoke-Sql @'
SELECT step_id, step_name AS name, subsystem, database_name, command, on_success_action, on_fail_action
FROM dbo.sysjobsteps WHERE job_id = @id ORDER BY step_id
'@ @{ '@id' = $jobId }).Rows | ForEach-Object {
            $sub = if ($subsystemNames.ContainsKey($_.subsystem)) { $subsystemNames[$_.subsystem] } else { $_.subsystem }
            [ordered]@{
                id = [int]$_.step_id; name = $_.name; subsystem = $sub
                database_name = if ($_.database_name -is [System.DBNull]) { $null } else { $_.database_name }
                command = $_.command; on_success_action = $actionNames[[int]$_.on_success_action]
                on_fail_action = $actionNames[[int]$_.on_fail_action]
            }
        })
    $attached = @((Invoke-Sql @'
SELECT s.schedule_id, s.name, CAST(s.enabled AS bit) AS enabled, s.freq_type, s.freq_interval, s.freq_subday_type,
       s.freq_subday_interval, s.freq_recurrence_factor, s.active_start_date, s.active_end_date, s.active_start_time,
       s.active_end_time, (SELECT COUNT(*) FROM dbo.sysjobschedules o WHERE o.schedule_id = s.schedule_id) AS job_count
FROM dbo.sysschedules s JOIN dbo.sysjobschedules js ON js.schedule_id = s.schedule_id
WHERE js.job_id = @id ORDER BY s.schedule_id
'@ @{ '@id' = $jobId }).Rows | ForEach-Object {
            [ordered]@{
                schedule_id = [int]$_.schedule_id; name = $_.name; job_count = [int]$_.job_count; enabled = [bool]$_.enabled
                freq_type = [int]$_.freq_type; freq_interval = [int]$_.freq_interval; freq_subday_type = [int]$_.freq_subday_type
                freq_subday_interval = [int]$_.freq_subday_interval; freq_recurrence_factor = [int]$_.freq_recurrence_factor
                active_start_date = Format-MsdbDate $_.active_start_date; active_end_date = Format-MsdbDate $_.active_end_date
                active_start_time = Format-MsdbTime $_.active_start_time; active_end_time = Format-MsdbTime $_.active_end_time
            }
        })
    $before[$name] = @{
        present = $true; description = $job.description; category = $job.category; enabled = [bool]$job.enabled
        owner_login = $job.owner_login; steps = $steps
        schedules = @($attached | ForEach-Object { Join-Dict @{} $_ -Skip 'schedule_id', 'job_count' })
    }

    # the job
    $update = @{}
    foreach ($field in $wantedJob.Keys) {
        $found = $job.$field
        if ($found -is [System.DBNull]) { $found = $null }
        $same = if ($field -eq 'enabled') { [bool]$found -eq $wantedJob[$field] } else { [string]$found -ceq [string]$wantedJob[$field] }
        if ($field -eq 'owner_login') { $same = [string]$found -eq [string]$wantedJob[$field] }
        if (-not $same) {
            Add-Record 'sql_agent_job' $name $field $wantedJob[$field] $found
            $update[$field] = $wantedJob[$field]
        }
    }
    if ([int]$job.start_step_id -ne 1) {
        Add-Record 'sql_agent_job' $name 'start_step_id' 1 ([int]$job.start_step_id)
    }
    # its one step (step 1); every other step goes, highest first (sp_delete_jobstep renumbers)
    $first = $steps | Where-Object { $_.id -eq 1 } | Select-Object -First 1
    $stepUpdate = @{}
    if (-not $first) { Add-Record 'sql_agent_job_step' $stepRes 'present' $true $false }
    else {
        foreach ($field in $stepFields) {
            if ([string]$first[$field] -cne [string]$step[$field]) {
                Add-Record 'sql_agent_job_step' $stepRes $field $step[$field] $first[$field]
                $stepUpdate[$field] = $step[$field]
            }
        }
    }
    $extraSteps = @($steps | Where-Object { $_.id -ne 1 } | Sort-Object { $_.id } -Descending)
    foreach ($extra in $extraSteps) { Add-Record 'sql_agent_job_step' "$name/step $($extra.id)" 'present' $false $true }
    # its one schedule
    $mine = $attached | Where-Object { $_.name -eq $schedName } | Select-Object -First 1
    $extraSchedules = @($attached | Where-Object { -not $mine -or $_.schedule_id -ne $mine.schedule_id })
    foreach ($extra in $extraSchedules) { Add-Record 'sql_agent_job_schedule' "$name/$($extra.name)" 'present' $false $true }
    $differs = @()
    if (-not $mine) { Add-Record 'sql_agent_job_schedule' $schedRes 'present' $true $false }
    else {
        if ($mine.name -cne $schedName) { $differs += 'name'; Add-Record 'sql_agent_job_schedule' $schedRes 'name' $schedName $mine.name }
        foreach ($field in $scheduleFields) {
            if ([string]$mine[$field] -cne [string]$sched[$field]) {
                $differs += $field
                Add-Record 'sql_agent_job_schedule' $schedRes $field $sched[$field] $mine[$field]
            }
        }
    }
    if ($check) { continue }

    if ($update.Count -gt 0 -or [int]$job.start_step_id -ne 1) {
        $p = @{ '@id' = $jobId; '@d' = $entry.description; '@c' = $entry.category; '@e' = [int]$entry.enabled; '@o' = $afterOwner }
        $sets = @('@description = @d', '@category_name = @c', '@enabled = @e', '@owner_login_name = @o')
        [void](Invoke-Sql "EXEC dbo.sp_update_job @job_id = @id, $($sets -join ', ')" $p)
    }
    foreach ($extra in $extraSteps) {
        [void](Invoke-Sql 'EXEC dbo.sp_delete_jobstep @job_id = @id, @step_id = @s' @{ '@id' = $jobId; '@s' = $extra.id })
    }
    if (-not $first) { Add-JobStep $name $step }
    elseif ($stepUpdate.Count -gt 0) {
        [void](Invoke-Sql ('EXEC dbo.sp_update_jobstep @job_id = @id, @step_id = 1, @step_name = @n, @subsystem = N''TSQL'', ' +
                '@database_name = @d, @command = @c, @on_success_action = @ok, @on_fail_action = @ko') @{
                '@id' = $jobId; '@n' = $step.name; '@d' = $step.database_name; '@c' = $step.command
                '@ok' = $actionCodes[$step.on_success_action]; '@ko' = $actionCodes[$step.on_fail_action]
            })
    }
    if ([int]$job.start_step_id -ne 1) {
        [void](Invoke-Sql 'EXEC dbo.sp_update_job @job_id = @id, @start_step_id = 1' @{ '@id' = $jobId })
    }
    foreach ($extra in $extraSchedules) {
        [void](Invoke-Sql 'EXEC dbo.sp_detach_schedule @job_id = @id, @schedule_id = @s, @delete_unused_schedule = 1' @{
                '@id' = $jobId; '@s' = $extra.schedule_id
            })
    }
    if (-not $mine) { Add-JobSchedule $name $schedName $sched }
    elseif ($differs.Count -gt 0) {
        if ($mine.job_count -gt 1) {
            # shared with another job: never edited; this job gets its own
            [void](Invoke-Sql 'EXEC dbo.sp_detach_schedule @job_id = @id, @schedule_id = @s, @delete_unused_schedule = 0' @{
                    '@id' = $jobId; '@s' = $mine.schedule_id
                })
            Add-JobSchedule $name $schedName $sched
        }
        else {
            $p = Get-ScheduleParameters $sched
            $p['@s'] = $mine.schedule_id
            $p['@n'] = $schedName
            [void](Invoke-Sql "EXEC dbo.sp_update_schedule @schedule_id = @s, @new_name = @n, $scheduleArgs" $p)
        }
    }
}
$connection.Close()

$module.Result.changed = $drift.Count -gt 0
$module.Result.mcms_drift = $drift
$module.Result.mcms_drift_checked = $checked
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()

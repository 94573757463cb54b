#!powershell
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Windows logins, their database users and exactly their database roles in one
# PowerShell start. Documentation: sql_principals.py.

$spec = @{
    options = @{
        sql_instance = @{ type = 'str'; required = $true }
        logins = @{
            type = 'list'
            elements = 'dict'
            default = @()
            options = @{
                name = @{ type = 'str'; required = $true }
                database = @{ type = 'str'; required = $true }
                roles = @{ type = 'list'; elements = 'str'; default = @('db_datareader', 'db_datawriter') }
            }
        }
        remove = @{ type = 'list'; elements = 'str'; default = @() }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$check = $module.CheckMode

$connection = New-Object System.Data.SqlClient.SqlConnection(
    "Server=$($module.Params.sql_instance);Database=master;Integrated Security=SSPI;Application Name=mcms.infra")
try { $connection.Open() }
catch { $module.FailJson("Error connecting to [$($module.Params.sql_instance)]: $($_.Exception.InnerException.Message)", $_) }

function Invoke-Sql([string]$Database, [string]$Query, [hashtable]$Parameters = @{}) {
    $connection.ChangeDatabase($Database)
    $cmd = $connection.CreateCommand()
    $cmd.CommandText = $Query
    foreach ($k in $Parameters.Keys) { [void]$cmd.Parameters.AddWithValue($k, $Parameters[$k]) }
    $table = New-Object System.Data.DataTable
    try { $table.Load($cmd.ExecuteReader()) }
    catch { $module.FailJson("$($_.Exception.InnerException.Message)", $_) }
    , $table
}
function Get-Quoted([string]$Name) { '[' + $Name.Replace(']', ']]') + ']' }

$drift = [System.Collections.Generic.List[object]]@()
$pending = [System.Collections.Generic.List[string]]@()
$before = @{}
$after = @{}
$databases = @((Invoke-Sql 'master' 'SELECT name FROM sys.databases WHERE state_desc = ''ONLINE''').name)

# 1. Every login to create must be a Windows name SQL Server finds (15401), before any change.
$logins = @{}
foreach ($row in (Invoke-Sql 'master' "SELECT name, is_disabled FROM sys.server_principals WHERE type IN ('U', 'G')")) {
    $logins[$row.name.ToLowerInvariant()] = $row
}
foreach ($l in $module.Params.logins) {
    if (-not $logins.ContainsKey($l.name.ToLowerInvariant())) {
        $sid = (Invoke-Sql 'master' 'SELECT SUSER_SID(@n) AS sid' @{ '@n' = $l.name }).sid
        if ($sid -is [System.DBNull]) {
            $module.FailJson("Windows NT user or group '$($l.name)' not found. Check the name again.")
        }
    }
}

# ... and every role listed must exist in its database (a misspelt role fails before any login is created).
$dbRoles = @{}
foreach ($l in $module.Params.logins) {
    if ($l.database -notin $databases) { continue }
    if (-not $dbRoles.ContainsKey($l.database)) {
        $dbRoles[$l.database] = @((Invoke-Sql $l.database "SELECT name FROM sys.database_principals WHERE type = 'R'").name)
    }
    foreach ($r in $l.roles) {
        if ($r -notin $dbRoles[$l.database]) { $module.FailJson("Role [$r] does not exist in database [$($l.database)].") }
    }
}

# 2. Logins, users, roles.
foreach ($l in $module.Params.logins) {
    $key = $l.name.ToLowerInvariant()
    $q = Get-Quoted $l.name
    $wantedRoles = @($l.roles | Sort-Object -Unique)
    $before[$l.name] = @{ login = $logins.ContainsKey($key); server_roles = @(); database = $l.database; roles = @() }
    $after[$l.name] = @{ login = $true; server_roles = @(); database = $l.database; roles = $wantedRoles }
    if (-not $logins.ContainsKey($key)) {
        $drift.Add(@{ resource_type = 'sql_login'; resource = $l.name; attribute = 'exists'; wanted = $true; found = $false })
        if (-not $check) { [void](Invoke-Sql 'master' "CREATE LOGIN $q FROM WINDOWS WITH DEFAULT_DATABASE = [master]") }
    }
    else {
        if ($logins[$key].is_disabled) {
            $drift.Add(@{ resource_type = 'sql_login'; resource = $l.name; attribute = 'enabled'; wanted = $true; found = $false })
            if (-not $check) { [void](Invoke-Sql 'master' "ALTER LOGIN $q ENABLE") }
        }
        $serverRoles = @((Invoke-Sql 'master' @'
SELECT r.name FROM sys.server_role_members m JOIN sys.server_principals r ON r.principal_id = m.role_principal_id
JOIN sys.server_principals p ON p.principal_id = m.member_principal_id WHERE p.name = @n
'@ @{ '@n' = $l.name }).name | Where-Object { $_ })
        $before[$l.name].server_roles = $serverRoles
        foreach ($r in $serverRoles) {
            $drift.Add(@{ resource_type = 'sql_role_member'; resource = "server:$r"; attribute = $l.name; wanted = 'absent'; found = 'member' })
            if (-not $check) { [void](Invoke-Sql 'master' "ALTER SERVER ROLE $(Get-Quoted $r) DROP MEMBER $q") }
        }
    }
    if ($l.database -notin $databases) {
        $pending.Add($l.name)
        $module.Warn("database $($l.database) does not exist yet on $($module.Params.sql_instance): user $($l.name) is pending (created by the next run)")
        continue
    }
    $user = Invoke-Sql $l.database 'SELECT dp.name, sp.name AS login FROM sys.database_principals dp LEFT JOIN sys.server_principals sp ON sp.sid = dp.sid WHERE dp.name = @n' @{ '@n' = $l.name }
    $held = @()
    if ($user.Rows.Count -eq 0) {
        $drift.Add(@{ resource_type = 'sql_user'; resource = "$($l.database):$($l.name)"; attribute = 'exists'; wanted = $true; found = $false })
        if (-not $check) { [void](Invoke-Sql $l.database "CREATE USER $q FOR LOGIN $q WITH DEFAULT_SCHEMA = [dbo]") }
    }
    else {
        $held = @((Invoke-Sql $l.database @'
SELECT r.name FROM sys.database_role_members m JOIN sys.database_principals r ON r.principal_id = m.role_principal_id
JOIN sys.database_principals u ON u.principal_id = m.member_principal_id WHERE u.name = @n
'@ @{ '@n' = $l.name }).name | Where-Object { $_ } | Sort-Object)
    }
    $before[$l.name].roles = $held
    foreach ($r in $wantedRoles) {
        if ($r -in $held) { continue }
        $drift.Add(@{ resource_type = 'sql_role_member'; resource = "$($l.database):$r"; attribute = $l.name; wanted = 'member'; found = 'absent' })
        if (-not $check) { [void](Invoke-Sql $l.database "ALTER ROLE $(Get-Quoted $r) ADD MEMBER $q") }
    }
    foreach ($r in $held) {
        if ($r -in $wantedRoles) { continue }
        $drift.Add(@{ resource_type = 'sql_role_member'; resource = "$($l.database):$r"; attribute = $l.name; wanted = 'absent'; found = 'member' })
        if (-not $check) { [void](Invoke-Sql $l.database "ALTER ROLE $(Get-Quoted $r) DROP MEMBER $q") }
    }
}

# 3. Prune: users in every user database, then the login.
foreach ($name in $module.Params.remove) {
    if (-not $logins.ContainsKey($name.ToLowerInvariant())) { continue }
    $q = Get-Quoted $name
    foreach ($db in $databases | Where-Object { $_ -notin 'master', 'tempdb', 'model', 'msdb' }) {
        $n = (Invoke-Sql $db 'SELECT COUNT(*) AS n FROM sys.database_principals WHERE name = @n' @{ '@n' = $name }).n
        if ($n) {
            $drift.Add(@{ resource_type = 'sql_user'; resource = "${db}:$name"; attribute = 'exists'; wanted = $false; found = $true })
            if (-not $check) { [void](Invoke-Sql $db "DROP USER $q") }
        }
    }
    $drift.Add(@{ resource_type = 'sql_login'; resource = $name; attribute = 'exists'; wanted = $false; found = $true })
    if (-not $check) { [void](Invoke-Sql 'master' "DROP LOGIN $q") }
}
$connection.Close()

$module.Result.changed = $drift.Count -gt 0
$module.Result.pending = $pending
$module.Result.mcms_drift = $drift
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()

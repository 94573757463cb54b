#!powershell
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Exactly the declared allow rules on one folder, inheritance disabled, in one
# PowerShell start. Documentation: win_folder_acl.py; design: docs/decisions.md section 21.

$spec = @{
    options = @{
        path = @{ type = 'path'; required = $true }
        rules = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                identity = @{ type = 'str'; required = $true }
                rights = @{ type = 'str'; required = $true }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$path = $module.Params.path
if (-not (Test-Path -LiteralPath $path -PathType Container)) { $module.FailJson("$path is not an existing folder") }

$inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
$none = [System.Security.AccessControl.PropagationFlags]::None
$allow = [System.Security.AccessControl.AccessControlType]::Allow

# 1. Every account to a SID and every right to a rule before anything changes.
$wanted = [ordered]@{}
foreach ($r in $module.Params.rules) {
    try { $sid = ([System.Security.Principal.NTAccount]$r.identity).Translate([System.Security.Principal.SecurityIdentifier]) }
    catch { $module.FailJson("$($r.identity) is not a valid account, cannot get SID: $($_.Exception.Message)", $_) }
    try { $rights = [System.Security.AccessControl.FileSystemRights]$r.rights }
    catch { $module.FailJson("rules: '$($r.rights)' of $($r.identity) is not a FileSystemRights value", $_) }
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($sid, $rights, $inherit, $none, $allow)
    $wanted[$sid.Value] = @{ identity = $r.identity; rule = $rule; rights = $rule.FileSystemRights.ToString() }
}

$acl = Get-Acl -LiteralPath $path
$explicit = @($acl.GetAccessRules($true, $false, [System.Security.Principal.SecurityIdentifier]))
$drift = [System.Collections.Generic.List[object]]@()
function Get-Name($Sid) {
    try { $Sid.Translate([System.Security.Principal.NTAccount]).Value } catch { $Sid.Value }
}
$before = @{ inheritance = if ($acl.AreAccessRulesProtected) { 'disabled' } else { 'enabled' }; rules = @{} }
foreach ($ace in $explicit) {
    $name = Get-Name $ace.IdentityReference
    $before.rules[$name] = "$($ace.FileSystemRights) ($($ace.AccessControlType); $($ace.InheritanceFlags); $($ace.PropagationFlags))"
}
$after = @{ inheritance = 'disabled'; rules = @{} }
foreach ($w in $wanted.Values) { $after.rules[$w.identity] = "$($w.rights) (Allow; $inherit; $none)" }

if (-not $acl.AreAccessRulesProtected) {
    $drift.Add(@{ resource_type = 'folder_acl'; resource = $path; attribute = 'inheritance'; wanted = 'disabled'; found = 'enabled' })
}
$keep = @{}
$seen = @{}
foreach ($ace in $explicit) {
    $sid = $ace.IdentityReference.Value
    $w = $wanted[$sid]
    $same = $w -and $ace.AccessControlType -eq $allow -and $ace.InheritanceFlags -eq $inherit -and
    $ace.PropagationFlags -eq $none -and $ace.FileSystemRights -eq $w.rule.FileSystemRights -and -not $keep[$sid]
    if ($same) { $keep[$sid] = $true; continue }
    $name = if ($w) { $w.identity } else { Get-Name $ace.IdentityReference }
    $found = "$($ace.FileSystemRights) ($($ace.AccessControlType))"
    if ($w -and -not $seen[$sid]) {
        $seen[$sid] = $true
        $drift.Add(@{ resource_type = 'folder_acl'; resource = $path; attribute = "rule $name"; wanted = $w.rights; found = $found })
    }
    else {
        $drift.Add(@{ resource_type = 'folder_acl'; resource = $path; attribute = "rule $name"; wanted = 'absent'; found = $found })
    }
}
foreach ($sid in $wanted.Keys) {
    if ($keep[$sid] -or $seen[$sid]) { continue }
    $drift.Add(@{ resource_type = 'folder_acl'; resource = $path; attribute = "rule $($wanted[$sid].identity)"
            wanted = $wanted[$sid].rights; found = 'absent' })
}

if ($drift.Count -gt 0 -and -not $module.CheckMode) {
    # the declared rules first, then protection without copying: the folder never loses the service's access
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($ace in $explicit) { [void]$acl.RemoveAccessRuleSpecific($ace) }
    foreach ($w in $wanted.Values) { $acl.AddAccessRule($w.rule) }
    try { Set-Acl -LiteralPath $path -AclObject $acl }
    catch { $module.FailJson("cannot set the access rules of ${path}: $($_.Exception.Message)", $_) }
}

$module.Result.changed = $drift.Count -gt 0
$module.Result.mcms_drift = $drift
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()

#!powershell
# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# User rights (LSA) and folder access of several accounts, exactly as declared,
# in one PowerShell start. Documentation: win_account_grants.py.

$spec = @{
    options = @{
        accounts = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                name = @{ type = 'str'; required = $true }
                rights = @{ type = 'list'; elements = 'str'; default = @() }
                folders = @{
                    type = 'list'
                    elements = 'dict'
                    default = @()
                    options = @{
                        path = @{ type = 'path'; required = $true }
                        rights = @{ type = 'str'; required = $true }
                    }
                }
            }
        }
        remove = @{ type = 'list'; elements = 'str'; default = @() }
        root = @{ type = 'path' }
        create_folders = @{ type = 'bool'; default = $true }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$check = $module.CheckMode

Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Security.Principal;

namespace Mcms.AccountGrants {
    public class Lsa : IDisposable {
        [StructLayout(LayoutKind.Sequential)]
        struct LSA_UNICODE_STRING { public UInt16 Length; public UInt16 MaximumLength; public IntPtr Buffer; }
        [StructLayout(LayoutKind.Sequential)]
        struct LSA_OBJECT_ATTRIBUTES { public int Length; public IntPtr RootDirectory; public IntPtr ObjectName;
            public UInt32 Attributes; public IntPtr SecurityDescriptor; public IntPtr SecurityQualityOfService; }
        [DllImport("advapi32.dll")] static extern UInt32 LsaOpenPolicy(IntPtr SystemName,
            ref LSA_OBJECT_ATTRIBUTES ObjectAttributes, UInt32 DesiredAccess, out IntPtr PolicyHandle);
        [DllImport("advapi32.dll")] static extern UInt32 LsaEnumerateAccountRights(IntPtr PolicyHandle,
            byte[] AccountSid, out IntPtr UserRights, out UInt32 CountOfRights);
        [DllImport("advapi32.dll")] static extern UInt32 LsaAddAccountRights(IntPtr PolicyHandle, byte[] AccountSid,
            LSA_UNICODE_STRING[] UserRights, UInt32 CountOfRights);
        [DllImport("advapi32.dll")] static extern UInt32 LsaRemoveAccountRights(IntPtr PolicyHandle,
            byte[] AccountSid, bool AllRights, LSA_UNICODE_STRING[] UserRights, UInt32 CountOfRights);
        [DllImport("advapi32.dll")] static extern UInt32 LsaFreeMemory(IntPtr Buffer);
        [DllImport("advapi32.dll")] static extern UInt32 LsaClose(IntPtr ObjectHandle);
        [DllImport("advapi32.dll")] static extern Int32 LsaNtStatusToWinError(UInt32 Status);
        const UInt32 STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034;
        IntPtr handle;

        public Lsa() {
            LSA_OBJECT_ATTRIBUTES attrs = new LSA_OBJECT_ATTRIBUTES();
            UInt32 res = LsaOpenPolicy(IntPtr.Zero, ref attrs, 0x00000800 | 0x00000010 | 0x00000001, out handle);
            if (res != 0) throw new System.ComponentModel.Win32Exception(LsaNtStatusToWinError(res));
        }
        static byte[] Bytes(SecurityIdentifier sid) { byte[] b = new byte[sid.BinaryLength]; sid.GetBinaryForm(b, 0); return b; }
        static LSA_UNICODE_STRING[] Names(string[] rights) {
            LSA_UNICODE_STRING[] names = new LSA_UNICODE_STRING[rights.Length];
            for (int i = 0; i < rights.Length; i++) {
                names[i].Buffer = Marshal.StringToHGlobalUni(rights[i]);
                names[i].Length = (UInt16)(rights[i].Length * UnicodeEncoding.CharSize);
                names[i].MaximumLength = (UInt16)(names[i].Length + UnicodeEncoding.CharSize);
            }
            return names;
        }
        public List<string> Rights(SecurityIdentifier sid) {
            List<string> found = new List<string>();
            IntPtr buffer; UInt32 count;
            UInt32 res = LsaEnumerateAccountRights(handle, Bytes(sid), out buffer, out count);
            if (res == STATUS_OBJECT_NAME_NOT_FOUND) return found;
            if (res != 0) throw new System.ComponentModel.Win32Exception(LsaNtStatusToWinError(res));
            try {
                int size = Marshal.SizeOf(typeof(LSA_UNICODE_STRING));
                for (int i = 0; i < count; i++) {
                    LSA_UNICODE_STRING s = (LSA_UNICODE_STRING)Marshal.PtrToStructure(
                        new IntPtr(buffer.ToInt64() + i * size), typeof(LSA_UNICODE_STRING));
                    found.Add(Marshal.PtrToStringUni(s.Buffer, s.Length / 2));
                }
            } finally { LsaFreeMemory(buffer); }
            return found;
        }
        public void Add(SecurityIdentifier sid, string[] rights) {
            UInt32 res = LsaAddAccountRights(handle, Bytes(sid), Names(rights), (UInt32)rights.Length);
            if (res != 0) throw new System.ComponentModel.Win32Exception(LsaNtStatusToWinError(res));
        }
        public void Remove(SecurityIdentifier sid, string[] rights) {
            UInt32 res = LsaRemoveAccountRights(handle, Bytes(sid), false, Names(rights), (UInt32)rights.Length);
            if (res != 0) throw new System.ComponentModel.Win32Exception(LsaNtStatusToWinError(res));
        }
        public void Dispose() { if (handle != IntPtr.Zero) { LsaClose(handle); handle = IntPtr.Zero; } }
    }
}
'@ -ReferencedAssemblies System.ComponentModel.Primitives -ErrorAction SilentlyContinue

# The rights and privileges an LSA policy knows (secpol.msc, ntsecapi.h, winnt.h).
$validRights = @(
    'SeAssignPrimaryTokenPrivilege', 'SeAuditPrivilege', 'SeBackupPrivilege', 'SeBatchLogonRight',
    'SeChangeNotifyPrivilege', 'SeCreateGlobalPrivilege', 'SeCreatePagefilePrivilege', 'SeCreatePermanentPrivilege',
    'SeCreateSymbolicLinkPrivilege', 'SeCreateTokenPrivilege', 'SeDebugPrivilege', 'SeDelegateSessionUserImpersonatePrivilege',
    'SeDenyBatchLogonRight', 'SeDenyInteractiveLogonRight', 'SeDenyNetworkLogonRight',
    'SeDenyRemoteInteractiveLogonRight', 'SeDenyServiceLogonRight', 'SeEnableDelegationPrivilege',
    'SeImpersonatePrivilege', 'SeIncreaseBasePriorityPrivilege', 'SeIncreaseQuotaPrivilege',
    'SeIncreaseWorkingSetPrivilege', 'SeInteractiveLogonRight', 'SeLoadDriverPrivilege', 'SeLockMemoryPrivilege',
    'SeMachineAccountPrivilege', 'SeManageVolumePrivilege', 'SeNetworkLogonRight', 'SeProfileSingleProcessPrivilege',
    'SeRelabelPrivilege', 'SeRemoteInteractiveLogonRight', 'SeRemoteShutdownPrivilege', 'SeRestorePrivilege',
    'SeSecurityPrivilege', 'SeServiceLogonRight', 'SeShutdownPrivilege', 'SeSyncAgentPrivilege',
    'SeSystemEnvironmentPrivilege', 'SeSystemProfilePrivilege', 'SeSystemtimePrivilege', 'SeTakeOwnershipPrivilege',
    'SeTcbPrivilege', 'SeTimeZonePrivilege', 'SeTrustedCredManAccessPrivilege', 'SeUndockPrivilege'
)

function ConvertTo-Sid([string]$Name) {
    try {
        ([System.Security.Principal.NTAccount]$Name).Translate([System.Security.Principal.SecurityIdentifier])
    }
    catch {
        $module.FailJson("Failed to translate the account '$Name' to a SID: $($_.Exception.Message)", $_)
    }
}

$inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
$propagation = [System.Security.AccessControl.PropagationFlags]::None
$allow = [System.Security.AccessControl.AccessControlType]::Allow

# 1. Every name translates and every value parses before anything changes.
$managed = [System.Collections.Generic.List[object]]@()
foreach ($account in $module.Params.accounts) {
    $sid = ConvertTo-Sid $account.name
    foreach ($right in $account.rights) {
        if ($right -notin $validRights) { $module.FailJson("the specified right $right is not a valid right") }
    }
    $folders = @{}
    foreach ($folder in $account.folders) {
        try {
            $mask = [System.Security.AccessControl.FileSystemRights]$folder.rights
        }
        catch {
            $module.FailJson("folder $($folder.path) of $($account.name): $($_.Exception.Message)", $_)
        }
        $folders[$folder.path.TrimEnd('\')] = New-Object System.Security.AccessControl.FileSystemAccessRule(
            $sid, $mask, $inherit, $propagation, $allow)
    }
    $managed.Add(@{ name = $account.name; sid = $sid; rights = @($account.rights | Select-Object -Unique); folders = $folders })
}
foreach ($name in $module.Params.remove) {
    try {
        $sid = ([System.Security.Principal.NTAccount]$name).Translate([System.Security.Principal.SecurityIdentifier])
        $managed.Add(@{ name = $name; sid = $sid; rights = @(); folders = @{} })
    }
    catch {
        $module.Warn("${name}: no longer translates to a SID, nothing left to take back")
    }
}

# The managed tree: parents of a declared folder under root (or root itself)
# are edited; parents above it never are. Without root every parent is managed.
$root = if ($module.Params.root) { $module.Params.root.TrimEnd('\') } else { $null }
function Test-InTree([string]$Path) {
    if (-not $root) { return $true }
    $Path -eq $root -or $Path.StartsWith($root + '\', [System.StringComparison]::OrdinalIgnoreCase)
}
function Test-SameSid($Rule, $Sid) {
    try { $Rule.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]) -eq $Sid } catch { $false }
}

$drift = [System.Collections.Generic.List[object]]@()
$before = @{}
$after = @{}
$rightsAdded = @{}
$rightsRemoved = @{}
$created = [System.Collections.Generic.List[string]]@()
$aclChanged = @{}

# 2. Effective access of each managed account on each declared folder: a rule
# it inherits from a parent above the managed tree (Get-Acl shows it with
# IsInherited) is wider than declared and the module may not edit it there:
# reported in check mode, a failure before any change otherwise.
$outside = [System.Collections.Generic.List[string]]@()
foreach ($m in $managed) {
    $sources = [ordered]@{}
    foreach ($path in @($m.folders.Keys | Sort-Object)) {
        if (-not (Test-Path -LiteralPath ($path + '\') -PathType Container)) { continue }
        $inherited = @((Get-Acl -LiteralPath $path).Access | Where-Object { $_.IsInherited -and (Test-SameSid $_ $m.sid) })
        if (-not $inherited) { continue }
        $p = $path
        while ($true) {
            $parent = Split-Path -Path $p -Parent
            if (-not $parent -or $parent -eq $p) { break }
            $p = $parent.TrimEnd('\')
            $rules = @((Get-Acl -LiteralPath ($p + '\')).Access | Where-Object {
                    -not $_.IsInherited -and (Test-SameSid $_ $m.sid) -and
                    (($_.InheritanceFlags -band [System.Security.AccessControl.InheritanceFlags]::ContainerInherit) -ne 0) })
            if (-not $rules) { continue }
            if (-not (Test-InTree $p)) {
                if (-not $sources.Contains($p)) { $sources[$p] = @{ rules = $rules; folders = [System.Collections.Generic.List[string]]@() } }
                $sources[$p].folders.Add($path)
            }
        }
    }
    foreach ($p in $sources.Keys) {
        $found = @($sources[$p].rules | ForEach-Object { "$($_.AccessControlType):$($_.FileSystemRights)" }) -join ', '
        $drift.Add(@{ resource_type = 'folder_acl'; resource = $p; attribute = $m.name; wanted = $null; found = $found })
        $outside.Add("$p gives $($m.name) $found, inherited by $($sources[$p].folders -join ', ')")
    }
}
if ($outside.Count -gt 0) {
    $msg = "folder access wider than declared, set above the managed tree $root (remove it there): $($outside -join '; ')"
    if (-not $check) { $module.FailJson($msg) }
    $module.Warn($msg)
}

# 3. User rights: exactly the declared set per account.
$lsa = New-Object Mcms.AccountGrants.Lsa
try {
    foreach ($m in $managed) {
        $held = @($lsa.Rights($m.sid) | Sort-Object)
        $add = @($m.rights | Where-Object { $_ -notin $held })
        $drop = @($held | Where-Object { $_ -notin $m.rights })
        $before[$m.name] = @{ rights = $held; folders = @{} }
        $after[$m.name] = @{ rights = @($m.rights | Sort-Object); folders = @{} }
        foreach ($r in $add) {
            $drift.Add(@{ resource_type = 'user_right'; resource = $r; attribute = $m.name; wanted = 'granted'; found = 'absent' })
        }
        foreach ($r in $drop) {
            $drift.Add(@{ resource_type = 'user_right'; resource = $r; attribute = $m.name; wanted = 'absent'; found = 'granted' })
        }
        if ($add) { $rightsAdded[$m.name] = $add; if (-not $check) { $lsa.Add($m.sid, [string[]]$add) } }
        if ($drop) { $rightsRemoved[$m.name] = $drop; if (-not $check) { $lsa.Remove($m.sid, [string[]]$drop) } }
    }
}
finally {
    $lsa.Dispose()
}

# 4. Folders: the declared ones and every parent in the managed tree, exact explicit rules per managed account.
$scope = [ordered]@{}
foreach ($m in $managed) {
    foreach ($path in $m.folders.Keys) {
        $p = $path
        while ($p) {
            if (-not $scope.Contains($p) -and (Test-InTree $p)) { $scope[$p] = $false }
            $parent = Split-Path -Path $p -Parent
            if (-not $parent -or $parent -eq $p) { break }
            $p = $parent.TrimEnd('\')
        }
        $scope[$path] = $true
    }
}
foreach ($path in @($scope.Keys | Sort-Object { $_.Length })) {
    $exists = Test-Path -LiteralPath ($path + '\') -PathType Container
    if (-not $exists) {
        if (-not $scope[$path]) { continue }   # a parent a missing folder will inherit from: created below
        if (-not $module.Params.create_folders) { $module.FailJson("folder $path does not exist (create_folders is off)") }
        $drift.Add(@{ resource_type = 'folder'; resource = $path; attribute = 'exists'; wanted = $true; found = $false })
        $created.Add($path)
        if ($check) {
            foreach ($m in $managed) {
                if ($m.folders.ContainsKey($path)) {
                    $after[$m.name].folders[$path] = $m.folders[$path].FileSystemRights.ToString()
                    $drift.Add(@{ resource_type = 'folder_acl'; resource = $path; attribute = $m.name
                        wanted = $m.folders[$path].FileSystemRights.ToString(); found = $null })
                }
            }
            continue
        }
        New-Item -Path $path -ItemType Directory -Force | Out-Null
    }
    $acl = Get-Acl -LiteralPath $path
    $dirty = $false
    foreach ($m in $managed) {
        $explicit = @($acl.Access | Where-Object {
                -not $_.IsInherited -and $_.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]) -eq $m.sid })
        $wanted = $m.folders[$path]
        $found = @($explicit | ForEach-Object { "$($_.AccessControlType):$($_.FileSystemRights)" })
        $ok = if ($wanted) {
            $explicit.Count -eq 1 -and $explicit[0].AccessControlType -eq $allow -and
            $explicit[0].FileSystemRights -eq $wanted.FileSystemRights -and
            $explicit[0].InheritanceFlags -eq $inherit -and $explicit[0].PropagationFlags -eq $propagation
        }
        else { $explicit.Count -eq 0 }
        if ($found) { $before[$m.name].folders[$path] = $found -join ', ' }
        if ($wanted) { $after[$m.name].folders[$path] = $wanted.FileSystemRights.ToString() }
        if ($ok) { continue }
        $drift.Add(@{ resource_type = 'folder_acl'; resource = $path; attribute = $m.name
            wanted = if ($wanted) { $wanted.FileSystemRights.ToString() } else { $null }; found = $found -join ', ' })
        if (-not $aclChanged.ContainsKey($path)) { $aclChanged[$path] = [System.Collections.Generic.List[string]]@() }
        $aclChanged[$path].Add($m.name)
        $acl.PurgeAccessRules($m.sid)
        if ($wanted) { $acl.AddAccessRule($wanted) }
        $dirty = $true
    }
    if ($dirty -and -not $check) { Set-Acl -LiteralPath $path -AclObject $acl }
}

$module.Result.changed = $drift.Count -gt 0
$module.Result.rights_added = $rightsAdded
$module.Result.rights_removed = $rightsRemoved
$module.Result.folders_created = $created
$module.Result.acl_changed = $aclChanged
$module.Result.mcms_drift = $drift
$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()

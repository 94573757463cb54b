#!powershell

# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Reads, in one round trip, what the app role needs to decide a deploy: the
# IIS application's physical path and the version loaded from there, the
# releases on disk, the SHA-256 of the wanted release's files, the shared
# folders and the Worker service. Changes nothing (check mode is the same run).

$spec = @{
    options = @{
        app_root = @{ type = "path"; required = $true }
        site = @{ type = "str"; required = $true }
        application = @{ type = "str"; required = $true }
        version = @{ type = "str"; required = $true }
        files = @{ type = "dict"; default = @{} }
        shared_dirs = @{ type = "list"; elements = "str"; default = @() }
        worker_service = @{ type = "str"; default = "" }
        worker_account = @{ type = "str"; default = "" }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Security.Principal;
namespace Mcms.AppRelease {
    public static class Lsa {
        [StructLayout(LayoutKind.Sequential)] struct LSA_OBJECT_ATTRIBUTES {
            public int Length; public IntPtr RootDirectory; public IntPtr ObjectName; public int Attributes;
            public IntPtr SecurityDescriptor; public IntPtr SecurityQualityOfService; }
        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)] struct LSA_UNICODE_STRING {
            public UInt16 Length; public UInt16 MaximumLength; public IntPtr Buffer; }
        [DllImport("advapi32.dll")] static extern UInt32 LsaOpenPolicy(IntPtr SystemName,
            ref LSA_OBJECT_ATTRIBUTES ObjectAttributes, Int32 DesiredAccess, out IntPtr PolicyHandle);
        [DllImport("advapi32.dll")] static extern UInt32 LsaEnumerateAccountsWithUserRight(IntPtr PolicyHandle,
            ref LSA_UNICODE_STRING UserRight, out IntPtr Buffer, out UInt32 CountReturned);
        [DllImport("advapi32.dll")] static extern UInt32 LsaFreeMemory(IntPtr Buffer);
        [DllImport("advapi32.dll")] static extern UInt32 LsaClose(IntPtr ObjectHandle);
        [DllImport("advapi32.dll")] static extern Int32 LsaNtStatusToWinError(UInt32 Status);
        // The SIDs holding a user right on this host (LsaEnumerateAccountsWithUserRight).
        public static List<string> Holders(string right) {
            List<string> sids = new List<string>();
            LSA_OBJECT_ATTRIBUTES attrs = new LSA_OBJECT_ATTRIBUTES();
            IntPtr handle;
            UInt32 res = LsaOpenPolicy(IntPtr.Zero, ref attrs, 0x00000800 | 0x00000010, out handle);
            if (res != 0) throw new System.ComponentModel.Win32Exception(LsaNtStatusToWinError(res));
            try {
                LSA_UNICODE_STRING name = new LSA_UNICODE_STRING();
                name.Buffer = Marshal.StringToHGlobalUni(right);
                name.Length = (UInt16)(right.Length * 2); name.MaximumLength = (UInt16)(right.Length * 2 + 2);
                IntPtr buffer; UInt32 count;
                res = LsaEnumerateAccountsWithUserRight(handle, ref name, out buffer, out count);
                Marshal.FreeHGlobal(name.Buffer);
                if (res == 0xC000011A) return sids;  // STATUS_NO_MORE_ENTRIES: nobody holds it
                if (res != 0) throw new System.ComponentModel.Win32Exception(LsaNtStatusToWinError(res));
                try {
                    for (int i = 0; i < count; i++) {
                        IntPtr sid = Marshal.ReadIntPtr(buffer, i * IntPtr.Size);
                        sids.Add(new SecurityIdentifier(sid).Value);
                    }
                } finally { LsaFreeMemory(buffer); }
            } finally { LsaClose(handle); }
            return sids;
        }
    }
}
'@

# Whether the Worker's account may log on as a service here (what the service
# control manager checks before error 1069): $true, $false, or $null when it
# cannot be told (the account does not resolve, or only a group could hold it
# and the account's groups cannot be read).
function Get-ServiceLogonRight([string]$Account) {
    if (-not $Account -or $Account -eq "LocalSystem") { return $true }
    try { $sid = (New-Object System.Security.Principal.NTAccount($Account)).Translate([System.Security.Principal.SecurityIdentifier]).Value }
    catch { return $null }
    # LocalSystem, LocalService, NetworkService and NT SERVICE\* virtual accounts need no right.
    if ($sid -in @("S-1-5-18", "S-1-5-19", "S-1-5-20") -or $sid -like "S-1-5-80-*") { return $true }
    $holders = [Mcms.AppRelease.Lsa]::Holders("SeServiceLogonRight")
    if ($sid -in $holders) { return $true }
    try {
        $upn = $Account
        $groups = (New-Object System.Security.Principal.WindowsIdentity($upn.Split('\')[-1])).Groups | ForEach-Object { $_.Value }
        return [bool](@($groups | Where-Object { $_ -in $holders }).Count)
    } catch { return $null }
}

$root = $module.Params.app_root.TrimEnd('\')
$releasesDir = Join-Path $root "releases"
$version = $module.Params.version
$releaseDir = Join-Path $releasesDir $version

function Get-ReleaseVersion([string]$Path) {
    if (-not $Path) { return $null }
    $file = Join-Path $Path "version.json"
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { return $null }
    try { return [string](Get-Content -LiteralPath $file -Raw | ConvertFrom-Json).version } catch { return $null }
}

# Before the web tier installed IIS (a check-mode run on a fresh host) there
# is nothing to read: say so instead of failing on Import-Module.
if (-not (Get-Module -ListAvailable -Name WebAdministration)) {
    $module.Result.iis_installed = $false
    $module.ExitJson()
}
Import-Module WebAdministration
$module.Result.iis_installed = $true
$appPath = "IIS:\Sites\$($module.Params.site)\$($module.Params.application.Trim('/'))"
$application = @{ exists = $false; physical_path = $null; application_pool = $null }
$app = Get-Item -LiteralPath $appPath -ErrorAction SilentlyContinue
if ($app -and $app.ElementTagName -eq "application") {
    $application = @{
        exists = $true
        physical_path = [Environment]::ExpandEnvironmentVariables($app.physicalPath)
        application_pool = $app.applicationPool
    }
}

$releases = @()
if (Test-Path -LiteralPath $releasesDir -PathType Container) {
    $releases = @(Get-ChildItem -LiteralPath $releasesDir -Directory | ForEach-Object { $_.Name } | Sort-Object)
}

$missing = [System.Collections.Generic.List[string]]@()
$mismatched = [System.Collections.Generic.List[string]]@()
$found = @{}
foreach ($entry in $module.Params.files.GetEnumerator()) {
    $file = Join-Path $releaseDir $entry.Key
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { $missing.Add($entry.Key); continue }
    $hash = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($hash -ne ([string]$entry.Value).ToLowerInvariant()) { $mismatched.Add($entry.Key); $found[$entry.Key] = $hash }
}

$sharedMissing = @($module.Params.shared_dirs | Where-Object { -not (Test-Path -LiteralPath $_ -PathType Container) })

$worker = @{ exists = $false; state = $null; path = $null; username = $null }
if ($module.Params.worker_service) {
    $svc = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($module.Params.worker_service)'"
    if ($svc) {
        $worker = @{ exists = $true; state = $svc.State.ToLowerInvariant(); path = $svc.PathName; username = $svc.StartName }
    }
    # The account the Worker is to run as; by default the one it runs as now.
    $account = if ($module.Params.worker_account) { $module.Params.worker_account } elseif ($svc) { $svc.StartName } else { "" }
    $worker.account = $account
    $worker.logon_right = if ($account) { Get-ServiceLogonRight $account } else { $null }
}

$current = $application.physical_path
$module.Result.application = $application
$module.Result.current_path = $current
$module.Result.current_version = Get-ReleaseVersion $current
$module.Result.releases = $releases
$module.Result.release = @{
    path = $releaseDir
    exists = (Test-Path -LiteralPath $releaseDir -PathType Container)
    missing = @($missing)
    mismatched = @($mismatched)
    found = $found
}
$module.Result.shared_missing = $sharedMissing
$module.Result.worker = $worker

# Drift records are published controller-side by the app role (tasks/drift.yml)
# from this read: the wanted hashes are the role's, the found ones are here.
$module.ExitJson()

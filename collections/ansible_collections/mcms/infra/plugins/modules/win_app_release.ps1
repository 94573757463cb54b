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
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

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
foreach ($entry in $module.Params.files.GetEnumerator()) {
    $file = Join-Path $releaseDir $entry.Key
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { $missing.Add($entry.Key); continue }
    $hash = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($hash -ne ([string]$entry.Value).ToLowerInvariant()) { $mismatched.Add($entry.Key) }
}

$sharedMissing = @($module.Params.shared_dirs | Where-Object { -not (Test-Path -LiteralPath $_ -PathType Container) })

$worker = @{ exists = $false; state = $null; path = $null; username = $null }
if ($module.Params.worker_service) {
    $svc = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($module.Params.worker_service)'"
    if ($svc) {
        $worker = @{ exists = $true; state = $svc.State.ToLowerInvariant(); path = $svc.PathName; username = $svc.StartName }
    }
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
}
$module.Result.shared_missing = $sharedMissing
$module.Result.worker = $worker

$drift = [System.Collections.Generic.List[object]]@()
if ($current -ne $releaseDir) {
    $drift.Add(@{ resource_type = "iis_application"; resource = "$($module.Params.site)/$($module.Params.application)"; attribute = "physical_path"; wanted = $releaseDir; found = $current })
}
foreach ($name in @($missing) + @($mismatched)) {
    $drift.Add(@{ resource_type = "file"; resource = (Join-Path $releaseDir $name); attribute = "sha256"; wanted = "********"; found = "********" })
}
$module.Result.mcms_drift = @($drift)
$module.ExitJson()

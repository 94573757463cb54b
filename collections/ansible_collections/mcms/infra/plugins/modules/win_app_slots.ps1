#!powershell

# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Reads, in one round trip, what the app role's blue/green strategy decides
# from: the two slot sites (state, bindings, pool and its state, the
# application's physical path and the version loaded from there), the front
# site's URL Rewrite rule (its target, hence the active slot), whether ARR's
# proxy is enabled, and whether URL Rewrite and ARR are installed (Uninstall
# keys of their product codes). Changes nothing (check mode is the same run).

$spec = @{
    options = @{
        front_site = @{ type = "str"; required = $true }
        rule_name = @{ type = "str"; required = $true }
        application = @{ type = "str"; required = $true }
        slots = @{ type = "list"; elements = "dict"; required = $true }
        wanted_version = @{ type = "str"; default = "" }
        product_ids = @{ type = "list"; elements = "str"; default = @() }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$products = @{}
foreach ($id in $module.Params.product_ids) {
    $found = $false
    foreach ($view in @("HKLM:\SOFTWARE", "HKLM:\SOFTWARE\WOW6432Node")) {
        if (Test-Path -LiteralPath "$view\Microsoft\Windows\CurrentVersion\Uninstall\$id") { $found = $true }
    }
    $products[$id] = $found
}
$module.Result.products = $products

if (-not (Get-Module -ListAvailable -Name WebAdministration)) {
    $module.Result.iis_installed = $false
    $module.ExitJson()
}
Import-Module WebAdministration
$module.Result.iis_installed = $true

function Get-ReleaseVersion([string]$Path) {
    if (-not $Path) { return $null }
    $file = Join-Path $Path "version.json"
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { return $null }
    try { return [string](Get-Content -LiteralPath $file -Raw | ConvertFrom-Json).version } catch { return $null }
}

$apphost = "MACHINE/WEBROOT/APPHOST"
$proxy = @{ present = $false; enabled = $false }
try {
    $section = Get-WebConfiguration -PSPath $apphost -Filter "system.webServer/proxy" -ErrorAction Stop
    if ($section) { $proxy = @{ present = $true; enabled = [bool]$section.enabled } }
} catch { }
$module.Result.proxy = $proxy

$front = @{ site_exists = $false; rule_exists = $false; target = $null; active_slot = $null }
if (Get-Item -LiteralPath "IIS:\Sites\$($module.Params.front_site)" -ErrorAction SilentlyContinue) {
    $front.site_exists = $true
    try {
        $rule = Get-WebConfiguration -PSPath "$apphost/$($module.Params.front_site)" -ErrorAction Stop `
            -Filter "system.webServer/rewrite/rules/rule[@name='$($module.Params.rule_name)']"
        if ($rule) {
            $front.rule_exists = $true
            $front.target = [string]$rule.action.url
        }
    } catch { }
}

$slots = @{}
foreach ($slot in $module.Params.slots) {
    $info = @{ site_exists = $false; site_state = $null; bindings = @(); pool_exists = $false; pool_state = $null
        application_exists = $false; physical_path = $null; application_pool = $null; version = $null; port = [int]$slot.port }
    $site = Get-Item -LiteralPath "IIS:\Sites\$($slot.site)" -ErrorAction SilentlyContinue
    if ($site) {
        $info.site_exists = $true
        $info.site_state = [string]$site.State
        $info.bindings = @($site.Bindings.Collection | ForEach-Object { "$($_.protocol)/$($_.bindingInformation)" })
        $app = Get-Item -LiteralPath "IIS:\Sites\$($slot.site)\$($module.Params.application.Trim('/'))" -ErrorAction SilentlyContinue
        if ($app -and $app.ElementTagName -eq "application") {
            $info.application_exists = $true
            $info.physical_path = [Environment]::ExpandEnvironmentVariables($app.physicalPath)
            $info.application_pool = $app.applicationPool
            $info.version = Get-ReleaseVersion $info.physical_path
        }
    }
    $pool = Get-Item -LiteralPath "IIS:\AppPools\$($slot.pool)" -ErrorAction SilentlyContinue
    if ($pool) {
        $info.pool_exists = $true
        $info.pool_state = [string]$pool.State
    }
    if ($front.target -and $front.target -match "^https?://[^/]+:$($slot.port)/") { $front.active_slot = $slot.name }
    $slots[$slot.name] = $info
}
$module.Result.front = $front
$module.Result.slots = $slots

# The slot that should serve: the one whose application points at the wanted
# release (none before the first blue/green deploy of that version).
$drift = [System.Collections.Generic.List[object]]@()
if ($module.Params.wanted_version) {
    $wanted = $null
    foreach ($slot in $module.Params.slots) {
        if ($slots[$slot.name].version -eq $module.Params.wanted_version) { $wanted = $slot.name }
    }
    if ($wanted -ne $front.active_slot) {
        $drift.Add(@{ resource_type = "iis_rewrite_rule"; resource = "$($module.Params.front_site)/$($module.Params.rule_name)"
            attribute = "active_slot"; wanted = $(if ($wanted) { $wanted } else { "a slot serving $($module.Params.wanted_version)" })
            found = $front.active_slot })
    }
}
$module.Result.mcms_drift = @($drift)
$module.ExitJson()

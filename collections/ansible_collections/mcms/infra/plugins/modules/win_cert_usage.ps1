#!powershell

# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Which certificates this host serves with, whoever configured them: http.sys
# keeps its SSL bindings (IIS https bindings, netsh http add sslcert, any
# self-hosted service) under HTTP\Parameters; the WinRM HTTPS listeners name
# their certificate in the WSMan configuration. In the same round trip: which
# of the given CA thumbprints LocalMachine\Root holds, and the sweep of the
# temporary key files an interrupted run of the tls role left behind (the only
# change this module makes; check mode reports it without removing anything).

$spec = @{
    options = @{
        root_thumbprints = @{ type = 'list'; elements = 'str'; default = @() }
        sweep_directory = @{ type = 'path' }
        sweep_patterns = @{ type = 'list'; elements = 'str'; default = @() }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false
$module.Result.mcms_drift = @()

# IIS writes its http.sys SSL bindings with this application ID
$iisAppId = '{4dc3e181-e14b-4a21-b022-59fc669b0914}'

$httpKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\HTTP\Parameters'
$sslBindings = [System.Collections.Generic.List[Hashtable]]@()
foreach ($kind in @(
        @{ key = 'SslBindingInfo'; name = 'ipport' },
        @{ key = 'SslSniBindingInfo'; name = 'sni' },
        @{ key = 'SslCcsBindingInfo'; name = 'ccs' })) {
    $path = Join-Path -Path $httpKey -ChildPath $kind.key
    if (-not (Test-Path -LiteralPath $path)) {
        continue
    }
    foreach ($entry in Get-ChildItem -LiteralPath $path) {
        $props = Get-ItemProperty -LiteralPath $entry.PSPath
        $hash = $props.SslCertHash
        $thumbprint = if ($hash -is [byte[]]) { [System.BitConverter]::ToString($hash).Replace('-', '') } else { '' }
        $appId = if ($props.AppId -is [byte[]]) { ([Guid]::new([byte[]]$props.AppId)).ToString('B') } else { '' }
        $sslBindings.Add(@{
                kind = $kind.name
                endpoint = $entry.PSChildName
                thumbprint = $thumbprint
                store = [string]$props.SslCertStoreName
                app_id = $appId
                iis = ($appId -eq $iisAppId)
            })
    }
}

$listeners = [System.Collections.Generic.List[Hashtable]]@()
try {
    $items = @(Get-ChildItem -Path WSMan:\localhost\Listener -ErrorAction Stop)
    foreach ($item in $items) {
        if ('Transport=HTTPS' -notin $item.Keys) {
            continue
        }
        $values = @{}
        foreach ($child in Get-ChildItem -LiteralPath $item.PSPath) {
            $values[$child.Name] = [string]$child.Value
        }
        $listeners.Add(@{
                address = $values['Address']
                port = $values['Port']
                thumbprint = ([string]$values['CertificateThumbprint']).Replace(' ', '').ToUpperInvariant()
            })
    }
}
catch {
    $module.FailJson("cannot read the WinRM listeners (WSMan:\localhost\Listener): $($_.Exception.Message)", $_)
}

$inUse = @{}
$outsideIis = @{}
foreach ($b in $sslBindings) {
    if ($b.thumbprint) {
        $inUse[$b.thumbprint.ToUpperInvariant()] = $true
        if (-not $b.iis) {
            $outsideIis[$b.thumbprint.ToUpperInvariant()] = $true
        }
    }
}
foreach ($l in $listeners) {
    if ($l.thumbprint) {
        $inUse[$l.thumbprint] = $true
        $outsideIis[$l.thumbprint] = $true
    }
}

$inRoot = [System.Collections.Generic.List[string]]@()
foreach ($wanted in $module.Params.root_thumbprints) {
    $thumb = ($wanted -replace '\s', '').ToUpperInvariant()
    if (Test-Path -LiteralPath "Cert:\LocalMachine\Root\$thumb") {
        $inRoot.Add($thumb)
    }
}

$swept = [System.Collections.Generic.List[string]]@()
$directory = $module.Params.sweep_directory
if ($directory -and $module.Params.sweep_patterns.Count -gt 0 -and (Test-Path -LiteralPath $directory -PathType Container)) {
    foreach ($pattern in $module.Params.sweep_patterns) {
        foreach ($file in Get-ChildItem -LiteralPath $directory -Filter $pattern -File -Force) {
            if (-not $module.CheckMode) {
                Remove-Item -LiteralPath $file.FullName -Force
            }
            $swept.Add($file.FullName)
            $module.Result.mcms_drift += @{
                resource_type = 'file'
                resource = $file.FullName
                attribute = 'state'
                wanted = 'absent'
                found = 'present'
            }
        }
    }
}
if ($swept.Count -gt 0) {
    $module.Result.changed = $true
    $module.Diff.before = @{ leftover_files = @($swept) }
    $module.Diff.after = @{ leftover_files = @() }
}

$module.Result.ssl_bindings = @($sslBindings | Sort-Object -Property { $_.kind }, { $_.endpoint })
$module.Result.winrm_listeners = @($listeners)
$module.Result.in_use = @($inUse.Keys | Sort-Object)
$module.Result.in_use_outside_iis = @($outsideIis.Keys | Sort-Object)
$module.Result.in_root = @($inRoot)
$module.Result.swept_files = @($swept)
$module.ExitJson()

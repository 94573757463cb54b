#!powershell

# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Read-only: which certificates this host serves with, whoever configured them.
# http.sys keeps its SSL bindings (IIS https bindings, netsh http add sslcert,
# any self-hosted service) under HTTP\Parameters; the WinRM HTTPS listeners
# name their certificate in the WSMan configuration.

$spec = @{
    options = @{}
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false
$module.Result.mcms_drift = @()

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
        $sslBindings.Add(@{
                kind = $kind.name
                endpoint = $entry.PSChildName
                thumbprint = $thumbprint
                store = [string]$props.SslCertStoreName
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
foreach ($b in $sslBindings) {
    if ($b.thumbprint) {
        $inUse[$b.thumbprint.ToUpperInvariant()] = $true
    }
}
foreach ($l in $listeners) {
    if ($l.thumbprint) {
        $inUse[$l.thumbprint] = $true
    }
}

$module.Result.ssl_bindings = @($sslBindings | Sort-Object -Property { $_.kind }, { $_.endpoint })
$module.Result.winrm_listeners = @($listeners)
$module.Result.in_use = @($inUse.Keys | Sort-Object)
$module.ExitJson()

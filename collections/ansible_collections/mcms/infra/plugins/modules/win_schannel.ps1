#!powershell

# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Reads only the SCHANNEL values it is given (and the cipher suite order),
# writes only those that differ, and remembers that a reboot is due in a
# marker value compared with the host's last boot time. See win_schannel.py
# for the documentation and docs/decisions.md section 14 for the design.

$spec = @{
    options = @{
        values = @{ type = 'dict'; required = $true }
        cipher_suite_order = @{ type = 'list'; elements = 'str' }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$schannelPath = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL'
$orderPath = 'SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002'
$markerPath = 'SOFTWARE\MCMS\Infra'
$markerName = 'SchannelRebootPending'

$module.Result.changed = $false
$module.Result.reboot_required = $false
$module.Result.reboot_pending = $false
$module.Result.pending_since = $null
$module.Result.mcms_drift = [System.Collections.Generic.List[Object]]@()

Function ConvertTo-Dword {
    param([String]$Where, $Value)
    $number = $null
    if ($Value -is [bool] -or -not [Int64]::TryParse([String]$Value, [ref]$number)) {
        $module.FailJson("values: $Where is '$Value', not a DWORD; give an integer from 0 to 4294967295")
    }
    if ($number -lt 0 -and $number -ge [Int32]::MinValue) {
        $number = $number + 4294967296  # -1 means 0xFFFFFFFF, as reg.exe and the registry API take it
    }
    if ($number -lt 0 -or $number -gt 4294967295) {
        $module.FailJson("values: $Where is '$Value', not a DWORD; give an integer from 0 to 4294967295")
    }
    [UInt32]$number
}

Function Get-RegistryData {
    # The data of one value as Windows holds it: DWORDs as unsigned numbers,
    # anything else as read; $null when the key or the value is missing.
    param([String]$Path, [String]$Name)
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Path, $false)
    if ($null -eq $key) {
        return @{ exists = $false; kind = $null; data = $null }
    }
    try {
        if ($key.GetValueNames() -notcontains $Name) {
            return @{ exists = $false; kind = $null; data = $null }
        }
        $kind = $key.GetValueKind($Name)
        $data = $key.GetValue($Name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        if ($kind -eq [Microsoft.Win32.RegistryValueKind]::DWord) {
            $data = [BitConverter]::ToUInt32([BitConverter]::GetBytes([Int32]$data), 0)
        }
        return @{ exists = $true; kind = $kind.ToString(); data = $data }
    }
    finally {
        $key.Dispose()
    }
}

Function Set-RegistryData {
    param([String]$Path, [String]$Name, $Data, [Microsoft.Win32.RegistryValueKind]$Kind)
    $key = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey($Path)
    try {
        $key.SetValue($Name, $Data, $Kind)
    }
    finally {
        $key.Dispose()
    }
}

# -- read every managed value -------------------------------------------------------
$changes = [System.Collections.Generic.List[Hashtable]]@()
$before = [Ordered]@{}
$after = [Ordered]@{}
foreach ($sub in ($module.Params['values'].Keys | Sort-Object)) {
    $wanted = $module.Params['values'][$sub]
    if ($null -eq $wanted) {
        continue
    }
    if ($wanted -isnot [System.Collections.IDictionary]) {
        $module.FailJson("values: '$sub' must map value names to DWORDs, got '$wanted'")
    }
    if ($sub -match '(^\\)|(\\$)|(\\\\)') {
        $module.FailJson("values: '$sub' is not a key path relative to the SCHANNEL key (no leading, trailing or doubled '\')")
    }
    $path = if ($sub) { "$schannelPath\$sub" } else { $schannelPath }
    $label = "HKLM:\$path"
    foreach ($name in ($wanted.Keys | Sort-Object)) {
        $want = ConvertTo-Dword -Where "'$sub' $name" -Value $wanted[$name]
        $found = Get-RegistryData -Path $path -Name $name
        $same = $found.exists -and $found.kind -eq 'DWord' -and [UInt32]$found.data -eq $want
        if (-not $before.Contains($label)) {
            $before[$label] = [Ordered]@{}
            $after[$label] = [Ordered]@{}
        }
        $before[$label][$name] = $found.data
        $after[$label][$name] = $want
        if (-not $same) {
            $changes.Add(@{ path = $path; name = $name; data = [BitConverter]::ToInt32([BitConverter]::GetBytes($want), 0);
                    kind = [Microsoft.Win32.RegistryValueKind]::DWord })
            $module.Result.mcms_drift.Add(@{ resource_type = 'schannel'; resource = $label; attribute = $name;
                    wanted = $want; found = $found.data })
        }
    }
}

if ($null -ne $module.Params.cipher_suite_order) {
    $suites = @($module.Params.cipher_suite_order | Where-Object { $_ })
    if ($suites.Count -eq 0) {
        $module.FailJson("cipher_suite_order: an empty list would disable every cipher suite; omit the option to leave the order alone")
    }
    $want = $suites -join ','
    $found = Get-RegistryData -Path $orderPath -Name 'Functions'
    $label = "HKLM:\$orderPath"
    $before[$label] = [Ordered]@{ Functions = $found.data }
    $after[$label] = [Ordered]@{ Functions = $want }
    if (-not ($found.exists -and $found.kind -eq 'String' -and $found.data -ceq $want)) {
        $changes.Add(@{ path = $orderPath; name = 'Functions'; data = $want; kind = [Microsoft.Win32.RegistryValueKind]::String })
        $module.Result.mcms_drift.Add(@{ resource_type = 'schannel'; resource = $label; attribute = 'Functions';
                wanted = $want; found = $found.data })
    }
}

# -- write only what differs, the marker first ----------------------------------------
if ($changes.Count -gt 0) {
    $module.Result.changed = $true
    $module.Result.reboot_required = $true
    if (-not $module.CheckMode) {
        # The marker goes first: a run cut short after it leaves at worst one
        # reboot too many, never a change whose reboot nobody remembers.
        Set-RegistryData -Path $markerPath -Name $markerName -Data ([DateTime]::UtcNow.ToString('o')) `
            -Kind ([Microsoft.Win32.RegistryValueKind]::String)
        foreach ($change in $changes) {
            Set-RegistryData -Path $change.path -Name $change.name -Data $change.data -Kind $change.kind
        }
    }
}

# -- is a reboot still due? --------------------------------------------------------------
$lastBoot = (Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToUniversalTime()
$module.Result.last_boot = $lastBoot.ToString('o')
$marker = Get-RegistryData -Path $markerPath -Name $markerName
if ($marker.exists) {
    $since = [DateTime]::MinValue
    $parsed = [DateTime]::TryParse([String]$marker.data, [System.Globalization.CultureInfo]::InvariantCulture,
        [System.Globalization.DateTimeStyles]::RoundtripKind, [ref]$since)
    if ($parsed -and $since.ToUniversalTime() -gt $lastBoot) {
        $module.Result.reboot_pending = $true
        $module.Result.pending_since = $since.ToUniversalTime().ToString('o')
    }
}

$module.Diff.before = $before
$module.Diff.after = $after
$module.ExitJson()

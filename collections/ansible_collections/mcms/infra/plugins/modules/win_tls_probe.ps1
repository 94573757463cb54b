#!powershell

# Copyright: MCMS infrastructure team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# Read-only: opens a TLS connection to a listener of THIS host (the loopback
# address or a binding's own IP), sends server_name as SNI and reports the
# certificate the listener presented, whether its chain is valid against the
# host's trust store (or ends at ca_thumbprint) and whether it matches the
# name. No DNS lookup, no HTTP request: http.sys picks the certificate from
# the SSL binding of (SNI name, port), else (address, port), else
# (0.0.0.0, port), before any request is routed.

$spec = @{
    options = @{
        server_name = @{ type = 'str'; required = $true }
        address = @{ type = 'str'; default = '127.0.0.1' }
        port = @{ type = 'int'; default = 443 }
        ca_thumbprint = @{ type = 'str' }
        timeout = @{ type = 'int'; default = 10 }
    }
    supports_check_mode = $true
}

$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

$serverName = $module.Params.server_name
$address = $module.Params.address
$port = $module.Params.port
$caThumbprint = $module.Params.ca_thumbprint
$timeoutMs = $module.Params.timeout * 1000

$module.Result.changed = $false
$module.Result.server_name = $serverName
$module.Result.address = $address
$module.Result.port = $port
$module.Result.mcms_drift = @()

Function Get-DerLength {
    param([byte[]]$Data, [int]$Offset)
    $first = [int]$Data[$Offset]
    if ($first -lt 0x80) {
        return @($first, 1)
    }
    $count = $first -band 0x7F
    $length = 0
    for ($n = 1; $n -le $count; $n++) {
        $length = ($length * 256) + [int]$Data[$Offset + $n]
    }
    return @($length, (1 + $count))
}

Function Get-SanDnsName {
    # The dNSName entries ([2] IA5String) of a SubjectAltName extension,
    # decoded from its DER (Format() output is localised).
    param([byte[]]$Raw)
    $names = [System.Collections.Generic.List[string]]@()
    if ($null -eq $Raw -or $Raw.Length -lt 2 -or $Raw[0] -ne 0x30) {
        return , $names
    }
    $outer = Get-DerLength -Data $Raw -Offset 1
    $pos = 1 + $outer[1]
    $end = $pos + $outer[0]
    while ($pos -lt $end) {
        $tag = $Raw[$pos]
        $len = Get-DerLength -Data $Raw -Offset ($pos + 1)
        $start = $pos + 1 + $len[1]
        if ($tag -eq 0x82) {
            $names.Add([System.Text.Encoding]::ASCII.GetString($Raw, $start, $len[0]))
        }
        $pos = $start + $len[0]
    }
    return , $names
}

Function Test-NameMatch {
    param([string]$Pattern, [string]$Name)
    $p = $Pattern.ToLowerInvariant().TrimEnd('.')
    $n = $Name.ToLowerInvariant().TrimEnd('.')
    if ($p -eq $n) {
        return $true
    }
    if ($p.StartsWith('*.') -and $n.Contains('.')) {
        return $n.Substring($n.IndexOf('.') + 1) -eq $p.Substring(2)
    }
    return $false
}

Function Format-UtcDate {
    param([DateTime]$Date)
    return $Date.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)
}

$presented = @{ certificate = $null }
$callback = [System.Net.Security.RemoteCertificateValidationCallback] {
    param($sslSender, $certificate, $chain, $sslPolicyErrors)
    if ($null -ne $certificate) {
        $presented.certificate = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $certificate
    }
    # accept whatever is presented: the verdict is computed below, from the
    # host's own trust store, and returned rather than thrown
    $true
}

$client = New-Object -TypeName System.Net.Sockets.TcpClient
$stream = $null
try {
    try {
        $connect = $client.BeginConnect($address, $port, $null, $null)
        if (-not $connect.AsyncWaitHandle.WaitOne($timeoutMs)) {
            $module.FailJson("cannot connect to ${address}:${port}: no answer within $($module.Params.timeout) seconds")
        }
        $client.EndConnect($connect)
    }
    catch {
        $err = $_.Exception
        while ($null -ne $err.InnerException) {
            $err = $err.InnerException
        }
        $module.FailJson("cannot connect to ${address}:${port}: $($err.Message)", $_)
    }

    $protocols = [System.Security.Authentication.SslProtocols]::Tls12
    if ([Enum]::GetNames([System.Security.Authentication.SslProtocols]) -contains 'Tls13') {
        $protocols = $protocols -bor [System.Security.Authentication.SslProtocols]'Tls13'
    }
    $stream = New-Object -TypeName System.Net.Security.SslStream -ArgumentList $client.GetStream(), $false, $callback
    $stream.ReadTimeout = $timeoutMs
    $stream.WriteTimeout = $timeoutMs
    try {
        $stream.AuthenticateAsClient($serverName, $null, $protocols, $false)
    }
    catch {
        $err = $_.Exception
        while ($null -ne $err.InnerException) {
            $err = $err.InnerException
        }
        $module.FailJson("TLS handshake with ${address}:${port} for server name $serverName failed: $($err.Message)", $_)
    }
}
finally {
    if ($null -ne $stream) {
        $stream.Dispose()
    }
    $client.Close()
}

$cert = $presented.certificate
if ($null -eq $cert) {
    $module.FailJson("TLS handshake with ${address}:${port} for server name $serverName presented no certificate")
}

$dnsNames = [System.Collections.Generic.List[string]]@()
$ekuOids = $null
foreach ($extension in $cert.Extensions) {
    if ($extension.Oid.Value -eq '2.5.29.17') {
        $dnsNames = Get-SanDnsName -Raw $extension.RawData
    }
    elseif ($extension -is [System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension]) {
        $ekuOids = @($extension.EnhancedKeyUsages | ForEach-Object { $_.Value })
    }
}
$candidates = @($dnsNames)
if ($candidates.Count -eq 0) {
    $candidates = @($cert.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false))
}
$nameMatches = $false
foreach ($candidate in $candidates) {
    if ($candidate -and (Test-NameMatch -Pattern $candidate -Name $serverName)) {
        $nameMatches = $true
    }
}

# Revocation is not checked: the internal CA publishes no CRL the lab can reach
# (docs/roles/tls.md, what only a real host can confirm).
$chain = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Chain
$chain.ChainPolicy.RevocationMode = [System.Security.Cryptography.X509Certificates.X509RevocationMode]::NoCheck
$built = $chain.Build($cert)
$chainThumbprints = @($chain.ChainElements | ForEach-Object { $_.Certificate.Thumbprint })
$chainStatus = @($chain.ChainStatus | ForEach-Object { $_.Status.ToString() })
$chainValid = [bool]$built
if ($caThumbprint) {
    $wanted = ($caThumbprint -replace '\s', '').ToUpperInvariant()
    $root = if ($chainThumbprints.Count -gt 0) { $chainThumbprints[-1] } else { '' }
    if ($root -ne $wanted) {
        $chainValid = $false
        $chainStatus += "RootIsNot:$wanted"
    }
}

$module.Result.certificate = @{
    thumbprint = $cert.Thumbprint
    subject = $cert.Subject
    issuer = $cert.Issuer
    dns_names = @($dnsNames)
    eku_oids = $ekuOids
    not_before = Format-UtcDate -Date $cert.NotBefore
    not_after = Format-UtcDate -Date $cert.NotAfter
}
$module.Result.thumbprint = $cert.Thumbprint
$module.Result.chain = $chainThumbprints
$module.Result.chain_status = $chainStatus
$module.Result.chain_valid = $chainValid
$module.Result.name_matches = $nameMatches

$module.ExitJson()

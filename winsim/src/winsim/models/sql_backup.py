"""Backups and restores through ``lowlydba.sqlserver`` 2.8.1:
``backup`` (``Backup-DbaDatabase``) and ``restore`` (``Restore-DbaDatabase``).

A backup writes a real file into ``state["files"]`` (through
``state.write_file``, so free space and ``disk_full`` faults apply) and a
row into the instance's ``backup_history`` (msdb).  The file holds one or
more backup sets (``Initialize`` off appends, as SQL Server does); each set
is a small text block::

    WINSIM-SQL-BACKUPSET 1
    database=AppDb
    type=Full | Differential | Log
    first_lsn=... last_lsn=... checkpoint_lsn=... database_backup_lsn=...
    ...
    snapshot=<base64 JSON of the database's schema: users, roles, objects, settings>
    END-BACKUPSET

``restore`` reads those files back (never the history), selects the chain
the way ``Select-DbaBackupInformation`` does (latest full, latest diff on
that full, then the logs after it) and checks it like ``Test-DbaLsnChain``.

Faithful quirks of 2.8.1: the module reads ``compress_backup`` instead of
``compress``, so backups are never compressed; ``encryption_*`` and
``azure_*`` are read from a misspelt ``$modules`` and never reach dbatools.
In check mode ``Backup-DbaDatabase``/``Restore-DbaDatabase`` return nothing,
so both report ``changed: false`` (their validations still fail).
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import json
import typing as t

from ..drift import Arg, DriftError, drift
from ..state import (
    DiskFull,
    children,
    exists,
    get_item,
    iso,
    key,
    make_dirs,
    normpath,
    parent,
    read_file,
    write_file,
)
from ._base import ModuleContext
from .sql import (
    _LSN_ACTIVITY,
    _LSN_BACKUP,
    Connection,
    DbaError,
    base_props,
    connect,
    dbasize,
    dotnet_iso,
    find_database,
    last_backup,
    new_guid,
    sql_model,
    timespan,
)

MAGIC = "WINSIM-SQL-BACKUPSET 1"
END = "END-BACKUPSET"
_SNAPSHOT_KEYS = ("owner", "recovery_model", "compatibility", "collation", "size_mb", "maxdop", "secondary_maxdop",
                  "rcsi", "files", "schemas", "roles", "users", "objects")


def _net_format(fmt: str, when: t.Any) -> str:
    """``Get-Date -Format`` for the custom formats timestamps use."""
    out = fmt
    for token, value in (("yyyy", f"{when.year:04d}"), ("MM", f"{when.month:02d}"), ("dd", f"{when.day:02d}"),
                         ("HH", f"{when.hour:02d}"), ("mm", f"{when.minute:02d}"), ("ss", f"{when.second:02d}")):
        out = out.replace(token, value)
    return out


def _encode_set(meta: dict[str, t.Any]) -> str:
    lines = [MAGIC]
    for k, v in meta.items():
        if k == "snapshot":
            v = base64.b64encode(json.dumps(v, sort_keys=True).encode()).decode() if v is not None else ""
        elif isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, list):
            v = json.dumps(v)
        lines.append(f"{k}={'' if v is None else v}")
    lines.append(END)
    return "\r\n".join(lines) + "\r\n"


def parse_sets(data: bytes) -> list[dict[str, t.Any]]:
    """The backup sets in a backup file (``RESTORE HEADERONLY``); [] when
    the file is not a backup."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    sets = []
    cur: dict[str, t.Any] | None = None
    for line in text.splitlines():
        if line == MAGIC:
            cur = {}
        elif line == END and cur is not None:
            sets.append(cur)
            cur = None
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[k] = v
    out = []
    for s in sets:
        rec: dict[str, t.Any] = dict(s)
        for k in ("first_lsn", "last_lsn", "checkpoint_lsn", "database_backup_lsn", "position", "size_bytes"):
            rec[k] = int(s[k]) if s.get(k) else 0
        rec["differential_base_lsn"] = int(s["differential_base_lsn"]) if s.get("differential_base_lsn") else None
        for k in ("is_copy_only", "has_checksum", "is_compressed", "verified"):
            rec[k] = s.get(k) == "true"
        rec["files"] = json.loads(s.get("files") or "[]")
        rec["snapshot"] = json.loads(base64.b64decode(s["snapshot"])) if s.get("snapshot") else None
        out.append(rec)
    return out


# -- backup -------------------------------------------------------------------------

_TYPE = {"full": "Full", "database": "Full", "diff": "Differential", "differential": "Differential", "log": "Log"}


@sql_model("lowlydba.sqlserver.backup")
def backup(ctx: ModuleContext) -> dict[str, t.Any]:
    try:
        return _backup(ctx)
    except DbaError as exc:
        ctx.fail(f"Error backing up database: {exc}.")


def _backup(ctx: ModuleContext) -> dict[str, t.Any]:
    p = ctx.params
    conn = connect(ctx)
    inst = conn.inst
    kind = _TYPE[p["type"]]
    db = find_database(inst, p["database"])
    if db is None or db["name"].lower() == "tempdb":
        return ctx.exit(changed=False)          # "No databases match the request for backups" (a warning)
    if p.get("encryption_algorithm") is not None:
        # backup.ps1 reads encryption_certificate from a misspelt $modules, so Backup-DbaDatabase gets
        # -EncryptionAlgorithm without -EncryptionCertificate and stops (its own message, typos included)
        raise DbaError("EncryptionCertifcate and EncryptionKey are mutually exclusive, only provide on of them")
    if p["max_transfer_size"] % 65536 != 0 or p["max_transfer_size"] > 4 * 1024 * 1024:
        raise DbaError("MaxTransferSize value must be a multiple of 64kb and no greater than 4MB")
    if "Normal" not in db["status"].split(","):
        raise DbaError(f"Database status not Normal. {db['name']} skipped.")
    if db["recovery_model"] == "Simple" and kind == "Log":
        raise DbaError(f"[{db['name']}] is in simple recovery mode, cannot take log backup")
    if kind != "Full" and last_backup(inst, db["name"], "Full") is None:
        raise DbaError(f"[{db['name']}] does not have an existing full backup, cannot take log or differentialbackup")

    now = ctx.now()
    when = iso(now)
    suffix = "trn" if kind == "Log" else "bak"
    timestamp = _net_format(p.get("timestamp_format") or "yyyyMMddHHmm", now)
    file_path = p.get("file_path")
    path = p.get("path")
    folder: str | None = None
    file_item = get_item(ctx.state, file_path) if file_path else None
    if file_item is not None and not path and file_item["type"] == "directory":
        path, file_path = file_path, None
    if file_path == "NUL":
        targets = ["NUL:"]
    else:
        if not path:
            path = inst["paths"]["backup"]
        if file_path:
            name = normpath(file_path).rsplit("\\", 1)[-1]
            folder = parent(file_path) if "\\" in normpath(file_path) else path
            suffix = name.rsplit(".", 1)[-1] if "." in name else ""
        else:
            name = f"{db['name']}_{timestamp}.{suffix}"
            folder = path
        folder = normpath(folder)
        count = p["file_count"] if p["file_count"] > 1 else 1
        if count > 1:
            base = name.rsplit(".", 1)[0]
            targets = [f"{folder}\\{f'{i}-' if p['increment_prefix'] else ''}{base}-{i}-of-{count}.{suffix}"
                       for i in range(1, count + 1)]
        else:
            targets = [f"{folder}\\{name}"]
        if p["create_folder"]:
            targets = [f"{parent(x)}\\{db['name']}\\{x.rsplit(chr(92), 1)[-1]}" for x in targets]
        if p["replace_in_name"]:
            targets = [x.replace("dbname", db["name"]).replace("instancename", inst["name"])
                       .replace("servername", conn.computer).replace("timestamp", timestamp)
                       .replace("backuptype", kind) for x in targets]
        targets = [normpath(x) for x in targets]
        if not p["ignore_file_checks"]:
            for folder_path in dict.fromkeys(parent(x) for x in targets):
                if folder_path is None or not exists(ctx.state, folder_path):
                    if p["build_path"] or p["create_folder"]:
                        if not ctx.check_mode:
                            make_dirs(ctx.state, folder_path, when)
                    else:
                        # a warning plus $failures: the backup is silently skipped
                        return ctx.exit(changed=False)
    if ctx.check_mode:
        return ctx.result          # ShouldProcess false: no header info, no output

    if kind == "Log" and db["log_chain_lsn"] is None:
        raise DbaError("BACKUP LOG cannot be performed because there is no current database backup.\r\n"
                       "BACKUP LOG is terminating abnormally.")
    row, meta = write_backup(ctx.state, inst, db, kind, targets, now, checksum=p["checksum"],
                             copy_only=p["copy_only"], verified=bool(p["verify"]), user=conn.login,
                             computer=conn.computer, append=not (p["initialize"] or p["with_format"]))
    notes = ["Verify successful"] if p["verify"] else []
    ctx.changed(True)
    return ctx.exit(data=_backup_view(conn, row, meta, targets, notes, p["checksum"]))


def write_backup(state: dict[str, t.Any], inst: dict[str, t.Any], db: dict[str, t.Any], kind: str,
                 targets: list[str], now: _dt.datetime, *, checksum: bool, copy_only: bool, verified: bool,
                 user: str, computer: str, append: bool = True) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """``BACKUP DATABASE|LOG``: write one backup set to ``targets`` (or
    ``NUL:``), move the database's LSNs and add the msdb ``backupset`` row.
    The caller has checked that the backup is possible.  A write that fails
    (missing folder, disk full) raises :class:`DbaError` with SQL Server's
    text and changes nothing."""
    when = iso(now)
    lsn = db["lsn"] + _LSN_ACTIVITY          # activity since the last operation, then the backup itself
    if kind == "Log":
        first, last, checkpoint, new_lsn = db["log_chain_lsn"], lsn, db["last_checkpoint_lsn"], lsn
    else:
        checkpoint = first = lsn
        last = new_lsn = lsn + _LSN_BACKUP
    base_lsn = db["differential_base_lsn"] or 0
    diff_base = db["differential_base_lsn"] if kind == "Differential" else None
    size_bytes = int(db["size_mb"] * 1024 * 1024 * (0.05 if kind == "Log" else (0.2 if kind == "Differential"
                                                                                 else 0.55)))
    set_id = inst["next_backup_set_id"]
    meta: dict[str, t.Any] = {
        "server": computer, "instance": inst["name"], "database": db["name"], "type": kind,
        "backup_set_guid": new_guid(inst["name"], db["name"], set_id, when), "first_lsn": first, "last_lsn": last,
        "checkpoint_lsn": checkpoint, "database_backup_lsn": base_lsn, "differential_base_lsn": diff_base,
        "start": when, "end": when, "is_copy_only": copy_only, "has_checksum": checksum, "is_compressed": False,
        "verified": verified,
        "recovery_model": db["recovery_model"].upper().replace("BULKLOGGED", "BULK-LOGGED"),
        "recovery_fork_guid": db["recovery_fork_guid"], "size_bytes": size_bytes,
        "files": [dict(f) for f in db["files"]], "position": 1, "user": user,
        "snapshot": None if kind == "Log" else {k: copy.deepcopy(db[k]) for k in _SNAPSHOT_KEYS},
    }
    verb = "LOG" if kind == "Log" else "DATABASE"
    if targets[0] != "NUL:":
        writes = []
        for target in targets:
            old = b""
            item = get_item(state, target)
            if item is not None and item["type"] == "file" and append:
                old = read_file(state, target)
                meta["position"] = len(parse_sets(old)) + 1
            writes.append((target, old))
        saved = copy.deepcopy({k: state["files"].get(k) for k in [key(x) for x in targets]})
        free = copy.deepcopy(state.get("disks", {}))
        try:
            for target, old in writes:
                write_file(state, target, old + _encode_set(meta).encode(), when)
        except (DiskFull, FileNotFoundError) as exc:
            for k, v in saved.items():          # nothing of a failed backup stays behind
                if v is None:
                    state["files"].pop(k, None)
                else:
                    state["files"][k] = v
            state["disks"] = free
            if isinstance(exc, DiskFull):
                raise DbaError(f"Write on \"{exc}\" failed: 112(There is not enough space on the disk.)\r\n"
                               f"BACKUP {verb} is terminating abnormally.") from None
            raise DbaError(f"Cannot open backup device '{target}'. Operating system error 3(The system cannot "
                           f"find the path specified.).\r\nBACKUP {verb} is terminating abnormally.") from None
    db["lsn"] = new_lsn
    if kind != "Log":
        db["last_checkpoint_lsn"] = checkpoint
    if not copy_only:
        if kind == "Full":
            db["differential_base_lsn"] = checkpoint
            if db["recovery_model"] != "Simple" and db["log_chain_lsn"] is None:
                db["log_chain_lsn"] = first
        elif kind == "Log":
            db["log_chain_lsn"] = last
    inst["next_backup_set_id"] += 1
    row = {"backup_set_id": set_id, "backup_set_guid": meta["backup_set_guid"], "database": db["name"],
           "type": kind, "start": when, "end": when, "first_lsn": first, "last_lsn": last,
           "checkpoint_lsn": checkpoint, "database_backup_lsn": base_lsn, "differential_base_lsn": diff_base,
           "has_checksum": checksum, "is_copy_only": copy_only, "is_compressed": False, "is_damaged": False,
           "size_bytes": size_bytes, "paths": list(targets), "position": meta["position"],
           "recovery_model": db["recovery_model"], "user": user, "recovery_fork_guid": db["recovery_fork_guid"],
           "verified": verified}
    inst["backup_history"].append(row)
    return row, meta


def _backup_view(conn: Connection, row: dict[str, t.Any], meta: dict[str, t.Any], targets: list[str],
                 notes: list[str], checksum: bool) -> dict[str, t.Any]:
    """The header info object ``Backup-DbaDatabase`` outputs (history
    properties plus its own, minus the excluded ones)."""
    verb = "LOG" if row["type"] == "Log" else "DATABASE"
    opts = ["NOFORMAT", "NOINIT", "NOSKIP", "REWIND", "NOUNLOAD"]
    if row["type"] == "Differential":
        opts.insert(0, "DIFFERENTIAL")
    if row["is_copy_only"]:
        opts.insert(0, "COPY_ONLY")
    if checksum:
        opts.append("CHECKSUM")
    script = (f"BACKUP {verb} [{row['database']}] TO  " +
              ", ".join(f"DISK = N'{x}'" for x in targets) + " WITH  " + ",  ".join(opts) + ",  STATS = 1")
    folder = sorted({parent(x) or "" for x in targets}) if targets[0] != "NUL:" else ["NUL:"]
    out = base_props(conn)
    out.update({
        "AvailabilityGroupName": None, "Database": row["database"], "DatabaseId": None, "UserName": row["user"],
        "Start": dotnet_iso(row["start"]), "End": dotnet_iso(row["end"]), "Duration": timespan(0),
        "Path": targets, "TotalSize": dbasize(row["size_bytes"]), "CompressedBackupSize": dbasize(row["size_bytes"]),
        "CompressionRatio": 1, "Type": row["type"], "DeviceType": "Disk", "Software": "Microsoft SQL Server",
        "Position": row["position"], "IsCopyOnly": row["is_copy_only"], "RecoveryModel": row["recovery_model"],
        "KeyAlgorithm": None, "EncryptorThumbprint": None, "EncryptorType": None,
        "BackupComplete": True, "BackupFile": [x.rsplit("\\", 1)[-1] for x in targets] if len(targets) > 1
        else targets[0].rsplit("\\", 1)[-1], "BackupFilesCount": len(targets),
        "BackupFolder": folder[0] if len(folder) == 1 else folder,
        "BackupPath": targets[0] if len(targets) == 1 else sorted(targets), "DatabaseName": row["database"],
        "Script": script, "Verified": row["verified"],
    })
    if notes:
        out.update({"Notes": ",".join(notes), "FirstLsn": row["first_lsn"],
                    "DatabaseBackupLsn": row["database_backup_lsn"], "CheckpointLsn": row["checkpoint_lsn"],
                    "LastLsn": row["last_lsn"], "BackupSetId": row["backup_set_id"],
                    "LastRecoveryForkGUID": meta["recovery_fork_guid"]})
    return out


# -- restore ------------------------------------------------------------------------

def _collect(ctx: ModuleContext, path: str, recurse: bool) -> list[dict[str, t.Any]]:
    item = get_item(ctx.state, path)
    if item is None:
        return []
    files = [item] if item["type"] == "file" else [
        c for c in children(ctx.state, path, recurse=recurse) if c["type"] == "file"]
    out = []
    for f in files:
        for s in parse_sets(read_file(ctx.state, f["path"])):
            s["full_name"] = f["path"]
            out.append(s)
    return out


def _warn(ctx: ModuleContext, function: str, msg: str) -> str:
    return f"[{ctx.now().strftime('%H:%M:%S')}][{function}] {msg}"


@sql_model("lowlydba.sqlserver.restore", partial_on_failure=True)
def restore(ctx: ModuleContext) -> dict[str, t.Any]:
    """A failed restore changes nothing, except a RESTORE that SQL Server
    started and aborted (a damaged backup): its database stays RESTORING."""
    warnings: list[str] = []
    ctx.commit_partial()
    try:
        return _restore(ctx, warnings)
    except DbaError as exc:
        extra = f" Additional warnings: {' '.join(warnings)}." if warnings else ""
        ctx.fail(f"Error restoring database: {exc}.{extra}")


def _restore(ctx: ModuleContext, warnings: list[str]) -> dict[str, t.Any]:
    p = ctx.params
    conn = connect(ctx)
    sets = _collect(ctx, p["path"], p["directory_recurse"])
    if not sets:
        return ctx.exit(changed=False)     # "No backups passed through" is a warning only
    sources = sorted({s["database"] for s in sets}, key=str.lower)
    if len(sources) > 1 and p.get("database"):
        raise DbaError("Multiple Databases' backups passed in, but only 1 name to restore them under. Stopping as "
                       "cannot work out how to proceed")
    at, mark = _stop_point(ctx)
    outputs: list[t.Any] = []
    plans = []
    for source in sources:
        history = [s for s in sets if s["database"] == source]
        target = p.get("database") or ((p.get("restored_database_name_prefix") or "") + source)
        if p["verify_only"]:
            plans.append((source, target, history))
            continue
        chain = _select(ctx, history, warnings, at=at)
        _test(ctx, conn, source, target, chain, warnings)
        plans.append((source, target, chain))
    if ctx.check_mode:
        return ctx.result              # Invoke-DbaAdvancedRestore -WhatIf outputs nothing
    for _source, target, chain in plans:
        if p["verify_only"]:
            outputs.extend({"Length": len("Verify successful")} for _ in chain)
            continue
        outputs.extend(_apply(ctx, conn, target, chain, at=at, mark=mark, warnings=warnings))
    ctx.changed(True)
    for w in warnings:
        ctx.warn(w)
    return ctx.exit(data=outputs[0] if len(outputs) == 1 else outputs)


def _stop_point(ctx: ModuleContext) -> tuple[_dt.datetime | None, str | None]:
    """``-RestoreTime`` (a ``[datetime]``, local time = the host's UTC) and
    ``-StopMark``.  dbatools restores to the latest point when the time is
    in the future (its default is now + 1 s)."""
    p = ctx.params
    at = None
    raw = p.get("restore_time")
    if raw is not None:
        try:
            at = _dt.datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            raise DbaError(f"Cannot process argument transformation on parameter 'RestoreTime'. Cannot convert "
                           f"value \"{raw}\" to type \"System.DateTime\". Error: \"String was not recognized as "
                           "a valid DateTime.\"") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.UTC)
        if at > ctx.now():
            at = None
    return at, p.get("stop_mark") or None


def select_chain(history: list[dict[str, t.Any]], *, at: _dt.datetime | None = None, ignore_diff: bool = False,
                 ignore_log: bool = False) -> list[dict[str, t.Any]]:
    """``Select-DbaBackupInformation``: the latest full (started before
    ``at``), the latest differential on it, then the log backups after
    them up to the first one that reaches ``at``.  [] when no full
    anchors the restore."""
    def started(s: dict[str, t.Any]) -> _dt.datetime:
        return _dt.datetime.fromisoformat(s["start"].replace("Z", "+00:00"))

    usable = [s for s in history if at is None or started(s) < at or s["type"] == "Log"]
    fulls = [s for s in usable if s["type"] == "Full" and not (at is not None and started(s) >= at)]
    if not fulls:
        return []
    full = max(fulls, key=lambda s: (s["last_lsn"], s["start"]))
    chain = [full]
    anchor = full
    if not ignore_diff:
        diffs = [s for s in usable if s["type"] == "Differential" and s["database_backup_lsn"] ==
                 full["checkpoint_lsn"] and s["last_lsn"] > full["last_lsn"]]
        if diffs:
            anchor = max(diffs, key=lambda s: s["last_lsn"])
            chain.append(anchor)
    if not ignore_log:
        logs = sorted((s for s in usable if s["type"] == "Log" and s["last_lsn"] > anchor["last_lsn"]
                       and not s["is_copy_only"]), key=lambda s: (s["last_lsn"], s["first_lsn"]))
        if at is not None:
            kept = []
            for log in logs:
                kept.append(log)
                if _dt.datetime.fromisoformat(log["end"].replace("Z", "+00:00")) >= at:
                    break                    # the log that holds the stop point is the last one restored
            logs = kept
        chain.extend(logs)
    return chain


def chain_breaks(chain: list[dict[str, t.Any]]) -> list[str]:
    """``Test-DbaLsnChain``: where the LSNs of a chain do not join up."""
    if not chain:
        return ["no full backup"]
    anchor = chain[1] if len(chain) > 1 and chain[1]["type"] == "Differential" else chain[0]
    logs = [s for s in chain if s["type"] == "Log"]
    for i, log in enumerate(logs):
        if i == 0:
            if log["first_lsn"] > anchor["last_lsn"]:
                return [f"Break in LSN Chain between {anchor.get('full_name')} and {log.get('full_name')} "]
        elif logs[i - 1]["last_lsn"] != log["first_lsn"]:
            return [f"Break in transaction log between {logs[i - 1].get('full_name')} and {log.get('full_name')} "]
    return []


def restore_chain(state: dict[str, t.Any], database: str, at: _dt.datetime | None = None,
                  instance: str = "MSSQLSERVER") -> dict[str, t.Any]:
    """The newest restorable chain of ``database`` from the backup files
    that exist on the host (msdb history tells where they are; the files
    are read back, as ``Restore-DbaDatabase`` would): ``{"chain": [sets
    with "full_name"], "files": [paths], "breaks": [texts], "restorable":
    bool, "missing": [files msdb lists that are gone]}``."""
    inst = state["sql"]["instances"][instance.lower()]
    sets: list[dict[str, t.Any]] = []
    missing: list[str] = []
    seen: set[str] = set()
    for row in inst["backup_history"]:
        if row["database"].lower() != database.lower():
            continue
        for path in row["paths"]:
            if path == "NUL:" or path.lower() in seen:
                continue
            seen.add(path.lower())
            item = get_item(state, path)
            if item is None or item["type"] != "file":
                missing.append(path)
                continue
            for s in parse_sets(read_file(state, path)):
                if s["database"].lower() == database.lower():
                    s["full_name"] = item["path"]
                    sets.append(s)
    chain = select_chain(sets, at=at)
    breaks = chain_breaks(chain)
    return {"chain": chain, "files": [s["full_name"] for s in chain], "breaks": breaks,
            "restorable": bool(chain) and not breaks, "missing": missing}


def _select(ctx: ModuleContext, history: list[dict[str, t.Any]], warnings: list[str],
            at: _dt.datetime | None = None) -> list[dict[str, t.Any]]:
    """``Select-DbaBackupInformation``: see :func:`select_chain`."""
    p = ctx.params
    chain = select_chain(history, at=at, ignore_diff=p["ignore_diff_backup"], ignore_log=p["ignore_log_backup"])
    if not chain:
        warnings.append(_warn(ctx, "Select-DbaBackupInformation",
                              f"No Full backup found to anchor the restore of {history[0]['database']}"))
        raise DbaError(f"Database {history[0]['database']} unable to be restored, see warnings for details")
    return chain


def _test(ctx: ModuleContext, conn: Connection, source: str, target: str, chain: list[dict[str, t.Any]],
          warnings: list[str]) -> None:
    """``Test-DbaBackupInformation`` with ``Test-DbaLsnChain``."""
    p = ctx.params
    errors = 0
    for text in chain_breaks(chain):
        warnings.append(_warn(ctx, "Test-DbaLsnChain", text))
        errors += 1
    if errors:
        warnings.append(_warn(ctx, "Test-DbaBackupInformation", f"LSN Check failed for {source}"))
    existing = find_database(conn.inst, target)
    if existing is not None and not p["with_replace"]:
        warnings.append(_warn(ctx, "Test-DbaBackupInformation",
                              f"Database {target} exists, so WithReplace must be specified"))
        errors += 1
    for f in _dest_files(ctx, conn, target, chain[0]):
        owner = next((d for d in conn.inst["databases"].values() if d["name"].lower() != target.lower()
                      and any(x["physical_name"].lower() == f["physical_name"].lower() for x in d["files"])), None)
        if owner is not None:
            warnings.append(_warn(ctx, "Test-DbaBackupInformation",
                                  f"File {f['physical_name']} already exists on {conn.server} and owned by another "
                                  "database, cannot restore"))
            errors += 1
    if errors:
        raise DbaError(f"Database {target} unable to be restored, see warnings for details")


def _dest_files(ctx: ModuleContext, conn: Connection, target: str, full: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """``Format-DbaBackupInformation``: where each file of the backup goes."""
    p = ctx.params
    out = []
    inst = conn.inst
    for f in full["files"]:
        physical = f["physical_name"]
        folder, _, leaf = physical.rpartition("\\")
        if p.get("replace_db_name_in_file"):
            leaf = leaf.replace(full["database"], target)
        stem, dot, ext = leaf.rpartition(".")
        leaf = f"{p.get('destination_file_prefix') or ''}{stem}{p.get('destination_file_suffix') or ''}{dot}{ext}"
        if f["type"] == "D" and p.get("destination_data_directory"):
            folder = p["destination_data_directory"]
        elif f["type"] == "L" and (p.get("destination_log_directory") or p.get("destination_data_directory")):
            folder = p.get("destination_log_directory") or p["destination_data_directory"]
        elif p.get("use_destination_default_directories"):
            folder = inst["paths"]["data"] if f["type"] == "D" else inst["paths"]["log"]
        out.append({"logical_name": f["logical_name"], "type": f["type"],
                    "physical_name": normpath(folder.rstrip("\\") + "\\" + leaf)})
    return out


# Simulated restore throughput (docs: winsim/docs/backup-verify.md). winsim's backups are instantaneous and its
# clock is frozen, so a restore's elapsed time is computed from the backup sizes instead of measured: a fixed
# cost per backup file (open the media, read the header, allocate or zero the files), data pages copied at
# 200 MB/s, log records redone at 50 MB/s, and the recovery (undo) after the last file. Invoke-DbaAdvancedRestore
# reports whole seconds (New-TimeSpan -Seconds).
RESTORE_FILE_OVERHEAD_S = 2
RESTORE_DATA_MB_PER_S = 200
RESTORE_LOG_MB_PER_S = 50
RESTORE_RECOVERY_S = 3


def restore_seconds(backup_set: dict[str, t.Any], *, last: bool = False) -> int:
    """Simulated seconds to restore one backup set (see the constants above)."""
    size_mb = backup_set.get("size_bytes", 0) / 1024 / 1024
    rate = RESTORE_LOG_MB_PER_S if backup_set["type"] == "Log" else RESTORE_DATA_MB_PER_S
    return round(RESTORE_FILE_OVERHEAD_S + size_mb / rate + (RESTORE_RECOVERY_S if last else 0))


def _apply(ctx: ModuleContext, conn: Connection, target: str, chain: list[dict[str, t.Any]], *,
           at: _dt.datetime | None = None, mark: str | None = None, warnings: list[str] | None = None
           ) -> list[dict[str, t.Any]]:
    """``Invoke-DbaAdvancedRestore``: restores the chain and returns one
    object per restored backup.  With a stop point the last log is restored
    ``WITH STOPAT`` (or ``STOPATMARK``): a point after the end of the chain,
    or a mark the log does not hold (winsim records no marked transactions),
    leaves the database RESTORING, as SQL Server does ("This log file
    contains records logged before the designated point-in-time")."""
    p = ctx.params
    warnings = warnings if warnings is not None else []
    last = chain[-1]
    end_lsn = last["last_lsn"]
    reached = True
    if mark is not None and last["type"] == "Log":
        reached = False
    elif at is not None and last["type"] == "Log":
        start_t = _dt.datetime.fromisoformat(last["start"].replace("Z", "+00:00"))
        prev_end = next((s for s in reversed(chain[:-1])), None)
        begin_t = (_dt.datetime.fromisoformat(prev_end["end"].replace("Z", "+00:00")) if prev_end else start_t)
        if at > start_t:
            reached = False
        else:
            span = (start_t - begin_t).total_seconds() or 1.0
            frac = max(0.0, min(1.0, (at - begin_t).total_seconds() / span))
            end_lsn = last["first_lsn"] + int((last["last_lsn"] - last["first_lsn"]) * frac)
    if not reached:
        warnings.append(_warn(ctx, "Invoke-DbaAdvancedRestore",
                              "This log file contains records logged before the designated point-in-time. The "
                              "database is being left in the restoring state so you can apply another log file."))
    inst = conn.inst
    when = iso(ctx.now())
    snap_set = chain[1] if len(chain) > 1 and chain[1]["type"] == "Differential" else chain[0]
    snapshot = snap_set["snapshot"] or {}
    dest = _dest_files(ctx, conn, target, chain[0])
    old = find_database(inst, target)
    db = {
        "name": target, "id": old["id"] if old else inst["next_database_id"], "status": "Restoring" if
        p["no_recovery"] or not reached else "Normal", "is_system": False, "created": when,
        "lsn": end_lsn, "last_checkpoint_lsn": snap_set["checkpoint_lsn"],
        "differential_base_lsn": chain[0]["checkpoint_lsn"],
        "log_chain_lsn": end_lsn if chain[0]["recovery_model"] != "SIMPLE" else None,
        "recovery_fork_guid": new_guid(inst["name"], target, when, "fork"),
    }
    db.update({k: copy.deepcopy(snapshot[k]) for k in snapshot})
    db["files"] = dest
    if old is None:
        inst["next_database_id"] += 1
    else:
        del inst["databases"][old["name"].lower()]
    inst["databases"][target.lower()] = db
    out = []
    elapsed = 0
    for i, s in enumerate(chain):
        is_last = i == len(chain) - 1
        damaged = s.get("damaged_page")
        if damaged:
            # RESTORE checks the page checksums of a backup taken WITH CHECKSUM (and reads every page of one
            # taken without): SMO's Restore fails, Invoke-DbaAdvancedRestore stops the database's restore.
            # The database stays behind RESTORING, as on SQL Server.
            db["status"] = "Restoring"
            ctx.commit_partial()
            verb_word = "LOG" if s["type"] == "Log" else "DATABASE"
            raise DbaError(
                f"Failed to restore db {target}, stopping: Microsoft.Data.SqlClient.SqlError: RESTORE detected an "
                f"error on page ({damaged}) in database \"{target}\" as being read from the backup set. "
                f"(Msg 3183) File: {s['full_name']}. RESTORE {verb_word} is terminating abnormally. (Msg 3013)")
        file_seconds = restore_seconds(s, last=is_last)
        elapsed += file_seconds
        norecovery = p["no_recovery"] or not is_last or not reached
        verb = "LOG" if s["type"] == "Log" else "DATABASE"
        moves = "".join(f" MOVE N'{f['logical_name']}' TO N'{f['physical_name']}'," for f in dest) if i == 0 else ""
        replace = ",  REPLACE" if p["with_replace"] else ""
        stop = ""
        if is_last and s["type"] == "Log" and mark is not None:
            stop = f",  STOPATMARK = N'{mark}'"
        elif is_last and s["type"] == "Log" and at is not None:
            stop = f",  STOPAT = N'{at.astimezone(_dt.UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}'"
        script = (f"RESTORE {verb} [{target}] FROM  DISK = N'{s['full_name']}' WITH  FILE = {s['position']},"
                  f"{moves}  {'NORECOVERY' if norecovery else 'RECOVERY'},  NOUNLOAD{replace}{stop},  STATS = 10")
        item = base_props(conn)
        item.update({
            "DatabaseName": target, "DatabaseOwner": conn.login, "Owner": conn.login, "NoRecovery": norecovery,
            "WithReplace": p["with_replace"], "KeepReplication": p["keep_replication"], "RestoreComplete": True,
            "BackupFilesCount": 1, "RestoredFilesCount": len(dest),
            "BackupSizeMB": round(s["size_bytes"] / 1024 / 1024, 2),
            "CompressedBackupSizeMB": round(s["size_bytes"] / 1024 / 1024, 2), "BackupFile": s["full_name"],
            "RestoredFile": ",".join(sorted({f["physical_name"].rsplit(chr(92), 1)[-1] for f in dest})),
            "RestoreDirectory": ",".join(sorted({f["physical_name"].rsplit(chr(92), 1)[0] for f in dest})),
            "BackupStartTime": dotnet_iso(s["start"]), "BackupEndTime": dotnet_iso(s["end"]),
            "RestoreTargetTime": dotnet_iso(at) if at is not None else "Latest", "Script": script,
            "FileRestoreTime": timespan(file_seconds),
            "DatabaseRestoreTime": timespan(elapsed)})
        out.append(item)
    return out


# -- drifts: what happens to backup files outside SQL Server (``winsim drift``) --------

@drift("corrupt-backup", section="files",
       help="Damage a page inside a backup file (bit rot, a bad copy): the header still reads, RESTORE fails its "
            "page checksum (Msg 3183).",
       args=[Arg("path", "backup file, e.g. D:\\SQLBackup\\SQL01\\MCMS\\FULL\\SQL01_MCMS_FULL_20260303_000000.bak"),
             Arg("--page", "the damaged page as (file:page)", required=False)])
def corrupt_backup(state: dict[str, t.Any], now: _dt.datetime, *, path: str, page: str | None = None) -> str:
    item = get_item(state, path)
    if item is None or item["type"] != "file":
        raise DriftError(f"no file {normpath(path, state)}")
    data = read_file(state, path)
    sets = parse_sets(data)
    if not sets:
        raise DriftError(f"{item['path']} is not a backup file")
    page = page or "1:312"
    text = data.decode("utf-8").replace(END + "\r\n", f"damaged_page={page}\r\n{END}\r\n")
    write_file(state, item["path"], text.encode("utf-8"), item.get("modified") or iso(now))
    return f"damaged page ({page}) of the {len(sets)} backup set(s) in {item['path']}"

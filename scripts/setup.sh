#!/usr/bin/env bash
# Install a pinned toolchain set into its venv (`make setup`).
#
#   scripts/setup.sh newest   ansible-core 2.21 + tools on Python 3.13/3.12 -> .venv
#   scripts/setup.sh oldest   ansible-core 2.19 on Python 3.11              -> .venv-oldest
#
# Idempotent and fast when already done: a stamp file inside the venv records
# a digest of the lock files, this script, the interpreter and the checkout
# location; when it matches, nothing is run. Otherwise the venv is rebuilt
# from scratch so it holds exactly the locked packages.
#
# Every package is hash-pinned (pip --require-hashes). When wheelhouse/ holds
# wheels (`make wheelhouse`), installs use it alone (--no-index): the
# air-gapped controller case.
#
# Beyond the packages, the venv gets:
#   - mcms-collections.pth: <repo>/collections on sys.path, so tools and tests
#     import the in-repo collections as ansible_collections.mcms.*;
#   - winsim.pth: <repo>/winsim/src on sys.path, the simulator package
#     installed in development mode (what `pip install -e winsim` would write,
#     without needing a build backend on an air-gapped controller); the
#     mcms.winsim connection plugin imports it like psrp imports pypsrp;
#   - bin/winsim: the winsim command line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || die "usage: $0 newest|oldest"
SET="$1"
set_vars "${SET}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

STAMP="${VENV_DIR}/.mcms-setup-stamp"

# The headless browser the drift report's HTML test renders with
# (tests/playbooks/test_drift_check.py): Debian's chromium, installed only when
# missing, and only as root with apt available (a CI machine); elsewhere that
# one test says so and skips, except under CI=true, where it must run.
install_browser() {
    command -v chromium >/dev/null 2>&1 && return 0
    [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 || return 0
    log "installing the headless browser for the drift report test (Debian chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
if [[ "${SET}" == newest ]]; then
    install_browser
fi

# The digest of everything that decides what the venv must contain.
digest() {
    local py="$1"
    {
        printf 'repo=%s\n' "${REPO_ROOT}"
        printf 'python=%s\n' "$("${py}" -c 'import sys; print(sys.version)')"
        cat "${LOCK}" ${EXTRA_LOCK:+"${EXTRA_LOCK}"} "${BASH_SOURCE[0]}" "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
    } | sha256sum | cut -d' ' -f1
}

# Fast path: the venv's own interpreter runs, is an accepted version and the
# stamp matches. No interpreter discovery, no pip.
if [[ -x "${VENV_DIR}/bin/python" && -f "${STAMP}" ]]; then
    for ver in ${PY_VERSIONS}; do
        if probe_python "${VENV_DIR}/bin/python" "${ver}" >/dev/null &&
            [[ "$(cat "${STAMP}")" == "$(digest "${VENV_DIR}/bin/python")" ]]; then
            log "${SET} toolchain up to date (${VENV_DIR#"${REPO_ROOT}"/})"
            exit 0
        fi
    done
fi

PYTHON="$(find_python "${SET}")"
log "${SET} toolchain: building ${VENV_DIR#"${REPO_ROOT}"/} with $("${PYTHON}" -V 2>&1) (${PYTHON})"

mapfile -t SOURCE_ARGS < <(pip_source_args)
if [[ ${#SOURCE_ARGS[@]} -gt 0 ]]; then
    log "installing offline from ${WHEELHOUSE}"
fi

rm -rf "${VENV_DIR}"
"${PYTHON}" -m venv "${VENV_DIR}"
VPY="${VENV_DIR}/bin/python"

log "installing $(grep -c '^[a-zA-Z0-9]' "${LOCK}") hash-pinned packages from ${LOCK#"${REPO_ROOT}"/}"
"${VPY}" -m pip install --quiet --require-hashes --no-deps --only-binary=:all: \
    "${SOURCE_ARGS[@]}" -r "${LOCK}" 2> >(pip_quiet_filter)
if [[ -n "${EXTRA_LOCK}" ]]; then
    # The same upstream collections as the newest set: the `ansible` package
    # declares a dependency on the newest ansible-core and Python, which this
    # set deliberately does not satisfy (docs/decisions.md).
    log "installing the shared collection set from ${EXTRA_LOCK#"${REPO_ROOT}"/} (--no-deps)"
    "${VPY}" -m pip install --quiet --require-hashes --no-deps --only-binary=:all: \
        --ignore-requires-python "${SOURCE_ARGS[@]}" -r "${EXTRA_LOCK}" 2> >(pip_quiet_filter)
fi
"${VPY}" -m pip check >/dev/null 2>&1 || [[ -n "${EXTRA_LOCK}" ]] ||
    die "pip check failed in ${VENV_DIR}: $("${VPY}" -m pip check 2>&1)"

# The in-repo collections on sys.path of every tool in the venv.
SITE="$("${VPY}" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n' "${REPO_ROOT}/collections" >"${SITE}/mcms-collections.pth"
# The simulator package (winsim/), in development mode.
printf '%s\n' "${REPO_ROOT}/winsim/src" >"${SITE}/winsim.pth"

cat >"${VENV_DIR}/bin/winsim" <<PY
#!${VPY}
"""winsim command line (installed by scripts/setup.sh)."""
import sys

from winsim.cli import main

if __name__ == "__main__":
    sys.exit(main())
PY
chmod 0755 "${VENV_DIR}/bin/winsim"

# Verify what was installed against the lock, not against hopes.
want_core="$(sed -n 's/^ansible-core==\([^ ]*\).*/\1/p' "${LOCK}")"
have_core="$("${VPY}" -c 'from ansible.release import __version__; print(__version__)')"
[[ "${have_core}" == "${want_core}" ]] ||
    die "${VENV_DIR} has ansible-core ${have_core}, the lock pins ${want_core}"
"${VPY}" -c 'import ansible_collections.ansible.windows, ansible_collections.mcms.infra, winsim.runner' ||
    die "${VENV_DIR} cannot import the upstream or in-repo collections or the winsim package"

digest "${VPY}" >"${STAMP}"
log "${SET} toolchain ready: ansible-core ${have_core} on $("${VPY}" -V 2>&1)"

#!/usr/bin/env bash
# Download every hash-pinned wheel of both toolchain sets into wheelhouse/
# (`make wheelhouse`), for controllers without access to a package index.
#
# Run it on a connected machine of the same platform and Python versions as
# the controller (the wheels of cryptography, pyyaml, rpds-py, ruff, ... are
# platform- and version-specific), then copy wheelhouse/ next to the checkout
# on the controller: `make setup` installs from it with --no-index.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
mkdir -p "${WHEELHOUSE}"

download() {
    local set="$1" py
    py="$(find_python "${set}")"
    set_vars "${set}"
    log "wheelhouse: ${set} set for $("${py}" -V 2>&1)"
    "${py}" -m pip download --quiet --require-hashes --no-deps --only-binary=:all: \
        --dest "${WHEELHOUSE}" -r "${LOCK}" 2> >(pip_quiet_filter)
    if [[ -n "${EXTRA_LOCK}" ]]; then
        "${py}" -m pip download --quiet --require-hashes --no-deps --only-binary=:all: \
            --ignore-requires-python --dest "${WHEELHOUSE}" -r "${EXTRA_LOCK}" 2> >(pip_quiet_filter)
    fi
}

download newest
download oldest
log "wheelhouse ready: $(find "${WHEELHOUSE}" -name '*.whl' | wc -l) wheels, $(du -sh "${WHEELHOUSE}" | cut -f1) in ${WHEELHOUSE}"

# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tools/test and tools/demo: starts the calling script over as root through sudo unless it is root.
# shellcheck shell=bash

# Returns at once when run as root. Otherwise re-executes the script ($0) through sudo with the same
# arguments in the same directory, keeping the ANALYSIS_SANDBOX_* variables (sudo resets the environment);
# without sudo, says how to run it and exits 1. Both scripts need root throughout: apt installs what is
# missing, and the VM image is a tree of root-owned files that only root can make and boot.
as_root() {
    local self vars
    [[ $(id -u) == 0 ]] && return 0
    self=$(realpath "$0")
    if ! command -v sudo >/dev/null; then
        echo "$0: needs root (it installs packages with apt and boots a VM), and sudo is not installed: run it as root" >&2
        exit 1
    fi
    vars=$(compgen -e ANALYSIS_SANDBOX_ | paste -sd, -) || true
    echo "$0: needs root (it installs packages with apt and boots a VM): running it again through sudo" >&2
    exec sudo ${vars:+--preserve-env="$vars"} -- "$self" "$@"
}

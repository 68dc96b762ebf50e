# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the scripts that build, package and test per Debian release: which releases are supported, which one this host is, its mirror.
# shellcheck shell=bash

# The releases analysis-sandbox is built, packaged and tested on, newest first: Debian 13 (systemd 257,
# Slurm 24.11) and Debian 12 (systemd 252, Slurm 22.05).
supported_releases=(trixie bookworm)
declare -A release_version=([trixie]=13 [bookworm]=12)
declare -A release_systemd=([trixie]=257 [bookworm]=252)
declare -A release_slurm=([trixie]=24.11 [bookworm]=22.05)
# The releases the two-VM Slurm test cluster (tests/vm/slurm) is built for: Debian 12 (Slurm 22.05) and
# Debian 13 (Slurm 24.11); tests/vm/RELEASES.md says what differs between the two.
slurm_test_releases=(bookworm trixie)

# Returns 0 when WORD is one of the other arguments.
word_in() {
    local word=$1 w
    shift
    for w; do
        [[ $word == "$w" ]] && return 0
    done
    return 1
}

# Returns 0 when the Slurm test cluster exists for RELEASE.
slurm_test_release() { word_in "$1" "${slurm_test_releases[@]}"; }

# Prints this host's Debian codename (from /etc/os-release, or ROOT/etc/os-release), or nothing when it is not Debian.
host_release() {
    local root=${1:-} id='' codename=''
    [[ -r $root/etc/os-release ]] || return 0
    # shellcheck disable=SC1091
    id=$(. "$root/etc/os-release" && echo "${ID:-}")
    # shellcheck disable=SC1091
    codename=$(. "$root/etc/os-release" && echo "${VERSION_CODENAME:-}")
    [[ $id == debian ]] && echo "$codename"
    return 0
}

# Returns 0 when RELEASE is one of supported_releases.
release_supported() { word_in "$1" "${supported_releases[@]}"; }

# Prints the one supported release that is not RELEASE.
other_release() {
    local r
    for r in "${supported_releases[@]}"; do
        [[ $1 != "$r" ]] && echo "$r" && return 0
    done
}

# Says plainly what is supported when RELEASE (the host's, or "" when the host is not Debian) is not.
release_unsupported_message() {
    local what=$1 release=$2 name
    name=$( (. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}") || true)
    echo "$what: this host is ${name:-not Debian}${release:+ ($release)}; analysis-sandbox is built and tested on" \
        "Debian 13 (trixie) and Debian 12 (bookworm) only, and this script knows only their package names." \
        "Install the equivalents of tools/install-deps' list by hand, or use one of those releases."
}

# The host's Debian mirror, used for every release (this machine reaches no other): the URI of the first
# apt source of Debian's main archive (a stanza or line for one of the supported releases, not its
# -security or -updates suites). ANALYSIS_SANDBOX_VM_MIRROR overrides it.
debian_mirror() {
    local f url pattern
    if [[ -n ${ANALYSIS_SANDBOX_VM_MIRROR:-} ]]; then
        echo "$ANALYSIS_SANDBOX_VM_MIRROR"
        return 0
    fi
    pattern=$(IFS='|' && echo "${supported_releases[*]}")
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        url=$(awk -v re="^($pattern)\$" '
            /^[[:space:]]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
            $1 == "URIs:"   { u = $2 }
            $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i ~ re) ok = 1 }
            END             { if (u != "" && ok) print u }' "$f" | head -n1)
        if [[ -n $url ]]; then
            echo "$url"
            return 0
        fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        url=$(awk -v re="^($pattern)\$" '$1 == "deb" && $0 !~ /\[/ && $3 ~ re { print $2; exit }' "$f")
        if [[ -n $url ]]; then
            echo "$url"
            return 0
        fi
    done
    echo "no Debian mirror (a source for ${supported_releases[*]}) in /etc/apt/sources.list{,.d}; set ANALYSIS_SANDBOX_VM_MIRROR" >&2
    return 1
}

# Prints the release a meson build directory was made for: the one tools/release-env wrote into it, or
# this host's for a build made here.
build_release() {
    local build=$1
    if [[ -f $build/analysis-sandbox-release ]]; then
        cat "$build/analysis-sandbox-release"
    else
        host_release
    fi
}

# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the host suites that run a program of the build as an unprivileged account (nobody).
#
# shellcheck shell=bash

# Copies PATH (a program or a directory) into a new directory under /tmp that every account can reach and
# read, and prints the copy's path; rm -rf of its dirname removes it. The build and source trees may be
# where that account cannot go: a clone under /root (mode 0700) is one.
copy_for_other_users() {
        local dir
        dir=$(mktemp -d /tmp/analysis-for-others.XXXXXX) || return
        chmod 0755 "$dir" && cp -R "$1" "$dir/" && chmod -R a+rX "$dir" && echo "$dir/$(basename "$1")"
}

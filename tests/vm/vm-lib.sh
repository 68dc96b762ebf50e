# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers the test VM's host scripts share (sourced): timing, installing a build or a .deb into a root tree, the per-run tree.
#
# The sourcing script defines die().

# shellcheck shell=bash

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# How qemu runs the test VMs (run-vm) and the Slurm cluster's nodes (slurm/run-cluster) under TCG
# (tests/vm/RELEASES.md, "Emulation"). The CPU model is qemu64, the x86-64 baseline Debian builds for, not max:
# max adds 5-level paging, SMAP, PKU and AVX2, all slow to emulate (a probe VM booted and ran 15-30% faster
# with qemu64, 2026-12-07). tsc=reliable: qemu's TSC is one clock for all vCPUs, but Debian 12's kernel finds it
# unsynchronized and falls back to the HPET, which every clock_gettime() then reads through emulated I/O.
# shellcheck disable=SC2034 # used by the scripts that source this file
vm_tcg_cpu=${ANALYSIS_SANDBOX_VM_CPU:-qemu64}
vm_kernel_cmdline="root=LABEL=analysis-vm rw console=ttyS0 quiet panic=-1 systemd.unified_cgroup_hierarchy=1"
vm_kernel_cmdline+=" systemd.journald.forward_to_console=0 mitigations=off tsc=reliable"

# shellcheck source=../../tools/release-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/release-lib.sh"

# Runs COMMAND... for the build directory BUILD as on a host of the build's release: here, or in that
# release's tree (tools/release-env) for a build made there; BUILD and DIR (a destination) are visible to it.
in_build_env() {
    local build=$1 dir=$2 release
    shift 2
    release=$(build_release "$build")
    if [[ $release == "$(host_release)" ]]; then
        "$@"
    else
        "$(dirname "${BASH_SOURCE[0]}")/../../tools/release-env" "$release" --bind "$build" --bind "$dir" -- "$@"
    fi
}

# Installs the build into DEST as a package would put it on disk.
install_build() {
    local build=$1 dest=$2 no_build=$3 prefix
    mkdir -p "$dest"
    prefix=$(in_build_env "$build" "$dest" meson introspect --buildoptions "$build" |
        python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
    [[ $prefix == /usr ]] || die "$build is configured with prefix '$prefix'; the VM needs 'meson setup --prefix=/usr'"
    if [[ $no_build == 0 ]]; then
        in_build_env "$build" "$dest" meson compile -C "$build" >&2
    fi
    in_build_env "$build" "$dest" meson install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1 ||
        { cat "$dest.log" >&2; die "meson install failed"; }
}

# Prints the release a VM boots for BUILD (a meson build directory) or a .deb (when BUILD is empty):
# WANTED if given, else the build's own release (tools/release-lib.sh build_release), else
# $ANALYSIS_SANDBOX_VM_RELEASE, else this host's. A build cannot boot in another release's VM: its
# binaries are linked against that release's libraries.
vm_release() {
    local build=$1 wanted=$2 release
    if [[ -n $build ]]; then
        release=$(build_release "$build")
        if [[ -n $wanted && $wanted != "$release" ]]; then
            die "$build was built for ${release:-this host}, not $wanted: build it for $wanted (tools/release-build $wanted DIR)"
        fi
    else
        release=${wanted:-${ANALYSIS_SANDBOX_VM_RELEASE:-$(host_release)}}
    fi
    release_supported "$release" || die "no test VM for release '${release:-(this host is not Debian)}': use --release with one of ${supported_releases[*]}"
    echo "$release"
}

# Installs the Debian package DEB into the root tree TREE as an image builder would: dpkg -i in a
# chroot, so the maintainer scripts run (without systemd running and without /proc: the postinst must
# cope, and the boot's systemd-tmpfiles-setup makes what its tmpfiles step could not). dpkg, the
# scripts and the triggers rewrite files in /etc and /var in place (dpkg.log is appended to), and
# the tree is hard links into the cache: those directories get copies of their own first.
install_deb() {
    local deb=$1 tree=$2 log=$3 d name
    for d in etc var/lib/dpkg var/log var/cache; do
        cp -a "$tree/$d" "$tree/$d.unshared"
        rm -rf "${tree:?}/$d"
        mv "$tree/$d.unshared" "$tree/$d"
    done
    name=$(basename "$deb")
    cp "$deb" "$tree/tmp/$name"
    chroot "$tree" dpkg -i "/tmp/$name" >"$log" 2>&1 || { cat "$log" >&2; die "dpkg -i $name failed in the image"; }
    rm -f "$tree/tmp/$name"
    [[ $(chroot "$tree" dpkg-query -W -f='${Status}' analysis-sandbox) == "install ok installed" ]] ||
        { cat "$log" >&2; die "analysis-sandbox is not fully installed in the image (log above)"; }
}

# Lays out the per-run root tree: the cached image tree (hard links, so this takes no copy and
# no space), then the installed build (a destdir or a .deb) and the payload on top. tar replaces an
# existing file by unlinking it first, so the cache is never written through a link;
# --keep-directory-symlink follows the image's merged-/usr links (the host's pkg-config says
# /lib/systemd/...).
make_tree() {
    local rootfs=$1 install=$2 payload=$3 tree=$4
    cp -al "$rootfs" "$tree" 2>/dev/null || { rm -rf "$tree"; cp -a "$rootfs" "$tree"; }
    if [[ -f $install ]]; then
        install_deb "$install" "$tree" "$(dirname "$tree")/dpkg.log"
    else
        tar -C "$install" -cf - . | tar -C "$tree" -xf - --keep-directory-symlink
    fi
    rm -rf "$tree/usr/local/lib/analysis-vm/payload"
    cp -a "$payload" "$tree/usr/local/lib/analysis-vm/payload"
}

# Prints every test's outcome (RESULTS/SUITE.results, .status, .log, as tests/vm/e2e/run leaves them) and the failing suites' output; returns 1 if anything failed.
vm_report() {
    local results=$1
    shift
    local suite name status passed=0 failed=0 line n_ok n_bad n_run bad_suite
    echo "VM: $(grep -E '^(kernel|systemd|cgroupfs|boot)=' "$results/vm-info.txt" | paste -sd' ')"
    for suite in "$@"; do
        name=${suite%.sh}
        if [[ ! -f $results/$name.status ]]; then
            echo "FAIL $suite: no results (the suite did not run)"
            failed=$((failed + 1))
            continue
        fi
        status=$(cat "$results/$name.status")
        n_ok=0
        n_bad=0
        # Tests recorded in the suite's last run: one that reset the VM (lib.sh e2e_reset_host) ran again
        # from the start after the reset, and only that run's shunit2 got to say "Ran N tests".
        n_run=0
        while IFS= read -r line; do
            case $line in
                "ok "*)
                    echo "ok   $suite: ${line#ok }"
                    n_ok=$((n_ok + 1))
                    n_run=$((n_run + 1))
                    ;;
                "not ok "*)
                    echo "FAIL $suite: ${line#not ok }"
                    n_bad=$((n_bad + 1))
                    n_run=$((n_run + 1))
                    ;;
                "# hard reset "*)
                    echo "     $suite: ${line#\# }"
                    n_run=0
                    ;;
                "# "*)
                    echo "     $suite: ${line#\# }"
                    ;;
            esac
        done <"$results/$name.results"
        passed=$((passed + n_ok))
        failed=$((failed + n_bad))
        # A suite can also fail outside any test (oneTimeSetUp, a crash, its timeout), or run no test.
        bad_suite=0
        if [[ $status != 0 && $n_bad == 0 ]]; then
            echo "FAIL $suite: exited with status $status outside any test"
            bad_suite=1
        elif ((n_ok + n_bad == 0)); then
            echo "FAIL $suite: ran no test"
            bad_suite=1
        elif ! grep -q "^Ran $n_run tests\?\.$" "$results/$name.log"; then
            echo "FAIL $suite: recorded $n_run results but shunit2 reports otherwise"
            bad_suite=1
        fi
        failed=$((failed + bad_suite))
        if ((n_bad + bad_suite > 0)); then
            echo "---- output of $suite ----"
            cat "$results/$name.log"
            echo "---- end of $suite ----"
        fi
    done
    echo
    echo "vm: $passed passed, $failed failed"
    ((failed == 0))
}

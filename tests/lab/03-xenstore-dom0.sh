#!/bin/bash
# xenstore on the real dom0 xenstored: write, read, list, permissions, rm.
set -euo pipefail
# shellcheck source=lib.sh
. "$NXL_LAB_TESTS_DIR/lib.sh"

base=/tool/nxl-lab-$$
xenstore-rm "$base" 2>/dev/null || true

xenstore-write "$base/a" alpha "$base/dir/b" "beta gamma"
[ "$(xenstore-read "$base/a")" = alpha ] || die "read back a"
[ "$(xenstore-read "$base/dir/b")" = "beta gamma" ] || die "read back dir/b"
xenstore-exists "$base/dir" || die "parent dir not created"
kids=$(xenstore-list "$base" | sort | tr '\n' ' ')
[ "$kids" = "a dir " ] || die "list: '$kids'"

# Permissions: owner dom0, domain 5 may read; shown by xenstore-ls -p.
xenstore-chmod "$base/a" n0 r5
perms=$(xenstore-ls -p "$base" | grep '^a ')
say "perms: $perms"
case $perms in *"(n0,r5)"*) ;; *) die "permissions not set: $perms" ;; esac

# Overwrite, then remove a subtree and check that it is gone.
xenstore-write "$base/a" alpha2
[ "$(xenstore-read "$base/a")" = alpha2 ] || die "overwrite"
xenstore-rm "$base/dir"
if xenstore-exists "$base/dir/b" 2>/dev/null; then die "dir/b survived rm"; fi
xenstore-rm "$base"
if xenstore-exists "$base" 2>/dev/null; then die "$base survived rm"; fi
if xenstore-read "$base/a" 2>/dev/null; then die "read of removed key worked"; fi
say "xenstore ok"

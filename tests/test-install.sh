#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs the build into a temporary directory (meson install --destdir,
# from the existing build, without rebuilding) and checks what lands there:
#   - the plugin in <prefix>/<libdir>/gstreamer-1.0 (or, with
#     -Dinstall-to-gst-plugindir=true, in pkg-config's pluginsdir), exporting
#     only its gst_plugin_persiantranscribe_* entry points (nm -D), and
#     loadable: gst-inspect-1.0 lists its two elements from the installed
#     file;
#   - <prefix>/<bindir>/persian-transcribe, which runs (--version) from there;
#   - <prefix>/<mandir>/man1/persian-transcribe.1, rendered by man and by
#     groff without a single warning, with a NAME line whatis can read
#     (lexgrog), and found by `man -w persian-transcribe` under that prefix;
#   - no persiantranscribe-emulator unless -Dinstall-emulator=true.
#
#   tests/test-install.sh BUILDDIR
#
# Needs meson, python3 (reads the build's options), binutils (nm), man-db
# (man, lexgrog), groff-base (groff) and gstreamer1.0-tools (gst-inspect-1.0).
# Prints PASS/FAIL per check; exit 0 = all pass.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILDDIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-install.XXXXXX") || die "mktemp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
dest=$tmp/dest

# --- install -------------------------------------------------------------------
if meson install -C "$build" --no-rebuild --destdir "$dest" >"$tmp/install.log" 2>&1; then
  pass "meson install --destdir (no rebuild)"
else
  cat "$tmp/install.log"
  die "meson install failed"
fi
echo "installed:"
(cd "$dest" && find . -type f -o -type l | sort | sed 's|^\.|    |')

# The build's own settings: prefix, directories, the two install options.
meson introspect --buildoptions "$build" >"$tmp/options.json" || die "meson introspect --buildoptions"
opt() {
  python3 - "$tmp/options.json" "$1" <<'PY'
import json, sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == sys.argv[2]:
        v = o["value"]
        print(str(v).lower() if isinstance(v, bool) else v)
PY
}
prefix=$(opt prefix)
[ -n "$prefix" ] || die "no prefix in the build's options"
# a directory option is relative to the prefix unless absolute
under_prefix() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
libdir=$(under_prefix "$(opt libdir)")
bindir=$(under_prefix "$(opt bindir)")
mandir=$(under_prefix "$(opt mandir)")
echo "prefix $prefix, libdir $libdir, bindir $bindir, mandir $mandir," \
  "install-to-gst-plugindir=$(opt install-to-gst-plugindir), install-emulator=$(opt install-emulator)"

# --- the plugin ----------------------------------------------------------------
if [ "$(opt install-to-gst-plugindir)" = true ]; then
  plugindir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
  echo "note: this build has -Dinstall-to-gst-plugindir=true: the plugin goes to $plugindir, not under the prefix"
else
  plugindir=$libdir/gstreamer-1.0
fi
plugin=$dest$plugindir/libgstpersiantranscribe.so
if [ -f "$plugin" ]; then
  pass "plugin installed in $plugindir"
else
  fail "no plugin at $plugindir/libgstpersiantranscribe.so (in $dest)"
fi

if [ -f "$plugin" ]; then
  nm -D --defined-only "$plugin" | awk '{ print $NF }' >"$tmp/symbols"
  others=$(grep -v '^gst_plugin_persiantranscribe_' "$tmp/symbols")
  if [ -s "$tmp/symbols" ] && [ -z "$others" ]; then
    pass "the plugin exports only $(tr '\n' ' ' <"$tmp/symbols")"
  else
    fail "the plugin exports more than gst_plugin_persiantranscribe_*:"
    sed 's/^/    /' "$tmp/symbols"
  fi
  # loads from where it was installed, in a registry of its own
  if GST_REGISTRY_1_0="$tmp/registry.bin" GST_PLUGIN_PATH_1_0='' GST_PLUGIN_SYSTEM_PATH_1_0='' \
      gst-inspect-1.0 "$plugin" >"$tmp/inspect.out" 2>&1 &&
      grep -q 'persiantranscribe:' "$tmp/inspect.out" && grep -q 'harfsink:' "$tmp/inspect.out"; then
    pass "gst-inspect-1.0 loads the installed plugin: persiantranscribe and harfsink"
  else
    fail "gst-inspect-1.0 cannot load the installed plugin:"
    sed 's/^/    /' "$tmp/inspect.out"
  fi
fi

# --- the command ---------------------------------------------------------------
tool=$dest$bindir/persian-transcribe
if [ -x "$tool" ]; then
  pass "persian-transcribe installed in $bindir"
  if GST_REGISTRY_1_0="$tmp/registry.bin" GST_PLUGIN_PATH_1_0='' GST_PLUGIN_SYSTEM_PATH_1_0='' \
      "$tool" --version >"$tmp/version.out" 2>&1; then
    pass "the installed persian-transcribe runs: $(head -1 "$tmp/version.out")"
  else
    fail "the installed persian-transcribe --version failed:"
    sed 's/^/    /' "$tmp/version.out"
  fi
else
  fail "no executable persian-transcribe in $bindir (in $dest)"
fi

# --- the manual page -----------------------------------------------------------
page=$dest$mandir/man1/persian-transcribe.1
if [ -f "$page" ]; then
  pass "man page installed in $mandir/man1"
  # man in a UTF-8 locale (the page has Persian examples), all groff warnings
  if LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" >"$tmp/man.out" 2>"$tmp/man.err" &&
      [ ! -s "$tmp/man.err" ] && grep -q '^PERSIAN-TRANSCRIBE(1)' "$tmp/man.out" &&
      grep -q '^EXIT STATUS' "$tmp/man.out"; then
    pass "man -l renders it ($(wc -l <"$tmp/man.out") lines) without a warning"
  else
    fail "man -l: warnings or no page:"
    sed 's/^/    /' "$tmp/man.err"
    head -5 "$tmp/man.out" | sed 's/^/    /'
  fi
  if LC_ALL=C.UTF-8 groff -k -man -Tutf8 -ww -z "$page" >"$tmp/groff.err" 2>&1 && [ ! -s "$tmp/groff.err" ]; then
    pass "groff -man -ww -z: no warning"
  else
    fail "groff -man -ww -z warns:"
    sed 's/^/    /' "$tmp/groff.err"
  fi
  if lexgrog "$page" >"$tmp/lexgrog.out" 2>&1 &&
      grep -q '"persian-transcribe - transcribe ' "$tmp/lexgrog.out"; then
    pass "whatis line: $(sed 's/^[^"]*//' "$tmp/lexgrog.out")"
  else
    fail "lexgrog cannot read the NAME section:"
    sed 's/^/    /' "$tmp/lexgrog.out"
  fi
  # `man persian-transcribe` finds it under the installed prefix
  found=$(MANPATH="$dest$mandir" man -w persian-transcribe 2>&1)
  if [ "$found" = "$page" ]; then
    pass "man -w persian-transcribe finds it with MANPATH=$mandir (in $dest)"
  else
    fail "man -w persian-transcribe with MANPATH=$dest$mandir gave: $found"
  fi
else
  fail "no man page at $mandir/man1/persian-transcribe.1 (in $dest)"
fi

# --- nothing else ----------------------------------------------------------------
emulators=$(find "$dest" -name 'persiantranscribe-emulator*')
if [ "$(opt install-emulator)" = true ]; then
  if [ -n "$emulators" ]; then
    pass "emulator installed (-Dinstall-emulator=true): $emulators"
  else
    fail "-Dinstall-emulator=true but no persiantranscribe-emulator installed"
  fi
elif [ -z "$emulators" ]; then
  pass "the emulator is not installed (install-emulator=false)"
else
  fail "the emulator is installed although install-emulator=false: $emulators"
fi

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
exit 0

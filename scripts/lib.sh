# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by scripts/demo and scripts/test: install what is missing, build.
# shellcheck shell=bash

# Debian 12 packages the build, the tests and the demo need.
PT_PACKAGES=(
  meson ninja-build pkg-config g++
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev   # GStreamer core, base, audio, check
  libsoup-3.0-dev libjson-glib-dev                       # WebSocket/HTTP client and server, JSON
  gstreamer1.0-tools                                     # gst-launch-1.0, gst-inspect-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good    # audiotestsrc, videotestsrc, wavparse, pngenc
  gstreamer1.0-plugins-bad                               # srtenc, webvttenc
  gstreamer1.0-x                                         # textoverlay (the pango plugin)
  fonts-noto-core                                        # Persian glyphs for textoverlay
  python3 python3-gi gir1.2-gstreamer-1.0 python3-gst-1.0   # the Python example and its test
  gir1.2-pango-1.0                                       # test-cli: lays subtitle lines out with Pango
  valgrind                                               # the leak test under valgrind
  man-db                                                 # man and groff for the install test (nm: binutils, from g++)
  clang libclang-rt-14-dev                               # scripts/fuzz: clang with libFuzzer and its sanitizer runtimes
  llvm                                                   # llvm-symbolizer: sanitizer reports with function names and lines
)

pt_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

pt_ensure_packages() {
  local missing=()
  for p in "${PT_PACKAGES[@]}"; do
    [[ $p == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo ">> installing missing Debian packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# pt_build BUILDDIR [meson options...]
pt_build() {
  local dir=$1
  shift
  if [[ ! -f $dir/build.ninja ]]; then
    meson setup "$dir" "$@"
  else
    meson configure "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir"
}

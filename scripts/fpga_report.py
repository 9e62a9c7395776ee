#!/usr/bin/env python3
"""Reports of the board flows (synth/fpga.sh).

    fpga_report.py fit <ice40|ecp5> <stat.json>
        Exits 1, listing each resource over the device's capacity, when Yosys's cell counts
        cannot fit (checked before place and route, which would take long to say the same);
        --packed N adds the iCE40 logic cells nextpnr packs the netlist into.
    fpga_report.py summary --board B ... --out summary.json
        Utilization per resource type and maximum frequency per clock from nextpnr's JSON
        report, the critical path of each clock, the run time of each step. Exits 1 when a
        clock misses its target (the summary is written anyway).
    fpga_report.py doc <docs/fpga.md> <summary.json>...
        Rewrites the generated section of docs/fpga.md from the summaries.
"""
import argparse
import json
import re
import sys

# Capacity per Yosys cell type (iCE40 UltraPlus and ECP5 datasheets). LUTs and flip-flops
# share logic cells on iCE40 (one LUT4 and one FF per cell); carries ride along with a LUT.
CAPACITY = {
    "ice40": {"SB_LUT4": 5280, "FF": 5280, "SB_MAC16": 8, "SB_RAM40_4K": 30, "SB_SPRAM256KA": 4,
              "SB_PLL40_PAD": 1},
    "ecp5": {"LUT4": 83640, "FF": 83640, "MULT18X18D": 156, "DP16KD": 208, "EHXPLLL": 4},
}
# Logic cells after nextpnr's packing (iCE40): a flip-flop or carry that cannot share a LUT's
# cell takes a cell of its own, so this, not SB_LUT4, is what has to fit.
PACKED = {"ice40": ("ICESTORM_LC (packed)", 5280)}
FF_PREFIX = {"ice40": "SB_DFF", "ecp5": "TRELLIS_FF"}


def capacity(family, counts):
    """The device's capacity per counted resource (with the packed cells when counted)."""
    cap = dict(CAPACITY[family])
    if family in PACKED and PACKED[family][0] in counts:
        cap[PACKED[family][0]] = PACKED[family][1]
    return cap
# nextpnr's names for the resources shown in the summary, in this order.
PNR_RESOURCES = {
    "ice40": ["ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_DSP", "ICESTORM_SPRAM", "ICESTORM_PLL", "SB_IO", "SB_GB"],
    "ecp5": ["TRELLIS_COMB", "TRELLIS_FF", "TRELLIS_RAMW", "DP16KD", "MULT18X18D", "ALU54B", "EHXPLLL",
             "TRELLIS_IO", "DCCA"],
}


def top_cells(stat):
    mods = stat["modules"]
    name = next(k for k in mods if k.startswith("\\ks_top_") or k.startswith("ks_top_"))
    return mods[name]["num_cells_by_type"]


def yosys_counts(family, stat):
    cells = top_cells(stat)
    counts = {}
    for cell, n in cells.items():
        key = "FF" if cell.startswith(FF_PREFIX[family]) else cell
        counts[key] = counts.get(key, 0) + n
    return counts


def cmd_fit(args):
    stat = json.load(open(args.stat))
    counts = yosys_counts(args.family, stat)
    if args.packed:
        counts[PACKED[args.family][0]] = int(args.packed)
    over = []
    for res, cap in capacity(args.family, counts).items():
        used = counts.get(res, 0)
        line = f"  {res:14s} {used:7d} of {cap:6d} ({100.0 * used / cap:5.1f}%)"
        print(line)
        if used > cap:
            over.append(line)
    if over:
        print("does not fit: " + ", ".join(l.split()[0] for l in over), file=sys.stderr)
        if args.out:
            summary = {"board": args.board, "device": args.device, "config": args.config,
                       "family": args.family, "target_mhz": float(args.target), "fits": False,
                       "synthesis_cells": counts,
                       "over": {r: {"used": counts.get(r, 0), "available": c}
                                for r, c in capacity(args.family, counts).items() if counts.get(r, 0) > c}}
            with open(args.out, "w") as f:
                json.dump(summary, f, indent=2)
                f.write("\n")
        return 1
    return 0


def critical_path(path):
    """Total delay, logic levels and the first and last cells of one critical path."""
    total = sum(step.get("delay", 0.0) for step in path)
    logic = sum(1 for step in path if step.get("type") == "logic")
    cells = [step["from"]["cell"] for step in path if "from" in step] + \
            [step["to"]["cell"] for step in path if "to" in step]
    return {"delay_ns": round(total, 3), "logic_levels": logic,
            "from": cells[0] if cells else "", "to": cells[-1] if cells else "",
            "through": sorted({block_of(c) for c in cells})}


def block_of(cell):
    """u_soc.u_core.u_cmdproc.x_q_DFF -> u_soc.u_core.u_cmdproc (the RTL instance path)."""
    parts = re.split(r"[./]", cell)
    inst = [p for p in parts if p.startswith("u_")]
    return ".".join(inst) if inst else "(top)"


def cmd_summary(args):
    report = json.load(open(args.report))
    stat = json.load(open(args.stat))
    util = {}
    for res in PNR_RESOURCES[args.family]:
        if res in report.get("utilization", {}):
            u = report["utilization"][res]
            util[res] = {"used": u["used"], "available": u["available"]}
    clocks = {}
    for clk, f in report.get("fmax", {}).items():
        clocks[clk] = {"fmax_mhz": round(f["achieved"], 2), "target_mhz": round(f["constraint"], 2)}
    paths = []
    for p in report.get("critical_paths", []):
        cp = critical_path(p.get("path", []))
        cp["clock"] = p.get("from", "") + (" -> " + p["to"] if p.get("to") != p.get("from") else "")
        paths.append(cp)
    times = dict(t.split("=", 1) for t in args.times)
    summary = {
        "board": args.board, "device": args.device, "config": args.config, "family": args.family,
        "target_mhz": float(args.target), "pll": args.pll,
        "synthesis_cells": yosys_counts(args.family, stat),
        "utilization": util, "clocks": clocks, "critical_paths": paths,
        "seconds": {k: float(v) for k, v in times.items()}, "fits": True,
    }
    missed = [c for c, f in clocks.items() if f["fmax_mhz"] < f["target_mhz"]]
    summary["timing_met"] = not missed
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    for res, u in util.items():
        print(f"  {res:14s} {u['used']:7d} of {u['available']:6d} ({100.0 * u['used'] / max(u['available'], 1):5.1f}%)")
    for clk, f in clocks.items():
        print(f"  clock {clk}: {f['fmax_mhz']:.2f} MHz (target {f['target_mhz']:.2f})")
    for p in paths:
        print(f"  critical path {p['clock']}: {p['delay_ns']} ns, {p['logic_levels']} logic levels, "
              f"{p['from']} -> {p['to']}")
    if missed:
        print("timing not met: " + ", ".join(f"{c} reaches {clocks[c]['fmax_mhz']:.2f} MHz < "
                                             f"{clocks[c]['target_mhz']:.2f} MHz" for c in missed),
              file=sys.stderr)
        return 1
    return 0


BEGIN = "<!-- BEGIN generated by scripts/fpga_report.py from build/fpga/*/summary.json; do not edit -->"
END = "<!-- END generated -->"


def render(s):
    lines = [f"### {s['board']}: {s['device']}, configuration `{s['config']}`", ""]
    if not s.get("fits", True):
        lines.append("**Does not fit**: synthesis needs more than the device has (bold); no place and route.")
        lines += ["", "| resource (Yosys cells) | needed | available | % |", "|---|---|---|---|"]
        cells = s["synthesis_cells"]
        for res, cap in capacity(s["family"], cells).items():
            used = cells.get(res, 0)
            mark = "**" if used > cap else ""
            lines.append(f"| {mark}{res}{mark} | {mark}{used}{mark} | {cap} | {100.0 * used / cap:.1f} |")
        for res in ("SB_CARRY", "CCU2C"):
            if res in cells:
                lines.append(f"| {res} (carry, with the LUTs) | {cells[res]} | | |")
        lines.append("")
        return lines
    lines.append(f"PLL: {s['pll']}. Run time: " + ", ".join(
        f"{k.replace('_', ' ')} {v:.0f} s" for k, v in s["seconds"].items()) + ".")
    lines.append("")
    lines += ["| clock | Fmax (MHz) | target (MHz) | met |", "|---|---|---|---|"]
    for clk, f in s["clocks"].items():
        lines.append(f"| `{clk}` | {f['fmax_mhz']:.2f} | {f['target_mhz']:.2f} | "
                     f"{'yes' if f['fmax_mhz'] >= f['target_mhz'] else '**no**'} |")
    lines += ["", "| resource (nextpnr) | used | available | % |", "|---|---|---|---|"]
    for res, u in s["utilization"].items():
        lines.append(f"| {res} | {u['used']} | {u['available']} | {100.0 * u['used'] / max(u['available'], 1):.1f} |")
    lines.append("")
    for p in s["critical_paths"]:
        lines.append(f"Critical path ({p['clock']}): {p['delay_ns']} ns, {p['logic_levels']} logic levels, "
                     f"from `{p['from']}` to `{p['to']}`, through " +
                     ", ".join(f"`{b}`" for b in p["through"]) + ".")
        lines.append("")
    return lines


def cmd_doc(args):
    """Rewrites the sections of the boards given; the other boards' sections stay as they were
    (a board whose flow was not rerun keeps its last report)."""
    text = open(args.doc).read()
    if BEGIN not in text or END not in text:
        print(f"{args.doc}: no generated section (markers missing)", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    old, tail = rest.split(END, 1)
    sections = {}   # board -> its lines, in the document's order
    board = None
    for line in old.strip("\n").split("\n"):
        if line.startswith("### "):
            board = line[4:].split(":", 1)[0]
            sections[board] = []
        if board is not None:
            sections[board].append(line)
    for path in args.summaries:
        s = json.load(open(path))
        sections[s["board"]] = render(s)
    body = []
    for lines in sections.values():
        body += [l for l in lines]
        while body and body[-1] == "":
            body.pop()
        body.append("")
    with open(args.doc, "w") as f:
        f.write(head + BEGIN + "\n\n" + "\n".join(body).rstrip() + "\n\n" + END + tail)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("family", choices=CAPACITY)
    f.add_argument("stat")
    for a in ("board", "device", "config", "target", "out"):
        f.add_argument("--" + a, default="")
    f.add_argument("--packed", default="", help="iCE40: logic cells after nextpnr --pack-only")
    s = sub.add_parser("summary")
    for a in ("board", "device", "config", "target", "pll", "stat", "report", "log", "out"):
        s.add_argument("--" + a, required=True)
    s.add_argument("--family", choices=CAPACITY, required=True)
    s.add_argument("--times", nargs="*", default=[])
    d = sub.add_parser("doc")
    d.add_argument("doc")
    d.add_argument("summaries", nargs="+")
    args = ap.parse_args()
    return {"fit": cmd_fit, "summary": cmd_summary, "doc": cmd_doc}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

/// iCE40 core clock: the SB_PLL40_PAD on the oscillator's pin, simple feedback,
/// fout = fin * (Divf + 1) / ((Divr + 1) * 2^Divq) (settings from synth/pll.py). The output
/// drives a global buffer; locked_o goes high once the PLL has locked. Synthesis only.
module ks_pll_ice40 #(
  parameter int unsigned Divr        = 0,
  parameter int unsigned Divf        = 52,
  parameter int unsigned Divq        = 4,
  parameter int unsigned FilterRange = 1
) (
  input  logic pad_i,       // the oscillator's package pin
  output logic clk_o,
  output logic locked_o
);
  SB_PLL40_PAD #(
    .FEEDBACK_PATH("SIMPLE"),
    .DIVR(4'(Divr)),
    .DIVF(7'(Divf)),
    .DIVQ(3'(Divq)),
    .FILTER_RANGE(3'(FilterRange))
  ) u_pll (
    .PACKAGEPIN(pad_i),
    .PLLOUTCORE(),
    .PLLOUTGLOBAL(clk_o),
    .EXTFEEDBACK(1'b0),
    .DYNAMICDELAY(8'd0),
    .LOCK(locked_o),
    .BYPASS(1'b0),
    .RESETB(1'b1),
    .LATCHINPUTVALUE(1'b0),
    .SDI(1'b0),
    .SDO(),
    .SCLK(1'b0)
  );
endmodule

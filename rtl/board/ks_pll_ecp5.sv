/// ECP5 core clock: an EHXPLLL with CLKOP as its own feedback,
/// fout = fin * ClkfbDiv / ClkiDiv, VCO = fout * ClkopDiv (settings from synth/pll.py).
/// locked_o goes high once the PLL has locked. Synthesis only.
module ks_pll_ecp5 #(
  parameter int unsigned ClkiDiv    = 1,
  parameter int unsigned ClkfbDiv   = 6,
  parameter int unsigned ClkopDiv   = 4,
  parameter int unsigned ClkopCphase = 2
) (
  input  logic clk_i,
  output logic clk_o,
  output logic locked_o
);
  logic clkop;
  EHXPLLL #(
    .PLLRST_ENA("DISABLED"),
    .INTFB_WAKE("DISABLED"),
    .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"),
    .OUTDIVIDER_MUXA("DIVA"),
    .OUTDIVIDER_MUXB("DIVB"),
    .OUTDIVIDER_MUXC("DIVC"),
    .OUTDIVIDER_MUXD("DIVD"),
    .CLKI_DIV(ClkiDiv),
    .CLKOP_ENABLE("ENABLED"),
    .CLKOP_DIV(ClkopDiv),
    .CLKOP_CPHASE(ClkopCphase),
    .CLKOP_FPHASE(0),
    .FEEDBK_PATH("CLKOP"),
    .CLKFB_DIV(ClkfbDiv)
  ) u_pll (
    .RST(1'b0),
    .STDBY(1'b0),
    .CLKI(clk_i),
    .CLKOP(clkop),
    .CLKOS(),
    .CLKOS2(),
    .CLKOS3(),
    .CLKFB(clkop),
    .CLKINTFB(),
    .PHASESEL0(1'b0),
    .PHASESEL1(1'b0),
    .PHASEDIR(1'b1),
    .PHASESTEP(1'b1),
    .PHASELOADREG(1'b1),
    .PLLWAKESYNC(1'b0),
    .ENCLKOP(1'b0),
    .ENCLKOS(1'b0),
    .ENCLKOS2(1'b0),
    .ENCLKOS3(1'b0),
    .LOCK(locked_o),
    .INTLOCK(),
    .REFCLK()
  );
  assign clk_o = clkop;
endmodule

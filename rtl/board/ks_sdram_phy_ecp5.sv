/// The SDRAM pins on the ECP5 (ULX3S): ks_sdram_phy built from the I/O cells' own registers,
/// so every output leaves and DQ arrives through a flip-flop in the pin's IOLOGIC (OFS1P3BX /
/// OFS1P3DX out, IFS1P3DX in, the tristate enable likewise) with the same delay on every pin.
/// The SDRAM clock is forwarded through an ODDRX1F (D0 = 0, D1 = 1): the inverse of clk_i,
/// leaving through the same kind of I/O cell as the signals it samples, so the SDRAM takes
/// each command, address and write word half a clock after it changes (setup and hold of
/// about half a period each, minus the pins' skew). Read data, valid from tAC after one SDRAM
/// clock to tOH after the next, is taken by clk_i's rising edge CasLatency + 1 cycles after the
/// command left (docs/fpga.md has the budget). Control outputs come up from configuration as
/// INHIBIT with the data masked and the bus released (the register's GSR value), then follow
/// the controller, which resets them the same way. Synthesis only: the simulated boards use
/// ks_sdram_phy.
module ks_sdram_phy_ecp5 (
  input  logic        clk_i,
  // from and to the controller
  input  logic        cke_i,
  input  logic        cs_n_i,
  input  logic        ras_n_i,
  input  logic        cas_n_i,
  input  logic        we_n_i,
  input  logic [1:0]  ba_i,
  input  logic [12:0] a_i,
  input  logic [1:0]  dqm_i,
  input  logic [15:0] dq_i,
  input  logic        dq_oe_i,
  output logic [15:0] dq_o,
  // pins
  output logic        sdram_clk_o,
  output logic        sdram_cke_o,
  output logic        sdram_csn_o,
  output logic        sdram_rasn_o,
  output logic        sdram_casn_o,
  output logic        sdram_wen_o,
  output logic [1:0]  sdram_ba_o,
  output logic [12:0] sdram_a_o,
  output logic [1:0]  sdram_dqm_o,
  inout  wire  [15:0] sdram_d_io
);
  ODDRX1F u_clk (.SCLK(clk_i), .RST(1'b0), .D0(1'b0), .D1(1'b1), .Q(sdram_clk_o));

  // Registers that come up high (GSR sets them): the active-low command lines and DQM.
  OFS1P3BX u_csn  (.SCLK(clk_i), .SP(1'b1), .PD(1'b0), .D(cs_n_i),  .Q(sdram_csn_o));
  OFS1P3BX u_rasn (.SCLK(clk_i), .SP(1'b1), .PD(1'b0), .D(ras_n_i), .Q(sdram_rasn_o));
  OFS1P3BX u_casn (.SCLK(clk_i), .SP(1'b1), .PD(1'b0), .D(cas_n_i), .Q(sdram_casn_o));
  OFS1P3BX u_wen  (.SCLK(clk_i), .SP(1'b1), .PD(1'b0), .D(we_n_i),  .Q(sdram_wen_o));
  OFS1P3DX u_cke  (.SCLK(clk_i), .SP(1'b1), .CD(1'b0), .D(cke_i),   .Q(sdram_cke_o));
  for (genvar i = 0; i < 2; i++) begin : g_bank
    OFS1P3DX u_ba  (.SCLK(clk_i), .SP(1'b1), .CD(1'b0), .D(ba_i[i]),  .Q(sdram_ba_o[i]));
    OFS1P3BX u_dqm (.SCLK(clk_i), .SP(1'b1), .PD(1'b0), .D(dqm_i[i]), .Q(sdram_dqm_o[i]));
  end
  for (genvar i = 0; i < 13; i++) begin : g_addr
    OFS1P3DX u_a (.SCLK(clk_i), .SP(1'b1), .CD(1'b0), .D(a_i[i]), .Q(sdram_a_o[i]));
  end
  // DQ: output and tristate registers (T high: released; it comes up released), input register.
  for (genvar i = 0; i < 16; i++) begin : g_dq
    logic d_q, t_q, pad_in;
    OFS1P3DX u_do (.SCLK(clk_i), .SP(1'b1), .CD(1'b0), .D(dq_i[i]),  .Q(d_q));
    OFS1P3BX u_t  (.SCLK(clk_i), .SP(1'b1), .PD(1'b0), .D(!dq_oe_i), .Q(t_q));
    BB       u_io (.I(d_q), .T(t_q), .O(pad_in), .B(sdram_d_io[i]));
    IFS1P3DX u_di (.SCLK(clk_i), .SP(1'b1), .CD(1'b0), .D(pad_in), .Q(dq_o[i]));
  end
endmodule

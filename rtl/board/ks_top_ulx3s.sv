/// ULX3S (ECP5 LFE5U-85F) board top: the `ecp5` configuration of the core in ks_board_soc,
/// device memory in the board's 32 MiB SDR SDRAM at 0x1000_0000 (ks_sdram_mem through the I/O
/// registers of ks_sdram_phy_ecp5, clocked by the core clock, its clock forwarded inverted;
/// UseSdram = 0 puts MemBytes of block RAM there instead), the core clock from the 25 MHz
/// oscillator through the PLL, reset from PLL lock and the PWR button (btn_i[0], low when
/// pressed), the host link on the FT231X (the board's USB serial port). Pins:
/// constraints/ulx3s.lpf. ClkKhz is the PLL's output (the SDRAM timings are counted in it).
/// LEDs: 0 interrupt line, 1 bus activity, 7 out of reset. wifi_gpio0 is held high so the
/// ESP32 leaves the FPGA alone. PLL and baud settings are set by the flow (synth/fpga.sh).
/// WithCore = 0 is the link bring-up image (`make bitstream BOARD=ulx3s-link`): the host link
/// and the device memory without the core, which does not fit the 85F yet (docs/fpga.md).
module ks_top_ulx3s #(
  parameter int unsigned PllClkiDiv     = 1,
  parameter int unsigned PllClkfbDiv    = 6,
  parameter int unsigned PllClkopDiv    = 4,
  parameter int unsigned PllClkopCphase = 2,
  parameter int unsigned ClkPerBit      = 1302,       // 150 MHz / 115200 baud
  parameter int unsigned IdleCycles     = 1 << 24,    // ~110 ms
  parameter int unsigned ClkKhz         = 150000,
  parameter bit          UseSdram       = 1'b1,
  parameter int unsigned SdramCl        = 3,
  // 32 MiB of SDRAM; without it 16 KiB in 8 DP16KD (the core leaves 9 of 208)
  parameter int unsigned MemBytes       = UseSdram ? 32 * 1024 * 1024 : 16384,
  parameter bit          WithCore       = 1'b1
) (
  input  logic        clk_25mhz_i,
  input  logic [6:0]  btn_i,
  input  logic        ftdi_txd_i,
  output logic        ftdi_rxd_o,
  output logic [7:0]  led_o,
  output logic        wifi_gpio0_o,
  // SDRAM
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
  logic clk, locked, rst_n, irq, busy;
  ks_pll_ecp5 #(
    .ClkiDiv(PllClkiDiv), .ClkfbDiv(PllClkfbDiv), .ClkopDiv(PllClkopDiv), .ClkopCphase(PllClkopCphase)
  ) u_pll (.clk_i(clk_25mhz_i), .clk_o(clk), .locked_o(locked));
  ks_reset_sync u_rst (.clk_i(clk), .locked_i(locked), .button_ni(btn_i[0]), .rst_no(rst_n));

  logic        sd_cke, sd_cs_n, sd_ras_n, sd_cas_n, sd_we_n, sd_dq_oe;
  logic [1:0]  sd_ba, sd_dqm;
  logic [12:0] sd_a;
  logic [15:0] sd_dq_out, sd_dq_in;
  ks_board_soc_ecp5 #(
    .MemBytes(MemBytes), .MemBase(32'h1000_0000), .ClkPerBit(ClkPerBit), .IdleCycles(IdleCycles),
    .TokDepth(32), .WithCore(WithCore), .UseSdram(UseSdram), .SdramClkKhz(ClkKhz), .SdramCl(SdramCl)
  ) u_soc (
    .clk_i(clk), .rst_ni(rst_n), .uart_rx_i(ftdi_txd_i), .uart_tx_o(ftdi_rxd_o), .irq_o(irq),
    .busy_o(busy),
    .sdram_cke_o(sd_cke), .sdram_cs_n_o(sd_cs_n), .sdram_ras_n_o(sd_ras_n), .sdram_cas_n_o(sd_cas_n),
    .sdram_we_n_o(sd_we_n), .sdram_ba_o(sd_ba), .sdram_a_o(sd_a), .sdram_dqm_o(sd_dqm),
    .sdram_dq_o(sd_dq_out), .sdram_dq_oe_o(sd_dq_oe), .sdram_dq_i(sd_dq_in)
  );
  // Without the SDRAM its pins stay inactive all the same (INHIBIT, masked, bus released).
  ks_sdram_phy_ecp5 u_sdram_phy (
    .clk_i(clk),
    .cke_i(sd_cke), .cs_n_i(sd_cs_n), .ras_n_i(sd_ras_n), .cas_n_i(sd_cas_n), .we_n_i(sd_we_n),
    .ba_i(sd_ba), .a_i(sd_a), .dqm_i(sd_dqm), .dq_i(sd_dq_out), .dq_oe_i(sd_dq_oe), .dq_o(sd_dq_in),
    .sdram_clk_o, .sdram_cke_o, .sdram_csn_o, .sdram_rasn_o, .sdram_casn_o, .sdram_wen_o,
    .sdram_ba_o, .sdram_a_o, .sdram_dqm_o, .sdram_d_io
  );

  logic [23:0] seen_q;
  always_ff @(posedge clk) seen_q <= busy ? '1 : (seen_q != '0 ? seen_q - 1'b1 : seen_q);
  assign led_o        = {rst_n, 5'd0, seen_q != '0, irq};
  assign wifi_gpio0_o = 1'b1;
endmodule

/// ULX3S (ECP5 LFE5U-85F) board top: the `ecp5` configuration of the core in ks_board_soc,
/// device memory in block RAM (MemBytes), the core clock from the 25 MHz oscillator through
/// the PLL, reset from PLL lock and the PWR button (btn_i[0], low when pressed), the host
/// link on the FT231X (the board's USB serial port). Pins: constraints/ulx3s.lpf.
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
  parameter int unsigned MemBytes       = 16384,      // 8 DP16KD: the core leaves 9 of 208
  parameter bit          WithCore       = 1'b1
) (
  input  logic       clk_25mhz_i,
  input  logic [6:0] btn_i,
  input  logic       ftdi_txd_i,
  output logic       ftdi_rxd_o,
  output logic [7:0] led_o,
  output logic       wifi_gpio0_o
);
  logic clk, locked, rst_n, irq, busy;
  ks_pll_ecp5 #(
    .ClkiDiv(PllClkiDiv), .ClkfbDiv(PllClkfbDiv), .ClkopDiv(PllClkopDiv), .ClkopCphase(PllClkopCphase)
  ) u_pll (.clk_i(clk_25mhz_i), .clk_o(clk), .locked_o(locked));
  ks_reset_sync u_rst (.clk_i(clk), .locked_i(locked), .button_ni(btn_i[0]), .rst_no(rst_n));

  ks_board_soc_ecp5 #(
    .MemBytes(MemBytes), .MemBase(32'h1000_0000), .ClkPerBit(ClkPerBit), .IdleCycles(IdleCycles),
    .TokDepth(32), .WithCore(WithCore)
  ) u_soc (
    .clk_i(clk), .rst_ni(rst_n), .uart_rx_i(ftdi_txd_i), .uart_tx_o(ftdi_rxd_o), .irq_o(irq),
    .busy_o(busy)
  );

  logic [23:0] seen_q;
  always_ff @(posedge clk) seen_q <= busy ? '1 : (seen_q != '0 ? seen_q - 1'b1 : seen_q);
  assign led_o        = {rst_n, 5'd0, seen_q != '0, irq};
  assign wifi_gpio0_o = 1'b1;
endmodule

/// iCEBreaker (iCE40 UP5K) board top: the `up5k` configuration of the core in ks_board_soc,
/// device memory in the four SPRAMs (128 KiB), the core clock from the 12 MHz oscillator
/// through the PLL, reset from PLL lock and the user button, the host link on the FTDI's
/// second channel (the board's USB serial port). Pins: constraints/icebreaker.pcf.
/// Red LED: interrupt line; green LED: bus activity. PLL and baud settings are set by the flow
/// (synth/fpga.sh) from the configuration's target clock. WithCore = 0 is the link bring-up
/// image (`make bitstream BOARD=icebreaker-link`): the host link and the SPRAM device memory
/// without the core, which does not fit the UP5K yet (docs/fpga.md).
module ks_top_icebreaker #(
  parameter int unsigned PllDivr        = 0,
  parameter int unsigned PllDivf        = 52,
  parameter int unsigned PllDivq        = 4,
  parameter int unsigned PllFilterRange = 1,
  parameter int unsigned ClkPerBit      = 345,        // 39.75 MHz / 115200 baud
  parameter int unsigned IdleCycles     = 1 << 22,    // ~100 ms: a request's bytes came apart
  parameter bit          WithCore       = 1'b1
) (
  input  logic clk_12m_i,
  input  logic btn_ni,
  input  logic uart_rx_i,
  output logic uart_tx_o,
  output logic led_red_no,
  output logic led_green_no
);
  logic clk, locked, rst_n, irq, busy;
  ks_pll_ice40 #(.Divr(PllDivr), .Divf(PllDivf), .Divq(PllDivq), .FilterRange(PllFilterRange)) u_pll (
    .pad_i(clk_12m_i), .clk_o(clk), .locked_o(locked)
  );
  ks_reset_sync u_rst (.clk_i(clk), .locked_i(locked), .button_ni(btn_ni), .rst_no(rst_n));

  ks_board_soc_up5k #(
    .MemBytes(131072), .MemBase(32'h0002_0000), .ClkPerBit(ClkPerBit), .IdleCycles(IdleCycles),
    .TokDepth(4), .WithCore(WithCore)
  ) u_soc (
    .clk_i(clk), .rst_ni(rst_n), .uart_rx_i, .uart_tx_o, .irq_o(irq), .busy_o(busy),
    // no SDRAM on this board: device memory in SPRAM
    .sdram_cke_o(), .sdram_cs_n_o(), .sdram_ras_n_o(), .sdram_cas_n_o(), .sdram_we_n_o(),
    .sdram_ba_o(), .sdram_a_o(), .sdram_dqm_o(), .sdram_dq_o(), .sdram_dq_oe_o(), .sdram_dq_i(16'd0)
  );

  // LEDs are active low. Green toggles as each stretch of bus activity starts: it glows while
  // the core moves data and a single transfer leaves it changed (a stretch counter long enough
  // to see took 40 of the UP5K's logic cells).
  logic busy_q, green_q;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      busy_q  <= 1'b0;
      green_q <= 1'b0;
    end else begin
      busy_q <= busy;
      if (busy && !busy_q) green_q <= !green_q;
    end
  end
  assign led_red_no   = !irq;
  assign led_green_no = !green_q;
endmodule

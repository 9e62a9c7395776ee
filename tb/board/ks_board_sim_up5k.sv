/// Test top: ks_board_soc as ks_top_icebreaker builds it (the `up5k` configuration, 131072 bytes of
/// device memory at 0x1000_0000, 4 token FIFO entries) but with the UART at 4 clocks per
/// bit and a 20000-cycle quiet period, so the serial backend's tests run quickly. Its clock
/// and reset come straight from the testbench.
module ks_board_sim_up5k (
  input  logic clk_i,
  input  logic rst_ni,
  input  logic uart_rx_i,
  output logic uart_tx_o,
  output logic irq_o,
  output logic busy_o
);
  ks_board_soc_up5k #(
    .MemBytes(131072), .MemBase(32'h0002_0000), .ClkPerBit(4), .IdleCycles(20000), .TokDepth(4)
  ) u_soc (
    .clk_i, .rst_ni, .uart_rx_i, .uart_tx_o, .irq_o, .busy_o,
    .sdram_cke_o(), .sdram_cs_n_o(), .sdram_ras_n_o(), .sdram_cas_n_o(), .sdram_we_n_o(),
    .sdram_ba_o(), .sdram_a_o(), .sdram_dqm_o(), .sdram_dq_o(), .sdram_dq_oe_o(), .sdram_dq_i(16'd0)
  );
endmodule

/// Test top: ks_board_soc as ks_top_ulx3s builds it (the `ecp5` configuration, 16384 bytes of
/// device memory at 0x1000_0000, 32 token FIFO entries) but with the UART at 4 clocks per
/// bit and a 20000-cycle quiet period, so the serial backend's tests run quickly. Its clock
/// and reset come straight from the testbench.
module ks_board_sim_ecp5 (
  input  logic clk_i,
  input  logic rst_ni,
  input  logic uart_rx_i,
  output logic uart_tx_o,
  output logic irq_o,
  output logic busy_o
);
  ks_board_soc_ecp5 #(
    .MemBytes(16384), .MemBase(32'h1000_0000), .ClkPerBit(4), .IdleCycles(20000), .TokDepth(32)
  ) u_soc (.clk_i, .rst_ni, .uart_rx_i, .uart_tx_o, .irq_o, .busy_o);
endmodule

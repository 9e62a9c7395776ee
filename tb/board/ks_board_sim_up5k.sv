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
  ks_board_soc #(
    .Rows(ks_cfg_pkg::Up5kArrayRows), .Cols(ks_cfg_pkg::Up5kArrayCols),
    .AccDepth(ks_cfg_pkg::Up5kAccDepth), .FifoDepth(ks_cfg_pkg::Up5kOutFifoDepth),
    .AxiBytes(ks_cfg_pkg::Up5kAxiDataBytes), .DmaMaxReads(ks_cfg_pkg::Up5kDmaMaxReads),
    .MaxBurst(ks_cfg_pkg::Up5kMaxBurstBeats), .WgtBytes(ks_cfg_pkg::Up5kWgtBankBytes),
    .ActBytes(ks_cfg_pkg::Up5kActBankBytes), .AccBytes(ks_cfg_pkg::Up5kAccBankBytes),
    .KvBytes(ks_cfg_pkg::Up5kKvBankBytes), .VecLanes(ks_cfg_pkg::Up5kVecLanes),
    .VecRows(ks_cfg_pkg::Up5kVecRows), .WgtWordBytes(ks_cfg_pkg::Up5kWgtWordBytes),
    .ActWordBytes(ks_cfg_pkg::Up5kActWordBytes), .AccWordBytes(ks_cfg_pkg::Up5kAccWordBytes),
    .MemBytes(131072), .MemBase(32'h1000_0000), .ClkPerBit(4), .IdleCycles(20000), .TokDepth(4)
  ) u_soc (.clk_i, .rst_ni, .uart_rx_i, .uart_tx_o, .irq_o, .busy_o);
endmodule

/// Test top: ks_board_soc as ks_top_ulx3s builds it (the `ecp5` configuration, the 32 MiB SDRAM
/// at 0x1000_0000 as device memory behind the I/O registers of ks_sdram_phy, 32 token FIFO
/// entries) but with the UART at 4 clocks per bit and a 20000-cycle quiet period, so the serial
/// backend's tests run quickly. The SDRAM's timings are counted at 150 MHz (the configuration's
/// target clock). Its clock and reset come straight from the testbench, and the SDRAM pins go
/// to the testbench's SDRAM model (tb/board/sdram_model.h): sdram_dq_o/sdram_dq_oe_o is what the
/// FPGA drives on DQ, sdram_dq_i what it sees.
module ks_board_sim_ecp5 (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        uart_rx_i,
  output logic        uart_tx_o,
  output logic        irq_o,
  output logic        busy_o,
  output logic        sdram_cke_o,
  output logic        sdram_cs_n_o,
  output logic        sdram_ras_n_o,
  output logic        sdram_cas_n_o,
  output logic        sdram_we_n_o,
  output logic [1:0]  sdram_ba_o,
  output logic [12:0] sdram_a_o,
  output logic [1:0]  sdram_dqm_o,
  output logic [15:0] sdram_dq_o,
  output logic        sdram_dq_oe_o,
  input  logic [15:0] sdram_dq_i
);
  logic        cke, cs_n, ras_n, cas_n, we_n, dq_oe;
  logic [1:0]  ba, dqm;
  logic [12:0] a;
  logic [15:0] dq_out, dq_in;
  ks_board_soc_ecp5 #(
    .MemBytes(32 * 1024 * 1024), .MemBase(32'h1000_0000), .ClkPerBit(4), .IdleCycles(20000),
    .TokDepth(32), .UseSdram(1'b1), .SdramClkKhz(150000), .SdramCl(3)
  ) u_soc (
    .clk_i, .rst_ni, .uart_rx_i, .uart_tx_o, .irq_o, .busy_o,
    .sdram_cke_o(cke), .sdram_cs_n_o(cs_n), .sdram_ras_n_o(ras_n), .sdram_cas_n_o(cas_n),
    .sdram_we_n_o(we_n), .sdram_ba_o(ba), .sdram_a_o(a), .sdram_dqm_o(dqm), .sdram_dq_o(dq_out),
    .sdram_dq_oe_o(dq_oe), .sdram_dq_i(dq_in)
  );
  ks_sdram_phy u_phy (
    .clk_i, .rst_ni,
    .cke_i(cke), .cs_n_i(cs_n), .ras_n_i(ras_n), .cas_n_i(cas_n), .we_n_i(we_n), .ba_i(ba), .a_i(a),
    .dqm_i(dqm), .dq_i(dq_out), .dq_oe_i(dq_oe), .dq_o(dq_in),
    .sdram_cke_o, .sdram_cs_n_o, .sdram_ras_n_o, .sdram_cas_n_o, .sdram_we_n_o, .sdram_ba_o,
    .sdram_a_o, .sdram_dqm_o, .sdram_dq_o, .sdram_dq_oe_o, .sdram_dq_i
  );
endmodule

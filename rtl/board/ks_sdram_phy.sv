/// The SDRAM pins' I/O registers in plain RTL: each of the controller's outputs (ks_sdram_ctrl,
/// already registered) passes one more register, as it would in an FPGA's I/O cell, and DQ
/// comes in through one register. The data bus is split into what the FPGA drives (sdram_dq_o
/// with sdram_dq_oe_o) and what it sees (sdram_dq_i); the SDRAM clock, the inverse of clk_i,
/// is left to the board (ks_sdram_phy_ecp5 forwards it). Used by the simulated boards and the
/// SDRAM testbenches; ks_sdram_phy_ecp5 is the same with the ECP5's I/O primitives. The
/// control outputs reset to INHIBIT with the data masked and the bus released.
module ks_sdram_phy (
  input  logic        clk_i,
  input  logic        rst_ni,
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
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      sdram_cke_o   <= 1'b1;
      sdram_cs_n_o  <= 1'b1;
      sdram_ras_n_o <= 1'b1;
      sdram_cas_n_o <= 1'b1;
      sdram_we_n_o  <= 1'b1;
      sdram_dqm_o   <= 2'b11;
      sdram_dq_oe_o <= 1'b0;
    end else begin
      sdram_cke_o   <= cke_i;
      sdram_cs_n_o  <= cs_n_i;
      sdram_ras_n_o <= ras_n_i;
      sdram_cas_n_o <= cas_n_i;
      sdram_we_n_o  <= we_n_i;
      sdram_dqm_o   <= dqm_i;
      sdram_dq_oe_o <= dq_oe_i;
    end
    sdram_ba_o <= ba_i;
    sdram_a_o  <= a_i;
    sdram_dq_o <= dq_i;
    dq_o       <= sdram_dq_i;
  end
endmodule

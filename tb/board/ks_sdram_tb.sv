/// Test top for the SDRAM device memory: ks_sdram_mem (AXI4 slave, host port, ks_sdram_ctrl)
/// behind the I/O registers of ks_sdram_phy, its pins brought out for the testbench's SDRAM
/// model (tb/board/sdram_model.h). The test wrappers ks_sdram_tb16 / ks_sdram_tb8 pick the
/// configurations the tests run.
module ks_sdram_tb #(
  parameter int unsigned DataBytes  = 16,
  parameter int unsigned Bytes      = 32 * 1024 * 1024,
  parameter logic [31:0] Base       = 32'h1000_0000,
  parameter int unsigned ClkKhz     = 150000,
  parameter int unsigned CasLatency = 3,
  parameter int unsigned WordW      = $clog2(Bytes / DataBytes)
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   arvalid_i,
  output logic                   arready_o,
  input  logic [31:0]            araddr_i,
  input  logic [7:0]             arlen_i,
  output logic                   rvalid_o,
  input  logic                   rready_i,
  output logic [DataBytes*8-1:0] rdata_o,
  output logic [1:0]             rresp_o,
  output logic                   rlast_o,
  input  logic                   awvalid_i,
  output logic                   awready_o,
  input  logic [31:0]            awaddr_i,
  input  logic [7:0]             awlen_i,
  input  logic                   wvalid_i,
  output logic                   wready_o,
  input  logic [DataBytes*8-1:0] wdata_i,
  input  logic [DataBytes-1:0]   wstrb_i,
  input  logic                   wlast_i,
  output logic                   bvalid_o,
  input  logic                   bready_i,
  output logic [1:0]             bresp_o,
  input  logic                   host_req_i,
  output logic                   host_gnt_o,
  input  logic                   host_we_i,
  input  logic [WordW-1:0]       host_addr_i,
  input  logic [DataBytes*8-1:0] host_wdata_i,
  input  logic [DataBytes-1:0]   host_wstrb_i,
  output logic                   host_rvalid_o,
  output logic [DataBytes*8-1:0] host_rdata_o,
  output logic                   sdram_cke_o,
  output logic                   sdram_cs_n_o,
  output logic                   sdram_ras_n_o,
  output logic                   sdram_cas_n_o,
  output logic                   sdram_we_n_o,
  output logic [1:0]             sdram_ba_o,
  output logic [12:0]            sdram_a_o,
  output logic [1:0]             sdram_dqm_o,
  output logic [15:0]            sdram_dq_o,
  output logic                   sdram_dq_oe_o,
  input  logic [15:0]            sdram_dq_i
);
  logic        cke, cs_n, ras_n, cas_n, we_n, dq_oe;
  logic [1:0]  ba, dqm;
  logic [12:0] a;
  logic [15:0] dq_out, dq_in;
  ks_sdram_mem #(
    .DataBytes(DataBytes), .Bytes(Bytes), .Base(Base), .ClkKhz(ClkKhz), .CasLatency(CasLatency)
  ) u_mem (
    .clk_i, .rst_ni,
    .arvalid_i, .arready_o, .araddr_i, .arlen_i, .rvalid_o, .rready_i, .rdata_o, .rresp_o, .rlast_o,
    .awvalid_i, .awready_o, .awaddr_i, .awlen_i, .wvalid_i, .wready_o, .wdata_i, .wstrb_i, .wlast_i,
    .bvalid_o, .bready_i, .bresp_o,
    .host_req_i, .host_gnt_o, .host_we_i, .host_addr_i, .host_wdata_i, .host_wstrb_i, .host_rvalid_o,
    .host_rdata_o,
    .sd_cke_o(cke), .sd_cs_n_o(cs_n), .sd_ras_n_o(ras_n), .sd_cas_n_o(cas_n), .sd_we_n_o(we_n),
    .sd_ba_o(ba), .sd_a_o(a), .sd_dqm_o(dqm), .sd_dq_o(dq_out), .sd_dq_oe_o(dq_oe), .sd_dq_i(dq_in)
  );
  ks_sdram_phy u_phy (
    .clk_i, .rst_ni,
    .cke_i(cke), .cs_n_i(cs_n), .ras_n_i(ras_n), .cas_n_i(cas_n), .we_n_i(we_n), .ba_i(ba), .a_i(a),
    .dqm_i(dqm), .dq_i(dq_out), .dq_oe_i(dq_oe), .dq_o(dq_in),
    .sdram_cke_o, .sdram_cs_n_o, .sdram_ras_n_o, .sdram_cas_n_o, .sdram_we_n_o, .sdram_ba_o,
    .sdram_a_o, .sdram_dqm_o, .sdram_dq_o, .sdram_dq_oe_o, .sdram_dq_i
  );
endmodule

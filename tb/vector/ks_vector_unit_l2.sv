/// Test wrapper: the vector unit in the up5k shape (2 lanes, 64 rows, 8-byte memory port),
/// for tb/vector/test_vector_unit.cpp. Same ports as ks_vector_unit.
module ks_vector_unit_l2 (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        in_valid_i,
  output logic        in_ready_o,
  input  logic [3:0]  in_kind_i,
  input  logic [3:0]  in_op_i,
  input  logic        in_swap_b_i,
  input  logic        in_b_imm_i,
  input  logic [15:0] in_dst_i,
  input  logic [15:0] in_a_i,
  input  logic [15:0] in_b_i,
  input  logic [15:0] in_len_i,
  input  logic [31:0] in_imm_i,
  output logic        in_bad_o,
  output logic        busy_o,
  input  logic        mem_we_i,
  input  logic [1:0]  mem_wmask_i,
  input  logic [8:0]  mem_waddr_i,
  input  logic [63:0] mem_wdata_i,
  input  logic        mem_re_i,
  input  logic [8:0]  mem_raddr_i,
  output logic [63:0] mem_rdata_o,
  input  logic [2:0]  s_sel_i,
  output logic [31:0] s_o
);
  ks_vector_unit #(.Lanes(2), .Rows(64), .AxiBytes(8)) u_vec (.*);
endmodule

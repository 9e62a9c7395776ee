/// One lane of the vector unit: the KFP32 operations every decode computation is built
/// from (docs/vector_unit.md), bit-exact with ks::golden::kfp::alu. Combinational;
/// ks_kfp_pkg::alu.
///
///   op  0 ADD a+b   1 SUB a-b   2 MUL a*b   3 MAX   4 ABS |a|
///       5 FROM_INT (INT32 a)    6 TO_INT (a rounded to nearest even, saturated to [-b, b])
///       7 SCALE2 a*2^b          8 ISUB b-a (integers)   9 SHR1 a>>1 (integer)
module ks_kfp_alu (
  input  logic [3:0]  op_i,
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] z_o
);
  assign z_o = ks_kfp_pkg::alu(op_i, a_i, b_i);
endmodule

/// KFP32 adder (z = a + b, or a - b with sub_i): IEEE binary32 layout, round to nearest
/// even, subnormals read as zero and flushed, no infinities (saturation). Bit-exact with
/// ks::golden::kfp::add. Combinational; ks_kfp_pkg::add.
module ks_kfp_add (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  input  logic        sub_i,
  output logic [31:0] z_o
);
  assign z_o = ks_kfp_pkg::add(a_i, b_i, sub_i);
endmodule

/// KFP32 multiplier (z = a x b): IEEE binary32 layout, round to nearest even, subnormals
/// read as zero and flushed, no infinities (saturation). Bit-exact with
/// ks::golden::kfp::mul. The 24 x 24 product maps to DSP blocks. Combinational;
/// ks_kfp_pkg::mul.
module ks_kfp_mul (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] z_o
);
  assign z_o = ks_kfp_pkg::mul(a_i, b_i);
endmodule

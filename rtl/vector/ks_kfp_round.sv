/// KFP32 rounding and packing: round to nearest even, then flush (exponent <= 0 -> signed
/// zero) or saturate (exponent >= 255 -> +-max finite). Combinational; ks_kfp_pkg::round,
/// which every KFP32 operator uses so that all of them round alike (docs/vector_unit.md).
module ks_kfp_round (
  input  logic        sign_i,
  input  logic [9:0]  exp_i,    // biased exponent, two's complement (may be <= 0 or >= 255)
  input  logic [23:0] mant_i,   // hidden one at bit 23
  input  logic        g_i,
  input  logic        r_i,
  input  logic        s_i,
  output logic [31:0] z_o
);
  assign z_o = ks_kfp_pkg::round(sign_i, exp_i, mant_i, g_i, r_i, s_i);
endmodule

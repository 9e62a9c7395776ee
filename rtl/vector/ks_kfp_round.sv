/// KFP32 rounding and packing: round to nearest even, then flush (exponent <= 0 -> signed
/// zero) or saturate (exponent >= 255 -> +-max finite). Combinational. Shared by every
/// KFP32 operator so that all of them round alike (numerics: docs/vector_unit.md).
module ks_kfp_round (
  input  logic        sign_i,
  input  logic [9:0]  exp_i,    // biased exponent, two's complement (may be <= 0 or >= 255)
  input  logic [23:0] mant_i,   // hidden one at bit 23
  input  logic        g_i,
  input  logic        r_i,
  input  logic        s_i,
  output logic [31:0] z_o
);
  logic        up;
  logic [24:0] m1;
  logic [22:0] frac;
  logic [9:0]  e;

  assign up = g_i && (r_i || s_i || mant_i[0]);
  assign m1 = {1'b0, mant_i} + 25'(up);
  // A carry out of rounding leaves 1.000...: fraction zero, exponent one up.
  assign frac = m1[24] ? m1[23:1] : m1[22:0];
  assign e  = m1[24] ? exp_i + 10'd1 : exp_i;

  always_comb begin
    if ($signed(e) >= $signed(10'd255)) begin
      z_o = {sign_i, 31'h7F7FFFFF};
    end else if ($signed(e) <= $signed(10'd0)) begin
      z_o = {sign_i, 31'h0};
    end else begin
      z_o = {sign_i, e[7:0], frac};
    end
  end
endmodule

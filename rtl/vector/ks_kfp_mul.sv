/// KFP32 multiplier (z = a x b): IEEE binary32 layout, round to nearest even, subnormals
/// read as zero and flushed, no infinities (saturation). Bit-exact with
/// ks::golden::kfp::mul. The 24 x 24 product maps to DSP blocks. Combinational.
module ks_kfp_mul (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  output logic [31:0] z_o
);
  logic        s;
  logic [23:0] ma, mb;
  logic [47:0] p;
  logic [9:0]  e;
  assign s  = a_i[31] ^ b_i[31];
  assign ma = (a_i[30:23] == 8'd0) ? 24'd0 : {1'b1, a_i[22:0]};
  assign mb = (b_i[30:23] == 8'd0) ? 24'd0 : {1'b1, b_i[22:0]};
  assign p  = ma * mb;
  assign e  = {2'b00, a_i[30:23]} + {2'b00, b_i[30:23]} - 10'd127 + 10'(p[47]);

  logic [23:0] m;
  logic        g, r, st;
  assign m  = p[47] ? p[47:24] : p[46:23];
  assign g  = p[47] ? p[23] : p[22];
  assign r  = p[47] ? p[22] : p[21];
  assign st = p[47] ? (p[21:0] != 22'd0) : (p[20:0] != 21'd0);

  logic [31:0] rounded;
  ks_kfp_round u_round (.sign_i(s), .exp_i(e), .mant_i(m), .g_i(g), .r_i(r), .s_i(st), .z_o(rounded));

  assign z_o = (ma == 24'd0 || mb == 24'd0) ? {s, 31'd0} : rounded;
endmodule

/// KFP32 adder (z = a + b, or a - b with sub_i): IEEE binary32 layout, round to nearest
/// even, subnormals read as zero and flushed, no infinities (saturation). Bit-exact with
/// ks::golden::kfp::add. Combinational.
module ks_kfp_add (
  input  logic [31:0] a_i,
  input  logic [31:0] b_i,
  input  logic        sub_i,
  output logic [31:0] z_o
);
  logic        sa, sb;
  logic [7:0]  ea, eb;
  logic [23:0] ma, mb;

  assign sa = a_i[31];
  assign sb = b_i[31] ^ sub_i;
  assign ea = a_i[30:23];
  assign eb = b_i[30:23];
  assign ma = (ea == 8'd0) ? 24'd0 : {1'b1, a_i[22:0]};
  assign mb = (eb == 8'd0) ? 24'd0 : {1'b1, b_i[22:0]};

  // Order by magnitude: x is the larger.
  logic        swap;
  logic        sx, sy;
  logic [7:0]  ex, ey;
  logic [23:0] mx, my;
  assign swap = {eb, mb} > {ea, ma};
  assign sx = swap ? sb : sa;
  assign sy = swap ? sa : sb;
  assign ex = swap ? eb : ea;
  assign ey = swap ? ea : eb;
  assign mx = swap ? mb : ma;
  assign my = swap ? ma : mb;

  // Shifts as explicit log-shifters (a mux per stage): Yosys's SAT-based resource sharing
  // runs out of memory on variable $shl/$shr cells in this datapath.
  function automatic logic [53:0] shr54(input logic [53:0] v, input logic [4:0] n);
    shr54 = v;
    for (int i = 0; i < 5; i++) begin
      if (n[i]) shr54 = shr54 >> (1 << i);
    end
  endfunction
  function automatic logic [26:0] shl27(input logic [26:0] v, input logic [4:0] n);
    shl27 = v;
    for (int i = 0; i < 5; i++) begin
      if (n[i]) shl27 = shl27 << (1 << i);
    end
  endfunction

  // Align the smaller operand: 27 bits (mantissa, guard, round, sticky).
  logic [7:0]  d;
  logic [53:0] wide;
  logic [26:0] my_al;
  assign d    = ex - ey;
  assign wide = shr54({my, 3'b000, 27'd0}, (d > 8'd27) ? 5'd27 : d[4:0]);
  assign my_al = (d >= 8'd27) ? {26'd0, my != 24'd0} : {wide[53:28], wide[27] | (wide[26:0] != 27'd0)};

  // Add or subtract, then normalize.
  logic [27:0] sum;
  logic        same;
  assign same = sx == sy;
  assign sum  = same ? {1'b0, mx, 3'b000} + {1'b0, my_al} : {1'b0, mx, 3'b000} - {1'b0, my_al};

  logic [4:0]  lz;
  logic        found;
  always_comb begin
    lz = 5'd0;
    found = 1'b0;
    for (int i = 26; i >= 0; i--) begin
      if (!found && sum[i]) begin
        found = 1'b1;
        lz = 5'(26 - i);
      end
    end
  end

  logic [26:0] norm;
  logic [9:0]  e_n;
  always_comb begin
    if (sum[27]) begin
      norm = {sum[27:2], sum[1] | sum[0]};
      e_n  = {2'b00, ex} + 10'd1;
    end else begin
      norm = shl27(sum[26:0], lz);
      e_n  = {2'b00, ex} - {5'd0, lz};
    end
  end

  logic [31:0] rounded;
  ks_kfp_round u_round (
    .sign_i(sx), .exp_i(e_n), .mant_i(norm[26:3]), .g_i(norm[2]), .r_i(norm[1]), .s_i(norm[0]),
    .z_o(rounded)
  );

  always_comb begin
    if (ma == 24'd0 && mb == 24'd0) begin
      z_o = {sa & sb, 31'd0};
    end else if (!same && sum == 28'd0) begin
      z_o = 32'd0;  // exact cancellation: +0
    end else begin
      z_o = rounded;
    end
  end
endmodule

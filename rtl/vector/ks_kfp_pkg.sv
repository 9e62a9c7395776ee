/// KFP32 arithmetic as functions (numerics: docs/vector_unit.md): IEEE binary32 layout,
/// round to nearest even, subnormals read as zero and flushed, no infinities (saturation).
/// Bit-exact with ks::golden::kfp. The operator modules (ks_kfp_add, ks_kfp_mul,
/// ks_kfp_alu, ks_kfp_round) wrap these; the vector unit calls them directly, inside
/// processes that evaluate them only while a lane has work, and alu() computes only the
/// operation selected (one case arm), so an idle or single-operation lane costs a
/// simulator nothing. Written in the subset every tool here accepts (functions assign to
/// their own name; variable shifts as explicit log-shifters, on which Yosys's SAT-based
/// resource sharing does not run out of memory).
package ks_kfp_pkg;
  localparam logic [3:0] OpAdd = 4'd0, OpSub = 4'd1, OpMul = 4'd2, OpMax = 4'd3, OpAbs = 4'd4,
                         OpFromInt = 4'd5, OpToInt = 4'd6, OpScale2 = 4'd7, OpISub = 4'd8,
                         OpShr1 = 4'd9;

  function automatic logic [63:0] shl64(input logic [63:0] v, input logic [5:0] n);
    shl64 = v;
    for (int i = 0; i < 6; i++) begin
      if (n[i]) shl64 = shl64 << (1 << i);
    end
  endfunction

  function automatic logic [63:0] shr64(input logic [63:0] v, input logic [5:0] n);
    shr64 = v;
    for (int i = 0; i < 6; i++) begin
      if (n[i]) shr64 = shr64 >> (1 << i);
    end
  endfunction

  /// Round to nearest even, then flush (exponent <= 0: signed zero) or saturate (exponent
  /// >= 255: +-max finite). exp is biased, two's complement; mant has the hidden one at 23.
  function automatic logic [31:0] round(input logic sign, input logic [9:0] exp, input logic [23:0] mant,
                                        input logic g, input logic r, input logic s);
    logic        up;
    logic [24:0] m1;
    logic [22:0] frac;
    logic [9:0]  e;
    up = g && (r || s || mant[0]);
    m1 = {1'b0, mant} + 25'(up);
    // A carry out of rounding leaves 1.000...: fraction zero, exponent one up.
    frac = m1[24] ? m1[23:1] : m1[22:0];
    e    = m1[24] ? exp + 10'd1 : exp;
    if ($signed(e) >= $signed(10'd255)) begin
      round = {sign, 31'h7F7FFFFF};
    end else if ($signed(e) <= $signed(10'd0)) begin
      round = {sign, 31'h0};
    end else begin
      round = {sign, e[7:0], frac};
    end
  endfunction

  /// a + b, or a - b with sub.
  function automatic logic [31:0] add(input logic [31:0] a, input logic [31:0] b, input logic sub);
    logic        sa, sb, swap, sx, sy, same, found;
    logic [7:0]  ea, eb, ex, ey, d;
    logic [23:0] ma, mb, mx, my;
    logic [53:0] wide;
    logic [26:0] my_al, norm;
    logic [27:0] sum;
    logic [4:0]  lz, n;
    logic [9:0]  e_n;
    sa = a[31];
    sb = b[31] ^ sub;
    ea = a[30:23];
    eb = b[30:23];
    ma = (ea == 8'd0) ? 24'd0 : {1'b1, a[22:0]};
    mb = (eb == 8'd0) ? 24'd0 : {1'b1, b[22:0]};
    // Order by magnitude: x is the larger.
    swap = {eb, mb} > {ea, ma};
    sx = swap ? sb : sa;
    sy = swap ? sa : sb;
    ex = swap ? eb : ea;
    ey = swap ? ea : eb;
    mx = swap ? mb : ma;
    my = swap ? ma : mb;
    // Align the smaller operand: 27 bits (mantissa, guard, round, sticky).
    d = ex - ey;
    n = (d > 8'd27) ? 5'd27 : d[4:0];
    wide = {my, 3'b000, 27'd0};
    for (int i = 0; i < 5; i++) begin
      if (n[i]) wide = wide >> (1 << i);
    end
    my_al = (d >= 8'd27) ? {26'd0, my != 24'd0} : {wide[53:28], wide[27] | (wide[26:0] != 27'd0)};
    // Add or subtract, then normalize.
    same = sx == sy;
    sum  = same ? {1'b0, mx, 3'b000} + {1'b0, my_al} : {1'b0, mx, 3'b000} - {1'b0, my_al};
    lz = 5'd0;
    found = 1'b0;
    for (int i = 26; i >= 0; i--) begin
      if (!found && sum[i]) begin
        found = 1'b1;
        lz = 5'(26 - i);
      end
    end
    if (sum[27]) begin
      norm = {sum[27:2], sum[1] | sum[0]};
      e_n  = {2'b00, ex} + 10'd1;
    end else begin
      norm = sum[26:0];
      for (int i = 0; i < 5; i++) begin
        if (lz[i]) norm = norm << (1 << i);
      end
      e_n  = {2'b00, ex} - {5'd0, lz};
    end
    if (ma == 24'd0 && mb == 24'd0) begin
      add = {sa & sb, 31'd0};
    end else if (!same && sum == 28'd0) begin
      add = 32'd0;  // exact cancellation: +0
    end else begin
      add = round(sx, e_n, norm[26:3], norm[2], norm[1], norm[0]);
    end
  endfunction

  /// a x b (the 24 x 24 product maps to DSP blocks).
  function automatic logic [31:0] mul(input logic [31:0] a, input logic [31:0] b);
    logic        s, g, r, st;
    logic [23:0] ma, mb, m;
    logic [47:0] p;
    logic [9:0]  e;
    s  = a[31] ^ b[31];
    ma = (a[30:23] == 8'd0) ? 24'd0 : {1'b1, a[22:0]};
    mb = (b[30:23] == 8'd0) ? 24'd0 : {1'b1, b[22:0]};
    p  = ma * mb;
    e  = {2'b00, a[30:23]} + {2'b00, b[30:23]} - 10'd127 + 10'(p[47]);
    m  = p[47] ? p[47:24] : p[46:23];
    g  = p[47] ? p[23] : p[22];
    r  = p[47] ? p[22] : p[21];
    st = p[47] ? (p[21:0] != 22'd0) : (p[20:0] != 21'd0);
    mul = (ma == 24'd0 || mb == 24'd0) ? {s, 31'd0} : round(s, e, m, g, r, st);
  endfunction

  /// The order kfp::max sees: zeros (and subnormals) equal.
  function automatic logic signed [33:0] key(input logic [31:0] v);
    logic [32:0] mag;
    mag = (v[30:23] == 8'd0) ? 33'd0 : {1'b0, v[30:23], 1'b1, v[22:0]};
    key = v[31] ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
  endfunction

  /// INT32 a -> KFP32, rounded to nearest even.
  function automatic logic [31:0] from_int(input logic [31:0] a);
    logic        sign, found;
    logic [31:0] mag, norm;
    logic [4:0]  msb;
    sign = a[31];
    mag  = sign ? 32'(-a) : a;
    msb = 5'd0;
    found = 1'b0;
    for (int i = 31; i >= 0; i--) begin
      if (!found && mag[i]) begin
        found = 1'b1;
        msb = 5'(i);
      end
    end
    // Normalize so the leading one lands at bit 31, then mantissa = [31:8], guard [7],
    // round [6], sticky |[5:0].
    norm = 32'(shl64(64'(mag), {1'b0, 5'd31 - msb}));
    from_int = (a == 32'd0) ? 32'd0
                            : round(sign, 10'd127 + 10'(msb), norm[31:8], norm[7], norm[6], norm[5:0] != 6'd0);
  endfunction

  /// KFP32 a -> integer, rounded to nearest even and saturated to [-b, b] (b < 0: 0).
  function automatic logic [31:0] to_int(input logic [31:0] a, input logic [31:0] b);
    logic [23:0] mant;
    logic signed [9:0] sh;   // value = mant * 2^sh
    logic [5:0]  neg;        // -sh where it is used: 1..25
    logic [63:0] whole, rem, half, q;
    logic [31:0] lim;
    mant = (a[30:23] == 8'd0) ? 24'd0 : {1'b1, a[22:0]};
    sh   = $signed({2'b00, a[30:23]}) - 10'sd150;
    neg  = 6'(-sh);
    lim  = b[31] ? 32'd0 : b;
    q    = '0;
    whole = '0;
    rem   = '0;
    half  = '0;
    if (mant == 24'd0) begin
      q = '0;
    end else if (sh >= 0) begin
      // Past 2^40 every bound saturates anyway.
      q = (sh > 10'sd20) ? 64'h100_0000_0000 : shl64(64'(mant), sh[5:0]);
    end else if (sh < -10'sd25) begin
      q = '0;
    end else begin
      whole = shr64(64'(mant), neg);
      rem   = 64'(mant) & (shl64(64'd1, neg) - 64'd1);
      half  = shl64(64'd1, neg - 6'd1);
      q     = whole + 64'((rem > half) || (rem == half && whole[0]));
    end
    if (q > 64'(lim)) begin
      to_int = a[31] ? -lim : lim;
    end else begin
      to_int = a[31] ? 32'(-q[31:0]) : q[31:0];
    end
  endfunction

  /// a * 2^b: exponent arithmetic only (b clamped to +-512).
  function automatic logic [31:0] scale2(input logic [31:0] a, input logic [31:0] b);
    logic signed [11:0] n, e;
    n = ($signed(b) > 32'sd512) ? 12'sd512 : (($signed(b) < -32'sd512) ? -12'sd512 : 12'(b));
    e = $signed({4'b0000, a[30:23]}) + n;
    if (a[30:23] == 8'd0) begin
      scale2 = {a[31], 31'd0};
    end else if (e >= 12'sd255) begin
      scale2 = {a[31], 31'h7F7FFFFF};
    end else if (e <= 12'sd0) begin
      scale2 = {a[31], 31'd0};
    end else begin
      scale2 = {a[31], e[7:0], a[22:0]};
    end
  endfunction

  /// One lane operation (kfp::alu):
  ///   op  0 ADD a+b   1 SUB a-b   2 MUL a*b   3 MAX   4 ABS |a|
  ///       5 FROM_INT (INT32 a)    6 TO_INT (a rounded to nearest even, saturated to [-b, b])
  ///       7 SCALE2 a*2^b          8 ISUB b-a (integers)   9 SHR1 a>>1 (integer)
  function automatic logic [31:0] alu(input logic [3:0] op, input logic [31:0] a, input logic [31:0] b);
    unique case (op)
      OpAdd, OpSub: alu = add(a, b, op == OpSub);
      OpMul:        alu = mul(a, b);
      OpMax:        alu = (key(b) > key(a)) ? b : a;
      OpAbs:        alu = {1'b0, a[30:0]};
      OpFromInt:    alu = from_int(a);
      OpToInt:      alu = to_int(a, b);
      OpScale2:     alu = scale2(a, b);
      OpISub:       alu = b - a;
      OpShr1:       alu = {1'b0, a[31:1]};
      default:      alu = 32'd0;
    endcase
  endfunction
endpackage

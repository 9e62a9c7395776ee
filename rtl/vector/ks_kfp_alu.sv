/// One lane of the vector unit: the KFP32 operations every decode computation is built
/// from (docs/vector_unit.md), bit-exact with ks::golden::kfp::alu. Combinational.
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
  localparam logic [3:0] OpAdd = 4'd0, OpSub = 4'd1, OpMul = 4'd2, OpMax = 4'd3, OpAbs = 4'd4,
                         OpFromInt = 4'd5, OpToInt = 4'd6, OpScale2 = 4'd7, OpISub = 4'd8,
                         OpShr1 = 4'd9;

  // Variable shifts as explicit log-shifters (a mux per stage): Yosys's SAT-based resource
  // sharing runs out of memory merging $shl/$shr cells of this datapath.
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

  // ---- add / sub / mul ----------------------------------------------------------------------
  logic [31:0] sum, prod;
  ks_kfp_add u_add (.a_i, .b_i, .sub_i(op_i == OpSub), .z_o(sum));
  ks_kfp_mul u_mul (.a_i, .b_i, .z_o(prod));

  // ---- max: by value, zeros (and subnormals) equal; ties keep a -------------------------------
  function automatic logic signed [33:0] key(input logic [31:0] v);
    logic [32:0] mag;
    mag = (v[30:23] == 8'd0) ? 33'd0 : {1'b0, v[30:23], 1'b1, v[22:0]};
    key = v[31] ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
  endfunction
  logic [31:0] mx;
  assign mx = (key(b_i) > key(a_i)) ? b_i : a_i;

  // ---- INT32 -> KFP32 ---------------------------------------------------------------------------
  logic        fi_sign;
  logic [31:0] fi_mag;
  logic [4:0]  fi_msb;
  logic        fi_found;
  always_comb begin
    fi_msb = 5'd0;
    fi_found = 1'b0;
    for (int i = 31; i >= 0; i--) begin
      if (!fi_found && fi_mag[i]) begin
        fi_found = 1'b1;
        fi_msb = 5'(i);
      end
    end
  end
  assign fi_sign = a_i[31];
  assign fi_mag  = fi_sign ? 32'(-a_i) : a_i;
  // Normalize so the leading one lands at bit 31, then mantissa = [31:8], guard [7],
  // round [6], sticky |[5:0].
  logic [31:0] fi_norm;
  assign fi_norm = 32'(shl64(64'(fi_mag), {1'b0, 5'd31 - fi_msb}));
  logic [31:0] from_int;
  ks_kfp_round u_round_fi (
    .sign_i(fi_sign), .exp_i(10'd127 + 10'(fi_msb)), .mant_i(fi_norm[31:8]), .g_i(fi_norm[7]),
    .r_i(fi_norm[6]), .s_i(fi_norm[5:0] != 6'd0), .z_o(from_int)
  );

  // ---- KFP32 -> integer, saturated to [-b, b] ---------------------------------------------
  logic [23:0] ti_mant;
  logic signed [9:0] ti_sh;   // value = mant * 2^sh
  logic [63:0] ti_whole;
  logic [63:0] ti_rem, ti_half;
  logic [63:0] ti_q;
  logic [31:0] ti_lim, to_int;
  assign ti_mant = (a_i[30:23] == 8'd0) ? 24'd0 : {1'b1, a_i[22:0]};
  assign ti_sh   = $signed({2'b00, a_i[30:23]}) - 10'sd150;
  logic [5:0] ti_neg;                      // -ti_sh where it is used: 1..25
  assign ti_neg  = 6'(-ti_sh);
  assign ti_lim  = b_i[31] ? 32'd0 : b_i;
  always_comb begin
    ti_whole = '0;
    ti_rem   = '0;
    ti_half  = '0;
    ti_q     = '0;
    if (ti_mant == 24'd0) begin
      ti_q = '0;
    end else if (ti_sh >= 0) begin
      // Past 2^40 every bound saturates anyway.
      ti_q = (ti_sh > 10'sd20) ? 64'h100_0000_0000 : shl64(64'(ti_mant), ti_sh[5:0]);
    end else if (ti_sh < -10'sd25) begin
      ti_q = '0;
    end else begin
      ti_whole = shr64(64'(ti_mant), ti_neg);
      ti_rem   = 64'(ti_mant) & (shl64(64'd1, ti_neg) - 64'd1);
      ti_half  = shl64(64'd1, ti_neg - 6'd1);
      ti_q     = ti_whole + 64'((ti_rem > ti_half) || (ti_rem == ti_half && ti_whole[0]));
    end
  end
  always_comb begin
    if (ti_q > 64'(ti_lim)) begin
      to_int = a_i[31] ? -ti_lim : ti_lim;
    end else begin
      to_int = a_i[31] ? 32'(-ti_q[31:0]) : ti_q[31:0];
    end
  end

  // ---- a * 2^b: exponent arithmetic only (b clamped to +-512) ---------------------------------
  logic signed [11:0] sc_n, sc_e;
  logic [31:0] scaled;
  assign sc_n = ($signed(b_i) > 32'sd512) ? 12'sd512 : (($signed(b_i) < -32'sd512) ? -12'sd512 : 12'(b_i));
  assign sc_e = $signed({4'b0000, a_i[30:23]}) + sc_n;
  always_comb begin
    if (a_i[30:23] == 8'd0) begin
      scaled = {a_i[31], 31'd0};
    end else if (sc_e >= 12'sd255) begin
      scaled = {a_i[31], 31'h7F7FFFFF};
    end else if (sc_e <= 12'sd0) begin
      scaled = {a_i[31], 31'd0};
    end else begin
      scaled = {a_i[31], sc_e[7:0], a_i[22:0]};
    end
  end

  always_comb begin
    unique case (op_i)
      OpAdd, OpSub: z_o = sum;
      OpMul:        z_o = prod;
      OpMax:        z_o = mx;
      OpAbs:        z_o = {1'b0, a_i[30:0]};
      OpFromInt:    z_o = (a_i == 32'd0) ? 32'd0 : from_int;
      OpToInt:      z_o = to_int;
      OpScale2:     z_o = scaled;
      OpISub:       z_o = b_i - a_i;
      OpShr1:       z_o = {1'b0, a_i[31:1]};
      default:      z_o = 32'd0;
    endcase
  end
endmodule

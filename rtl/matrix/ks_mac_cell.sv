/// One processing element of the systolic array: a multiply-accumulate cell.
///
/// INT8 mode: one MAC, w (int8) x xa (int8).
/// INT4 mode: two MACs on the same weight byte, w[3:0] x xa + w[7:4] x xb, the nibbles being
/// signed int4 weights for two consecutive reduction indices (low nibble first).
///
/// The 8x8 product (the weight operand is the full byte in INT8 mode and the sign-extended
/// low nibble in INT4 mode) is written as a multiplication so synthesis maps it to one DSP
/// block; the 4x8 high-nibble product is written as shift-and-add so that it stays in logic
/// and each cell costs exactly one DSP. Products are registered (prod_q), then added to the
/// partial sum arriving from the left neighbour (psum_i) into psum_o, one cycle later.
/// No handshake and no enable: the array is a pipeline that always moves.
module ks_mac_cell #(
  parameter int unsigned PsumW = 21
) (
  input  logic             clk_i,
  input  logic [7:0]       w_i,
  input  logic [7:0]       xa_i,
  input  logic [7:0]       xb_i,
  input  logic             int4_i,
  input  logic [PsumW-1:0] psum_i,
  output logic [PsumW-1:0] psum_o
);
  logic signed [7:0]  wa;
  logic signed [15:0] prod_a;
  logic signed [11:0] xb_ext;
  logic signed [11:0] prod_b;
  logic signed [16:0] prod_d, prod_q;
  logic [PsumW-1:0]   psum_q;

  assign wa     = int4_i ? {{4{w_i[3]}}, w_i[3:0]} : w_i;
  assign prod_a = $signed({{8{wa[7]}}, wa}) * $signed({{8{xa_i[7]}}, xa_i});
  assign xb_ext = {{4{xb_i[7]}}, xb_i};

  // Signed 4-bit high nibble times xb: bits 4..6 weigh +1, +2, +4; bit 7 weighs -8.
  always_comb begin
    prod_b = '0;
    if (int4_i) begin
      if (w_i[4]) prod_b = prod_b + xb_ext;
      if (w_i[5]) prod_b = prod_b + (xb_ext <<< 1);
      if (w_i[6]) prod_b = prod_b + (xb_ext <<< 2);
      if (w_i[7]) prod_b = prod_b - (xb_ext <<< 3);
    end
  end

  assign prod_d = {prod_a[15], prod_a} + {{5{prod_b[11]}}, prod_b};

  always_ff @(posedge clk_i) begin
    prod_q <= prod_d;
    psum_q <= psum_i + {{(PsumW-17){prod_q[16]}}, prod_q};
  end

  assign psum_o = psum_q;
endmodule

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
/// No handshake: the array is a pipeline; its flops load only for valid beats.
///
/// Int4 = 0 (a configuration whose compute engine feeds INT4 as INT8 beats, int4_native = 0)
/// leaves the INT4 logic out and writes the cell as registered operands, then
/// psum_o <= psum_i + w x xa: the form iCE40's SB_MAC16 implements whole (multiplier, adder
/// and output register in the DSP block, Yosys's ice40_dsp), so the cell costs no logic cells.
/// Same two-cycle latency; its flops load every cycle (an SB_MAC16 has one clock enable for
/// all its registers), and only valid beats' sums are used.
module ks_mac_cell #(
  parameter int unsigned PsumW = 21,
  parameter bit          Int4  = 1'b1
) (
  input  logic             clk_i,
  input  logic             prod_en_i,   // w_i, xa_i, xb_i, int4_i hold a beat's operands
  input  logic             sum_en_i,    // prod_q and psum_i hold that beat's product and sum
  input  logic [7:0]       w_i,
  input  logic [7:0]       xa_i,
  input  logic [7:0]       xb_i,
  input  logic             int4_i,
  input  logic [PsumW-1:0] psum_i,
  output logic [PsumW-1:0] psum_o
);
  logic [PsumW-1:0]   psum_q;

  if (Int4) begin : g_int4
    logic signed [16:0] prod_q;

    // The products of one weight byte, computed inside the clocked block so that nothing is
    // evaluated (in simulation) or toggles (in hardware) while no beat passes.
    function automatic logic signed [16:0] product(input logic [7:0] w, input logic [7:0] xa, input logic [7:0] xb,
                                                  input logic int4);
      logic signed [7:0]  wa;
      logic signed [15:0] pa;
      logic signed [11:0] xe, pb;
      wa = int4 ? {{4{w[3]}}, w[3:0]} : w;
      pa = $signed({{8{wa[7]}}, wa}) * $signed({{8{xa[7]}}, xa});
      // Signed 4-bit high nibble times xb: bits 4..6 weigh +1, +2, +4; bit 7 weighs -8.
      xe = {{4{xb[7]}}, xb};
      pb = '0;
      if (int4) begin
        if (w[4]) pb = pb + xe;
        if (w[5]) pb = pb + (xe <<< 1);
        if (w[6]) pb = pb + (xe <<< 2);
        if (w[7]) pb = pb - (xe <<< 3);
      end
      product = {pa[15], pa} + {{5{pb[11]}}, pb};
    endfunction

    // The flops load only for a beat (the array's valid travels beside the data).
    always_ff @(posedge clk_i) begin
      if (prod_en_i) prod_q <= product(w_i, xa_i, xb_i, int4_i);
      if (sum_en_i)  psum_q <= psum_i + {{(PsumW-17){prod_q[16]}}, prod_q};
    end
  end else begin : g_int8
    // Yosys 0.23 maps w x xa with the product register but no input registers into an
    // SB_MAC16 wrongly when psum_i is the constant 0 (column 0): keep the registers on the
    // operands.
    logic signed [7:0]  w_q, xa_q;
    logic signed [15:0] prod;
    assign prod = w_q * xa_q;
    always_ff @(posedge clk_i) begin
      w_q    <= w_i;
      xa_q   <= xa_i;
      psum_q <= psum_i + {{(PsumW-16){prod[15]}}, prod};
    end
    logic unused_int4;
    assign unused_int4 = ^{prod_en_i, sum_en_i, xb_i, int4_i};
  end

  assign psum_o = psum_q;
endmodule

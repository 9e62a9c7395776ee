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
/// and both register stages in the DSP block; on iCE40 the primitive itself, see below), so
/// the cell costs no logic cells. Same two-cycle latency (three with ProdReg); its flops load
/// every cycle (an SB_MAC16 has one clock enable for all its registers), and only valid beats'
/// sums are used.
module ks_mac_cell #(
  parameter int unsigned PsumW   = 21,
  parameter bit          Int4    = 1'b1,
  // Int4 = 0 only: the product is registered once more before the adder (three cycles from
  // operands to psum_o; psum_i is still added in the last one). On iCE40 that register is the
  // SB_MAC16's own product register, so a column of the array that needs a cycle of input
  // skew takes it there instead of in logic-cell flip-flops.
  parameter bit          ProdReg = 1'b0
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
    // psum_o <= psum_i + w x xa, both operands registered first (two cycles, as above).
`ifdef KS_ICE40
    // iCE40 (the iCE40 flows define KS_ICE40): one SB_MAC16 does all of it -- the operand
    // registers (A_REG, B_REG), the 16x16 signed product, the 32-bit adder with psum_i on its
    // C/D input, the output register -- so the cell costs no logic cell. Written as the
    // primitive because Yosys 0.23's ice40_dsp, given the same thing as behaviour, maps a
    // chain of these cells wrongly: it takes a cell's output register both as that cell's
    // product register and as the next cell's C/D input register, and rows of the array
    // vanish (reproduced with one row of four cells; the post-synthesis tests catch it).
    // The 8x8 form it maps correctly leaves the 19-bit adder and its register in logic. And
    // ice40_dsp takes an instantiated SB_MAC16 for a bare multiplier and rewrites it (C/D and
    // the registers dropped), so the iCE40 flows run synth_ice40 without -dsp.
    logic [31:0] addend, sum;
    assign addend = 32'(signed'(psum_i));
    SB_MAC16 #(
      .NEG_TRIGGER(1'b0), .A_REG(1'b1), .B_REG(1'b1), .C_REG(1'b0), .D_REG(1'b0),
      .TOP_8x8_MULT_REG(ProdReg), .BOT_8x8_MULT_REG(ProdReg),
      .PIPELINE_16x16_MULT_REG1(ProdReg), .PIPELINE_16x16_MULT_REG2(1'b0),
      .TOPOUTPUT_SELECT(2'd1), .TOPADDSUB_LOWERINPUT(2'd2), .TOPADDSUB_UPPERINPUT(1'b1),
      .TOPADDSUB_CARRYSELECT(2'd3),
      .BOTOUTPUT_SELECT(2'd1), .BOTADDSUB_LOWERINPUT(2'd2), .BOTADDSUB_UPPERINPUT(1'b1),
      .BOTADDSUB_CARRYSELECT(2'd0),
      .MODE_8x8(1'b0), .A_SIGNED(1'b1), .B_SIGNED(1'b1)
    ) u_mac (
      .CLK(clk_i), .CE(1'b1),
      .A(16'(signed'(w_i))), .B(16'(signed'(xa_i))), .C(addend[31:16]), .D(addend[15:0]),
      .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
      .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
      .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
      .OHOLDTOP(1'b0), .OHOLDBOT(1'b0),
      .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
      .O(sum), .CO(), .ACCUMCO(), .SIGNEXTOUT()
    );
    assign psum_q = sum[PsumW-1:0];
    logic unused_sum;
    assign unused_sum = ^(sum >> PsumW);
`else
    logic signed [7:0]  w_q, xa_q;
    logic signed [15:0] prod, prod_r;
    assign prod = w_q * xa_q;
    if (ProdReg) begin : g_prod_reg
      always_ff @(posedge clk_i) prod_r <= prod;
    end else begin : g_prod_comb
      assign prod_r = prod;
    end
    always_ff @(posedge clk_i) begin
      w_q    <= w_i;
      xa_q   <= xa_i;
      psum_q <= psum_i + {{(PsumW-16){prod_r[15]}}, prod_r};
    end
`endif
    logic unused_int4;
    assign unused_int4 = ^{prod_en_i, sum_en_i, xb_i, int4_i};
  end

  assign psum_o = psum_q;
endmodule

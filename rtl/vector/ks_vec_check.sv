/// The vector unit's instruction check (ks::golden::VectorUnitModel::execute's): bad_o is
/// high for an instruction the unit does not define -- an undefined kind, rows or elements
/// past the memory, a scalar register past S7, a destination overlapping a source at an
/// offset, SWAP_B on anything but VV, B_IMM on anything but VS and SS, HIST_A on anything but
/// DOTROWS and AXPYROWS (whose operand A then lies in the HistRows rows of bank HIST, and
/// cannot overlap the destination). Combinational; used
/// by the vector unit (it skips such instructions) and by the command processor (BAD_VECTOR
/// before dispatch).
module ks_vec_check #(
  parameter int unsigned Lanes = 8,
  parameter int unsigned Rows  = 256,
  parameter int unsigned HistRows = 64
) (
  input  logic [3:0]  kind_i,
  input  logic [3:0]  op_i,
  input  logic        swap_b_i,
  input  logic        b_imm_i,
  input  logic        hist_a_i,
  input  logic [15:0] dst_i,
  input  logic [15:0] a_i,
  input  logic [15:0] b_i,
  input  logic [15:0] len_i,
  output logic        bad_o
);
  localparam int unsigned LaneW = $clog2(Lanes);
  localparam logic [3:0] KVV = 4'd0, KVS = 4'd1, KSS = 4'd2, KSum = 4'd3, KMax = 4'd4, KArgmax = 4'd5,
                         KLoadS = 4'd6, KStoreS = 4'd7, KSetS = 4'd8, KDot = 4'd9, KAxpy = 4'd10,
                         KMad = 4'd11;

  logic [17:0] len, r, dst, a, b;
  assign len = 18'(len_i);
  assign r   = (len + 18'(Lanes - 1)) >> LaneW;     // rows of a len-element vector
  assign dst = 18'(dst_i);
  assign a   = 18'(a_i);
  assign b   = 18'(b_i);

  always_comb begin
    bad_o = 1'b0;
    if (swap_b_i && kind_i != KVV) bad_o = 1'b1;
    if (b_imm_i && kind_i != KVS && kind_i != KSS) bad_o = 1'b1;
    if (hist_a_i && kind_i != KDot && kind_i != KAxpy) bad_o = 1'b1;
    unique case (kind_i)
      KMad: begin
        // MULADD: rows a, b and dst as for VV; op 0..2 selects the form.
        if (op_i > 4'd2) bad_o = 1'b1;
        if (dst + r > 18'(Rows) || a + r > 18'(Rows) || b + r > 18'(Rows)) bad_o = 1'b1;
        if (a != dst && a < dst + r && dst < a + r) bad_o = 1'b1;
        if (b != dst && b < dst + r && dst < b + r) bad_o = 1'b1;
      end
      KVV, KVS: begin
        if (dst + r > 18'(Rows) || a + r > 18'(Rows)) bad_o = 1'b1;
        if (kind_i == KVV && b + r > 18'(Rows)) bad_o = 1'b1;
        if (kind_i == KVS && !b_imm_i && b >= 18'd8) bad_o = 1'b1;
        // A destination must equal a source or not overlap it (rows are read, then written).
        if (a != dst && a < dst + r && dst < a + r) bad_o = 1'b1;
        if (kind_i == KVV && b != dst && b < dst + r && dst < b + r) bad_o = 1'b1;
      end
      KSS: if (dst >= 18'd8 || a >= 18'd8 || (!b_imm_i && b >= 18'd8)) bad_o = 1'b1;
      KSum, KMax, KArgmax: if (a + r > 18'(Rows) || dst >= 18'd8) bad_o = 1'b1;
      KLoadS: if (dst >= 18'd8 || a + (len >> LaneW) >= 18'(Rows)) bad_o = 1'b1;
      KStoreS: if (a >= 18'd8 || dst + (len >> LaneW) >= 18'(Rows)) bad_o = 1'b1;
      KSetS: if (dst >= 18'd8) bad_o = 1'b1;
      KDot: begin
        if (a + len > (hist_a_i ? 18'(HistRows) : 18'(Rows)) || b >= 18'(Rows) || dst + r > 18'(Rows)) bad_o = 1'b1;
        if ((!hist_a_i && a < dst + r && dst < a + len) || (b >= dst && b < dst + r)) bad_o = 1'b1;
      end
      KAxpy: begin
        if (a + len > (hist_a_i ? 18'(HistRows) : 18'(Rows)) || b + r > 18'(Rows) || dst >= 18'(Rows)) bad_o = 1'b1;
        if ((!hist_a_i && dst >= a && dst < a + len) || (dst >= b && dst < b + r)) bad_o = 1'b1;
      end
      default: bad_o = 1'b1;
    endcase
  end
endmodule

// Comparisons with a constant, written bit by bit (include inside a module body).
//
// Yosys 0.23 maps every < or > on iCE40 to a carry chain with a LUT per bit (two logic cells
// a bit), also when one side is a constant; bit by bit, with the constant folded in, the
// comparison is a small AND/OR tree of LUTs. Use only with a constant c.
//   ks_gt_const(x, c): x > c, both zero-extended to 64 bits.
function automatic logic ks_gt_const(input logic [63:0] x, input logic [63:0] c);
  logic eq;
  ks_gt_const = 1'b0;
  eq = 1'b1;
  for (int i = 63; i >= 0; i--) begin
    if (eq && x[i] && !c[i]) ks_gt_const = 1'b1;
    eq = eq && (x[i] == c[i]);
  end
endfunction

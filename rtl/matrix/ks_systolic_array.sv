/// Rows x Cols systolic array of MAC cells with a fixed latency and no stalls.
///
/// Every cycle it may take one beat: a weight tile w_i (Rows x Cols bytes, byte (r, c) at
/// bit (r*Cols + c)*8) and an activation vector x_i (2*Cols bytes). In INT8 mode column c
/// multiplies x[c]; in INT4 mode each weight byte holds two int4 weights (low nibble first)
/// and column c multiplies x[2c] and x[2c+1]. Latency cycles later, rowsum_o[r] is the dot
/// product of weight row r with the activations, as a PsumW-bit two's-complement value,
/// alongside the beat's valid_i/tag_i. valid_early_o/tag_early_o show the same beat one
/// cycle before, so a consumer can start a synchronous memory read in time.
///
/// Dataflow: activations are broadcast down their column (shared by all rows); partial sums
/// travel left to right along each row through the cells' registers. Because the sum reaches
/// column c one cycle after column c-1, column c's weights and activations are delayed by c
/// cycles on the way in (the input skew). Weights are not held in the cells: a fresh tile can
/// enter every cycle, which is what batch-1 decode needs (see docs/matrix_unit.md).
///
/// Every data flop loads only when the beat it would take is valid (the beat's valid bit
/// travels beside it through the skew and the cells): an idle array holds still. Results are
/// the same; an idle array does not toggle, and a simulator skips it. Int4 = 0 (INT8 beats
/// only) carries 8 activation bits per column through the skew and uses ks_mac_cell's
/// DSP-block form, whose flops load every cycle; a column's last cycle of skew is then the
/// cells' product register (on iCE40 inside the SB_MAC16) instead of a skew stage.
module ks_systolic_array #(
  parameter int unsigned Rows  = 8,
  parameter int unsigned Cols  = 16,
  parameter int unsigned TagW  = 1,
  parameter int unsigned PsumW = 16 + $clog2(Cols) + 1,
  parameter int unsigned Latency = Int4 ? Cols + 2 : Cols + 1,
  parameter bit          Int4  = 1'b1      // 0: INT8 beats only (int4_i is ignored)
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic                  valid_i,
  input  logic [TagW-1:0]       tag_i,
  input  logic [Rows*Cols*8-1:0] w_i,
  input  logic [2*Cols*8-1:0]   x_i,
  input  logic                  int4_i,
  output logic                  valid_early_o,
  output logic [TagW-1:0]       tag_early_o,
  output logic                  valid_o,
  output logic [TagW-1:0]       tag_o,
  output logic [Rows*PsumW-1:0] rowsum_o
);
  // Activation operands per column: xa (and xb in INT4 mode), chosen before the skew so
  // that only 17 bits per column travel through it.
  localparam int unsigned ColW = Int4 ? 8 + 8 + 1 : 8;

  // Input register: everything the array sees starts from flops. Without INT4 beats the
  // cells' operand registers (which load every cycle; inside the SB_MAC16 on iCE40) are
  // column 0's input register and the first skew stage of the others: no flops in front of
  // them, and one cycle less (Latency Cols + 1 instead of Cols + 2).
  localparam bit InReg = Int4;
  logic [Rows*Cols*8-1:0] w_q;
  logic [Cols*ColW-1:0]   col_d, col_q;

  for (genvar c = 0; c < Cols; c++) begin : g_col_sel
    if (Int4) begin : g_int4
      assign col_d[c*ColW +: ColW] = {int4_i,
                                      x_i[(2*c+1)*8 +: 8],
                                      int4_i ? x_i[(2*c)*8 +: 8] : x_i[c*8 +: 8]};
    end else begin : g_int8
      assign col_d[c*ColW +: ColW] = x_i[c*8 +: 8];
    end
  end
  if (!Int4) begin : g_no_int4
    logic unused_x;
    assign unused_x = ^{int4_i, x_i[2*Cols*8-1:Cols*8]};
  end

  logic in_v_q;
  if (InReg) begin : g_in_reg
    always_ff @(posedge clk_i) begin
      if (valid_i) begin
        w_q   <= w_i;
        col_q <= col_d;
      end
    end
    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        in_v_q <= 1'b0;
      end else begin
        in_v_q <= valid_i;
      end
    end
  end else begin : g_no_in_reg
    assign w_q    = w_i;
    assign col_q  = col_d;
    assign in_v_q = valid_i;
  end

  // Beat bookkeeping travels beside the data with the same latency.
`ifdef KS_ICE40
  // iCE40: the tags in a block RAM used as a delay line (a write every cycle, the read Depth - 1
  // entries behind, registered), the valid bits in flip-flops; the tags' flip-flops would be
  // one logic cell each. Only the valid beats' tags are used.
  localparam int unsigned TagDepth = Latency - 1;
  localparam int unsigned PtrW = $clog2(TagDepth);
  // (Tags of up to 16 bits, a depth of 2 or more: the up5k matrix unit's are 10 and 4.)
  ks_delay #(.Width(1), .Depth(TagDepth), .Reset(1'b1)) u_valid_early (
    .clk_i, .rst_ni, .v_i(1'b0), .d_i(valid_i), .v_o(), .q_o(valid_early_o)
  );
  logic [PtrW-1:0] tag_wptr_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) tag_wptr_q <= '0;
    else tag_wptr_q <= tag_wptr_q + 1'b1;
  end
  // (The read pointer in its own PtrW-bit signal: Yosys 0.23 widens the subtraction inside a
  // size cast to the cast's width, which reads the wrong entries.)
  logic [PtrW-1:0] tag_rptr;
  assign tag_rptr = tag_wptr_q - PtrW'(TagDepth - 1);
  logic [15:0] tag_rdata;
  SB_RAM40_4K #(.READ_MODE(0), .WRITE_MODE(0)) u_tag_ram (
    .RDATA(tag_rdata),
    .RADDR(11'(tag_rptr)), .RCLK(clk_i), .RCLKE(1'b1), .RE(1'b1),
    .WADDR(11'(tag_wptr_q)), .WCLK(clk_i), .WCLKE(1'b1), .WE(1'b1),
    .WDATA(16'(tag_i)), .MASK(16'h0000)
  );
  assign tag_early_o = tag_rdata[TagW-1:0];
`else
  ks_delay #(.Width(1 + TagW), .Depth(Latency - 1), .Reset(1'b1)) u_tag_early (
    .clk_i, .rst_ni, .v_i(1'b0),
    .d_i({valid_i, tag_i}),
    .v_o(), .q_o({valid_early_o, tag_early_o})
  );
`endif
  ks_delay #(.Width(1 + TagW), .Depth(1), .Reset(1'b1)) u_tag_last (
    .clk_i, .rst_ni, .v_i(1'b0),
    .d_i({valid_early_o, tag_early_o}),
    .v_o(), .q_o({valid_o, tag_o})
  );

  // psum[r][c] is the output of cell (r, c); psum of a virtual column -1 is zero.
  logic [Rows*Cols*PsumW-1:0] psum;

  for (genvar c = 0; c < Cols; c++) begin : g_col
    logic [Rows*8-1:0] w_col_in, w_col;
    logic [ColW-1:0]   x_col;
    logic              v_col, v_col_q;  // column c's inputs are a beat's; its products are

    for (genvar r = 0; r < Rows; r++) begin : g_gather
      assign w_col_in[r*8 +: 8] = w_q[(r*Cols + c)*8 +: 8];
    end

    // Input skew: column c runs c cycles behind column 0. Without INT4 beats the cells of a
    // column c > 0 take one of those cycles in their product register (inside the DSP block
    // on iCE40), so the skew in front of them is a stage shorter.
    localparam int unsigned SkewDepth = (!Int4 && c > 0) ? c - 1 : c;
    ks_delay #(.Width(Rows*8 + ColW), .Depth(SkewDepth), .Gated(1'b1)) u_skew (
      .clk_i, .rst_ni, .v_i(in_v_q), .d_i({w_col_in, col_q[c*ColW +: ColW]}),
      .v_o(v_col), .q_o({w_col, x_col})
    );
    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        v_col_q <= 1'b0;
      end else begin
        v_col_q <= v_col;
      end
    end

    logic [7:0] xb_col;
    logic       int4_col;
    if (Int4) begin : g_xb
      assign {int4_col, xb_col} = x_col[ColW-1:8];
    end else begin : g_no_xb
      assign {int4_col, xb_col} = '0;
    end

    for (genvar r = 0; r < Rows; r++) begin : g_row
      logic [PsumW-1:0] psum_in;
      if (c == 0) begin : g_first
        assign psum_in = '0;
      end else begin : g_chain
        assign psum_in = psum[(r*Cols + c - 1)*PsumW +: PsumW];
      end
      ks_mac_cell #(.PsumW(PsumW), .Int4(Int4), .ProdReg(!Int4 && c > 0)) u_cell (
        .clk_i,
        .prod_en_i(v_col),
        .sum_en_i (v_col_q),
        .w_i   (w_col[r*8 +: 8]),
        .xa_i  (x_col[7:0]),
        .xb_i  (xb_col),
        .int4_i(int4_col),
        .psum_i(psum_in),
        .psum_o(psum[(r*Cols + c)*PsumW +: PsumW])
      );
    end
  end

  for (genvar r = 0; r < Rows; r++) begin : g_out
    assign rowsum_o[r*PsumW +: PsumW] = psum[(r*Cols + Cols - 1)*PsumW +: PsumW];
  end

`ifdef VERILATOR
  // Latency is a parameter only so parents can read the same number; it is not free.
  if (Latency != (InReg ? Cols + 2 : Cols + 1)) begin : g_bad_latency
    $error("ks_systolic_array: Latency must be Cols + 2 (Cols + 1 without INT4 beats)");
  end
  if (PsumW < 16 + $clog2(Cols) + 1) begin : g_bad_psum
    $error("ks_systolic_array: PsumW too narrow for Cols products");
  end
`endif
endmodule

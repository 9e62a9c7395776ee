/// The vector unit: Lanes KFP32 lanes (ks_kfp_pkg::alu) over a vector memory of Rows rows of
/// Lanes words, and eight scalar registers. It executes one instruction at a time, one row
/// per cycle; the bit-exact model is ks::golden::VectorUnitModel and the instruction set is
/// in docs/vector_unit.md:
///
///   kind 0 VV: vector[dst] = op(vector[a], vector[b])     kind 1 VS: ... op(vector[a], S[b])
///   kind 2 SS: S[dst] = op(S[a], S[b]) (on lane 0)      kind 3 SUM, 4 MAX: S[dst] = reduce(vector[a])
///   kind 5 ARGMAX: S[dst] = first index of the largest  kind 6 LOADS: S[dst] = vector[a][len]
///   kind 7 STORES: vector[dst][len] = S[a]               kind 8 SETS: S[dst] = imm
///   kind 9 DOTROWS: vector[dst][t] = lane-tree sum of row a+t times row b, t < len
///   kind 10 AXPYROWS: row dst = sum over t < len, in order from +0, of vector[b][t] x row a+t
///   kind 11 MULADD: vector[dst] = op 0: a x b + imm, 1: b - a x imm, 2: imm - a x b (each
///           product and sum rounded: a multiply, then an add in a second pipeline stage)
///   flags: SWAP_B (VV: b's lane l read from lane l^1), B_IMM (VS, SS: operand b = imm),
///          HIST_A (DOTROWS, AXPYROWS: the rows a + t are rows of the history memory)
///
/// The history memory (bank HIST: HistRows rows of Lanes words) holds the attention K and V
/// histories; the DMA writes it through the hist_* port at any time, also while the unit
/// runs (its own write port: the program keeps the rows written and the rows read apart).
/// Instructions come from the input port (valid/ready; ready when idle) or, for a VRUN
/// (in_run_i: in_a_i = START, in_len_i = COUNT, in_imm_i[15:0] = the DECODE pos), from the
/// program memory: ProgDepth entries of 16 bytes, each words 1..4 of a VEC descriptor
/// (ks_desc_pkg field positions), written through the prog_* port while idle. The sequencer
/// runs START .. START + COUNT - 1 back to back, adding pos to LEN where POS_LEN is set; the
/// first entry that fails the checks below (or has a reserved bit set, or LEN + pos past 16
/// bits) is not executed, pulses run_err_o with its index and ends the run; abort_i ends a
/// run after the instruction in progress.
///
/// Element e of the vector at row r is lane e % Lanes of row r + e / Lanes. Reductions run
/// lane-wise over the rows, then combine the lanes pairwise, one tree level per cycle.
/// DOTROWS streams one row per cycle through the lane multipliers and a registered adder
/// tree (Lanes - 1 adders, one level per cycle) and writes one element per cycle; AXPYROWS
/// streams one row per cycle through the multipliers into Lanes accumulating adders and
/// writes the accumulators at the end. The memory is kept twice (two reads and one write
/// per cycle).
///
/// An instruction the model rejects (undefined kind, rows or elements past the memory, a
/// scalar register past S7, a destination overlapping a source at an offset, SWAP_B off VV,
/// B_IMM off VS/SS) is flagged on in_bad_o, combinationally from the in_* fields whether or
/// not in_valid_i is high, and when accepted it does nothing.
///
/// The memory port moves one AxiBytes beat (AxiBytes / 4 elements, byte address 4e =
/// element e) per cycle each way for the DMA and VMOVE, while the unit is idle: a write
/// with a per-element mask and a read (data the next cycle), at their own addresses.
`include "ks_assert.svh"

module ks_vector_unit #(
  parameter int unsigned Lanes     = 8,
  parameter int unsigned Rows      = 256,
  parameter int unsigned AxiBytes  = 16,
  parameter int unsigned ProgDepth = 64,
  parameter int unsigned HistRows  = 64,
  parameter int unsigned RowW      = $clog2(Rows),
  parameter int unsigned MemAddrW  = $clog2(Lanes * Rows * 4),
  parameter int unsigned ProgAddrW = $clog2(ProgDepth * 16),
  parameter int unsigned HistAddrW = $clog2(Lanes * HistRows * 4),
  parameter int unsigned Elems     = AxiBytes / 4       // elements per memory-port beat
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic                  abort_i,
  // Instructions (and VRUN commands)
  input  logic                  in_valid_i,
  output logic                  in_ready_o,
  input  logic                  in_run_i,
  input  logic [3:0]            in_kind_i,
  input  logic [3:0]            in_op_i,
  input  logic                  in_swap_b_i,
  input  logic                  in_b_imm_i,
  input  logic                  in_hist_a_i,
  input  logic [15:0]           in_dst_i,
  input  logic [15:0]           in_a_i,
  input  logic [15:0]           in_b_i,
  input  logic [15:0]           in_len_i,
  input  logic [31:0]           in_imm_i,
  output logic                  in_bad_o,
  output logic                  busy_o,
  output logic                  run_err_o,
  output logic [15:0]           run_err_idx_o,
  // Program memory write port (DMA): only while idle; byte addresses, multiples of AxiBytes
  input  logic                  prog_we_i,
  input  logic [ProgAddrW-1:0]  prog_waddr_i,
  input  logic [AxiBytes*8-1:0] prog_wdata_i,
  // History memory write port (DMA): at any time; byte addresses, multiples of AxiBytes
  input  logic                  hist_we_i,
  input  logic [HistAddrW-1:0]  hist_waddr_i,
  input  logic [AxiBytes*8-1:0] hist_wdata_i,
  // Memory port (DMA, VMOVE): only while idle; byte addresses, multiples of AxiBytes
  input  logic                  mem_we_i,
  input  logic [Elems-1:0]      mem_wmask_i,
  input  logic [MemAddrW-1:0]   mem_waddr_i,
  input  logic [AxiBytes*8-1:0] mem_wdata_i,
  input  logic                  mem_re_i,
  input  logic [MemAddrW-1:0]   mem_raddr_i,
  output logic [AxiBytes*8-1:0] mem_rdata_o,
  // Scalar registers
  input  logic [2:0]            s_sel_i,
  output logic [31:0]           s_o
);
  localparam int unsigned LaneW  = $clog2(Lanes);
  localparam int unsigned Levels = $clog2(Lanes);
  localparam int unsigned Groups = Lanes / Elems;            // memory-port beats per row
  localparam int unsigned GrpW   = (Groups > 1) ? $clog2(Groups) : 1;
  localparam int unsigned RowByteW = $clog2(Lanes * 4);
  localparam logic [3:0] KVV = 4'd0, KVS = 4'd1, KSS = 4'd2, KSum = 4'd3, KMax = 4'd4, KArgmax = 4'd5,
                         KLoadS = 4'd6, KStoreS = 4'd7, KSetS = 4'd8, KDot = 4'd9, KAxpy = 4'd10,
                         KMad = 4'd11;
  localparam logic [3:0] OpAdd = 4'd0, OpMul = 4'd2, OpMax = 4'd3;

  typedef enum logic [2:0] {SIdle, SStream, SDrain, STree, SLoadS, SPipe, SScalar, SDrain2} state_e;
  state_e state_q;

  // ---- the instruction in hand ---------------------------------------------------------------
  logic [3:0]  kind_q, op_q;
  logic        swap_b_q, b_imm_q, hist_a_q;
  logic [15:0] dst_q, a_q, b_q, len_q;
  logic [31:0] imm_q;
  logic [15:0] rows_q, k_q;                  // rows to stream, rows issued
  logic [LaneW:0] level_q;
  logic [8*32-1:0] s_q;                      // S0..S7, flat

  // Selections as mux trees (no memories, variable shifts or part-selects: Yosys's SAT-based
  // resource sharing runs out of memory on those in this datapath).
  function automatic logic [31:0] pick_s(input logic [8*32-1:0] v, input logic [2:0] i);
    pick_s = v[31:0];
    for (int k = 1; k < 8; k++) begin
      if (i == 3'(k)) pick_s = v[k*32 +: 32];
    end
  endfunction
  function automatic logic [31:0] pick_lane(input logic [Lanes*32-1:0] v, input logic [LaneW-1:0] i);
    pick_lane = v[31:0];
    for (int k = 1; k < Lanes; k++) begin
      if (i == LaneW'(k)) pick_lane = v[k*32 +: 32];
    end
  endfunction
  function automatic logic [Lanes-1:0] onehot(input logic [LaneW-1:0] i);
    for (int k = 0; k < Lanes; k++) onehot[k] = i == LaneW'(k);
  endfunction

  // ---- the instruction source: the input port, or the program memory during a VRUN --------
  localparam int unsigned ProgW    = $clog2(ProgDepth);
  localparam int unsigned ProgSubs = 16 / AxiBytes;          // memory-port beats per entry
  localparam int unsigned SubW     = (ProgSubs > 1) ? $clog2(ProgSubs) : 1;

  logic         run_q;                     // a VRUN is running
  logic [15:0]  pc_q, left_q, pos_q;       // entry in hand, entries left (it included), DECODE pos
  logic         ent_valid_q;               // ent holds entry pc_q
  logic [127:0] ent;                       // words 1..4 of a VEC descriptor
  logic [16:0]  ent_len;                   // LEN, + pos with POS_LEN
  logic         ent_bad;                   // reserved bits set, or LEN + pos past 16 bits

  logic [3:0]  x_kind, x_op;
  logic        x_swap_b, x_b_imm, x_hist_a, x_valid, x_bad, chk_bad;
  logic [15:0] x_dst, x_a, x_b, x_len;
  logic [31:0] x_imm;
  // Field positions from the descriptor format (word w of the descriptor is ent[(w-1)*32 +: 32]).
  assign ent_len = 17'(ent[(ks_desc_pkg::VecLenWord - 1) * 32 + ks_desc_pkg::VecLenLsb +: 16]) +
                   (ent[(ks_desc_pkg::VecPosLenWord - 1) * 32 + ks_desc_pkg::VecPosLenLsb] ? 17'(pos_q) : 17'd0);
  assign ent_bad = (ent & ks_desc_pkg::VecReserved[32 +: 128]) != '0 || ent_len[16];
  always_comb begin
    if (run_q) begin
      x_valid  = ent_valid_q;
      x_kind   = ent[(ks_desc_pkg::VecKindWord - 1) * 32 + ks_desc_pkg::VecKindLsb +: 4];
      x_op     = ent[(ks_desc_pkg::VecOpWord - 1) * 32 + ks_desc_pkg::VecOpLsb +: 4];
      x_swap_b = ent[(ks_desc_pkg::VecSwapBWord - 1) * 32 + ks_desc_pkg::VecSwapBLsb];
      x_b_imm  = ent[(ks_desc_pkg::VecBImmWord - 1) * 32 + ks_desc_pkg::VecBImmLsb];
      x_hist_a = ent[(ks_desc_pkg::VecHistAWord - 1) * 32 + ks_desc_pkg::VecHistALsb];
      x_dst    = ent[(ks_desc_pkg::VecDstWord - 1) * 32 + ks_desc_pkg::VecDstLsb +: 16];
      x_a      = ent[(ks_desc_pkg::VecAWord - 1) * 32 + ks_desc_pkg::VecALsb +: 16];
      x_b      = ent[(ks_desc_pkg::VecBWord - 1) * 32 + ks_desc_pkg::VecBLsb +: 16];
      x_len    = ent_len[15:0];
      x_imm    = ent[(ks_desc_pkg::VecImmWord - 1) * 32 + ks_desc_pkg::VecImmLsb +: 32];
    end else begin
      x_valid  = in_valid_i && !in_run_i;
      x_kind   = in_kind_i;
      x_op     = in_op_i;
      x_swap_b = in_swap_b_i;
      x_b_imm  = in_b_imm_i;
      x_hist_a = in_hist_a_i;
      x_dst    = in_dst_i;
      x_a      = in_a_i;
      x_b      = in_b_i;
      x_len    = in_len_i;
      x_imm    = in_imm_i;
    end
  end
  assign x_bad = chk_bad || (run_q && ent_bad);

  logic accept, exec, store_s, run_accept, run_bad;
  assign in_ready_o = state_q == SIdle && !run_q;
  assign accept     = x_valid && state_q == SIdle;     // an instruction is taken (or skipped, if bad)
  assign exec       = accept && !x_bad;
  assign store_s    = exec && x_kind == KStoreS;  // one element, written at once
  assign run_accept = in_valid_i && in_run_i && in_ready_o;
  assign run_bad    = run_q && accept && x_bad;
  assign busy_o     = state_q != SIdle || run_q;
  assign run_err_o     = run_bad;
  assign run_err_idx_o = pc_q;

  // ---- instruction checks (VectorUnitModel::execute's) ---------------------------------------
  ks_vec_check #(.Lanes(Lanes), .Rows(Rows), .HistRows(HistRows)) u_check (
    .kind_i(x_kind), .op_i(x_op), .swap_b_i(x_swap_b), .b_imm_i(x_b_imm), .hist_a_i(x_hist_a), .dst_i(x_dst), .a_i(x_a),
    .b_i(x_b), .len_i(x_len), .bad_o(chk_bad)
  );
  assign in_bad_o = chk_bad && !run_q && !in_run_i;

  // ---- the program memory (bank VPROG) and the VRUN sequencer -------------------------------
  // One entry is read ahead: the read for pc + 1 goes out when entry pc is taken, so an
  // instruction that finishes at once (SETS, STORES) is followed by the next without a gap.
  logic             prog_re;
  logic [ProgW-1:0] prog_raddr;
  assign prog_re    = run_accept || (run_q && exec && left_q != 16'd1 && !abort_i);
  assign prog_raddr = run_accept ? ProgW'(in_a_i) : ProgW'(pc_q + 16'd1);
  for (genvar s = 0; s < ProgSubs; s++) begin : g_prog
    logic [AxiBytes*8-1:0] pmem [ProgDepth];
    logic [AxiBytes*8-1:0] prd_q;
    logic [SubW-1:0]       wsub;
    assign wsub = (ProgSubs > 1) ? SubW'(prog_waddr_i >> $clog2(AxiBytes)) : '0;
    always_ff @(posedge clk_i) begin
      if (prog_we_i && wsub == SubW'(s)) pmem[ProgW'(prog_waddr_i >> 4)] <= prog_wdata_i;
      if (prog_re) prd_q <= pmem[prog_raddr];
    end
    assign ent[s*AxiBytes*8 +: AxiBytes*8] = prd_q;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      run_q       <= 1'b0;
      ent_valid_q <= 1'b0;
    end else begin
      if (run_accept) begin
        run_q <= in_len_i != 16'd0;
      end else if (run_q && (abort_i || run_bad || (exec && left_q == 16'd1))) begin
        run_q <= 1'b0;                       // aborted, a bad entry, or the last one taken
      end
      if (prog_re) begin
        ent_valid_q <= 1'b1;
      end else if (accept || !run_q) begin
        ent_valid_q <= 1'b0;
      end
    end
    if (run_accept) begin
      pc_q   <= in_a_i;
      left_q <= in_len_i;
      pos_q  <= in_imm_i[15:0];
    end else if (run_q && exec) begin
      pc_q   <= pc_q + 16'd1;
      left_q <= left_q - 16'd1;
    end
  end

  // ---- vector memory: two copies, per lane --------------------------------------------------
  logic                rd_a_en, rd_b_en, wr_en;
  logic [RowW-1:0]     rd_row_a, rd_row_b, wr_row;
  logic [Lanes-1:0]    wr_mask;
  logic [Lanes*32-1:0] wr_data, rd_a, rd_b;

  // The history memory: written by the DMA a beat at a time, read by DOTROWS/AXPYROWS with
  // HIST_A in place of copy a. from_h_q: the operand-a read in flight came from it.
  localparam int unsigned HistRowW = $clog2(HistRows);
  logic                rd_h_en, from_h_q;
  logic [HistRowW-1:0] hist_wrow;
  logic [GrpW-1:0]     hist_wgrp;
  assign hist_wrow = HistRowW'(hist_waddr_i >> RowByteW);
  assign hist_wgrp = (Groups > 1) ? GrpW'(hist_waddr_i >> $clog2(AxiBytes)) : '0;

  for (genvar l = 0; l < Lanes; l++) begin : g_mem
    logic [31:0] mem_a [Rows];
    logic [31:0] mem_b [Rows];
    logic [31:0] mem_h [HistRows];
    logic [31:0] ra_q, rb_q, rh_q;
    always_ff @(posedge clk_i) begin
      if (wr_en && wr_mask[l]) begin
        mem_a[wr_row] <= wr_data[l*32 +: 32];
        mem_b[wr_row] <= wr_data[l*32 +: 32];
      end
      if (rd_a_en) ra_q <= mem_a[rd_row_a];
      if (rd_b_en) rb_q <= mem_b[rd_row_b];
    end
    always_ff @(posedge clk_i) begin
      if (hist_we_i && 32'(hist_wgrp) == l / Elems) mem_h[hist_wrow] <= hist_wdata_i[(l % Elems)*32 +: 32];
      if (rd_h_en) rh_q <= mem_h[HistRowW'(a_q + k_q)];
    end
    assign rd_a[l*32 +: 32] = from_h_q ? rh_q : ra_q;
    assign rd_b[l*32 +: 32] = rb_q;
  end

  // Memory port: row and beat within the row.
  logic [RowW-1:0] mem_wrow, mem_rrow;
  logic [GrpW-1:0] mem_wgrp, mem_rgrp, mem_grp_q;
  assign mem_wrow = RowW'(mem_waddr_i >> RowByteW);
  assign mem_rrow = RowW'(mem_raddr_i >> RowByteW);
  assign mem_wgrp = (Groups > 1) ? GrpW'(mem_waddr_i >> $clog2(AxiBytes)) : '0;
  assign mem_rgrp = (Groups > 1) ? GrpW'(mem_raddr_i >> $clog2(AxiBytes)) : '0;
  always_ff @(posedge clk_i) begin
    if (mem_re_i) mem_grp_q <= mem_rgrp;
  end
  always_comb begin
    mem_rdata_o = rd_a[AxiBytes*8-1:0];
    for (int g = 1; g < Groups; g++) begin
      if (mem_grp_q == GrpW'(g)) mem_rdata_o = rd_a[g*AxiBytes*8 +: AxiBytes*8];
    end
  end
  assign s_o         = pick_s(s_q, s_sel_i);

  // ---- streaming: issue row k, data the next cycle -----------------------------------------
  logic        stream_issue, data_valid_q;
  logic [15:0] data_row_q;                   // which row of the vector (or t) the data are
  assign stream_issue = state_q == SStream;
  assign rd_h_en  = stream_issue && hist_a_q;
  assign rd_a_en  = (stream_issue && !hist_a_q) || (exec && x_kind == KLoadS) || mem_re_i;
  assign rd_b_en  = stream_issue;
  always_comb begin
    if (stream_issue) begin
      rd_row_a = RowW'(a_q + k_q);
    end else if (mem_re_i) begin
      rd_row_a = mem_rrow;
    end else begin
      rd_row_a = RowW'(x_a + (x_len >> LaneW));   // LOADS
    end
  end
  assign rd_row_b = (kind_q == KDot) ? RowW'(b_q) :
                    (kind_q == KAxpy) ? RowW'(b_q + (k_q >> LaneW)) : RowW'(b_q + k_q);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      data_valid_q <= 1'b0;
    end else begin
      data_valid_q <= stream_issue;
    end
    from_h_q <= rd_h_en;
    data_row_q  <= k_q;
  end

  // Lanes holding an element in the row that just arrived.
  logic [Lanes-1:0] live;
  for (genvar l = 0; l < Lanes; l++) begin : g_live
    assign live[l] = 32'(data_row_q) * Lanes + l < 32'(len_q);
  end

  // ---- lanes -----------------------------------------------------------------------------------
  logic [Lanes*32-1:0] acc_q;
  logic [Lanes-1:0]    acc_full_q;             // the lane holds at least one element
  logic [Lanes*16-1:0] idx_q;                  // argmax: index of the lane's best
  logic [Lanes*32-1:0] alu_a, alu_b, alu_z;
  logic [3:0]          alu_op;
  logic                tree;
  logic [31:0]         axpy_w;                 // AXPYROWS: element t of vector b
  assign tree   = state_q == STree;
  assign axpy_w = pick_lane(rd_b, data_row_q[LaneW-1:0]);

  // The lane ALUs: elementwise ops while streaming, accumulation for reductions, products for
  // DOTROWS/AXPYROWS, and in the tree, lane i combines accumulators 2i and 2i+1.
  always_comb begin
    alu_op = op_q;
    alu_a  = rd_a;
    alu_b  = rd_b;
    unique case (kind_q)
      KVV: begin
        if (swap_b_q) begin
          for (int l = 0; l < Lanes; l++) alu_b[l*32 +: 32] = rd_b[(l ^ 1)*32 +: 32];
        end
      end
      KVS: alu_b = {Lanes{b_imm_q ? imm_q : pick_s(s_q, b_q[2:0])}};
      KSum, KMax: begin
        alu_op = (kind_q == KSum) ? OpAdd : OpMax;
        alu_a  = acc_q;
        alu_b  = rd_a;
        if (tree) begin
          for (int i = 0; i < Lanes / 2; i++) begin
            alu_a[i*32 +: 32] = acc_q[(2*i)*32 +: 32];
            alu_b[i*32 +: 32] = acc_q[(2*i+1)*32 +: 32];
          end
        end
      end
      KSS: begin
        // Scalar operations run on the lanes (lane 0's result is taken): no ALU of their own.
        alu_a = {Lanes{pick_s(s_q, a_q[2:0])}};
        alu_b = {Lanes{b_imm_q ? imm_q : pick_s(s_q, b_q[2:0])}};
      end
      KDot: alu_op = OpMul;
      KAxpy: begin
        alu_op = OpMul;
        alu_a  = {Lanes{axpy_w}};
        alu_b  = rd_a;
      end
      KMad: begin
        alu_op = OpMul;
        if (op_q == 4'd1) alu_b = {Lanes{imm_q}};
      end
      default: ;
    endcase
  end

  // The lanes compute only while the unit works (every use of alu_z is then), and only the
  // selected operation: an idle unit costs a simulator nothing.
  logic alu_active;
  assign alu_active = state_q != SIdle || data_valid_q;
  always_comb begin
    alu_z = '0;
    if (alu_active) begin
      for (int l = 0; l < Lanes; l++) alu_z[l*32 +: 32] = ks_kfp_pkg::alu(alu_op, alu_a[l*32 +: 32], alu_b[l*32 +: 32]);
    end
  end

  // MULADD's second stage: the rounded product (m2_q) and the addend C (c2_q: imm, or row b for
  // op 1) of the row that arrived last cycle, added (op 0) or subtracted from C (ops 1, 2).
  logic                v2_q;
  logic [15:0]         row2_q;
  logic [Lanes-1:0]    live2_q;
  logic [Lanes*32-1:0] m2_q, c2_q, z2;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      v2_q <= 1'b0;
    end else begin
      v2_q <= data_valid_q && kind_q == KMad;
    end
    if (data_valid_q && kind_q == KMad) begin
      m2_q    <= alu_z;
      c2_q    <= (op_q == 4'd1) ? rd_b : {Lanes{imm_q}};
      row2_q  <= data_row_q;
      live2_q <= live;
    end
  end
  always_comb begin
    z2 = '0;
    if (v2_q) begin
      for (int l = 0; l < Lanes; l++) begin
        z2[l*32 +: 32] = (op_q == 4'd0) ? ks_kfp_pkg::add(m2_q[l*32 +: 32], c2_q[l*32 +: 32], 1'b0)
                                        : ks_kfp_pkg::add(c2_q[l*32 +: 32], m2_q[l*32 +: 32], 1'b1);
      end
    end
  end

  // Order of KFP32 values as kfp::max sees them (zeros and subnormals equal).
  function automatic logic signed [33:0] key(input logic [31:0] v);
    logic [32:0] mag;
    mag = (v[30:23] == 8'd0) ? 33'd0 : {1'b0, v[30:23], 1'b1, v[22:0]};
    key = v[31] ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
  endfunction

  // ---- DOTROWS / AXPYROWS pipeline ---------------------------------------------------------
  // Stage 0: the lane products of row t. DOTROWS starts every lane sum from +0 (kvec::sum):
  // +0 + p is p, except that -0 becomes +0 (a product is never subnormal).
  logic [Lanes*32-1:0]  prod_q;
  logic                 pv_q;                  // prod_q holds row pt_q's products
  logic [15:0]          pt_q;
  logic [Lanes*32-1:0]  prod_d;
  for (genvar l = 0; l < Lanes; l++) begin : g_prod
    assign prod_d[l*32 +: 32] = (kind_q == KDot && alu_z[l*32+23 +: 8] == 8'd0) ? 32'd0 : alu_z[l*32 +: 32];
  end
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      pv_q <= 1'b0;
    end else begin
      pv_q <= data_valid_q && (kind_q == KDot || kind_q == KAxpy);
    end
    if (data_valid_q) begin
      prod_q <= prod_d;
      pt_q   <= data_row_q;
    end
  end

  // Lanes extra adders. DOTROWS: a registered tree in heap order -- node j < Lanes is lane
  // product j, node Lanes + i is adder i's register, adder i sums nodes 2i and 2i+1 -- so
  // level 1 adds lanes (0,1), (2,3), ..., and the root is node 2 Lanes - 2, as kvec::sum
  // combines them. AXPYROWS: adder l accumulates lane l.
  logic [(Lanes-1)*32-1:0] node_q;
  logic [(2*Lanes-1)*32-1:0] nodes;
  logic [Lanes*32-1:0] xa, xb, xz;
  assign nodes = {node_q, prod_q};
  always_comb begin
    xa = acc_q;
    xb = prod_q;
    if (kind_q != KAxpy) begin
      for (int i = 0; i < Lanes - 1; i++) begin
        xa[i*32 +: 32] = nodes[(2*i)*32 +: 32];
        xb[i*32 +: 32] = nodes[(2*i+1)*32 +: 32];
      end
    end
  end
  // Only while a row is in the pipeline.
  always_comb begin
    xz = '0;
    if (pv_q || tv_q != '0) begin
      for (int l = 0; l < Lanes; l++) xz[l*32 +: 32] = ks_kfp_pkg::add(xa[l*32 +: 32], xb[l*32 +: 32], 1'b0);
    end
  end

  // Tree level k (1..Levels) holds row tt_q[k]'s partial sums while tv_q[k].
  logic [Levels:1]    tv_q;
  logic [Levels*16-1:0] tt_q;
  logic               dot_out;
  logic [15:0]        dot_t;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      tv_q <= '0;
    end else begin
      tv_q[1] <= pv_q && kind_q == KDot;
      for (int k = 2; k <= Levels; k++) tv_q[k] <= tv_q[k-1];
    end
    node_q <= xz[(Lanes-1)*32-1:0];
    tt_q[0 +: 16] <= pt_q;
    for (int k = 2; k <= Levels; k++) tt_q[(k-1)*16 +: 16] <= tt_q[(k-2)*16 +: 16];
  end
  assign dot_out = tv_q[Levels];
  assign dot_t   = tt_q[(Levels-1)*16 +: 16];

  // The pipeline holds nothing but (at most) the element being written this cycle.
  logic pipe_done, axpy_write;
  logic [Levels:1] tv_busy;
  always_comb begin
    tv_busy = tv_q;
    tv_busy[Levels] = 1'b0;
  end
  assign pipe_done  = state_q == SPipe && !data_valid_q && !pv_q && tv_busy == '0;
  assign axpy_write = pipe_done && kind_q == KAxpy;

  // ---- writes into the vector memory (one source per cycle) -------------------------------
  logic [RowW-1:0]  store_row;
  logic [LaneW-1:0] store_lane;
  assign store_row  = RowW'(x_dst + (x_len >> LaneW));
  assign store_lane = x_len[LaneW-1:0];
  always_comb begin
    wr_en   = 1'b0;
    wr_row  = RowW'(dst_q + data_row_q);
    wr_mask = '0;
    wr_data = alu_z;
    if (data_valid_q && (kind_q == KVV || kind_q == KVS)) begin
      // Elementwise results are written the cycle their operands arrive.
      wr_en   = 1'b1;
      wr_mask = live;
    end else if (v2_q) begin
      wr_en   = 1'b1;
      wr_row  = RowW'(dst_q + row2_q);
      wr_mask = live2_q;
      wr_data = z2;
    end else if (dot_out) begin
      wr_en   = 1'b1;
      wr_row  = RowW'(dst_q + (dot_t >> LaneW));
      wr_mask = onehot(dot_t[LaneW-1:0]);
      wr_data = {Lanes{node_q[(Lanes-2)*32 +: 32]}};
    end else if (axpy_write) begin
      wr_en   = 1'b1;
      wr_row  = RowW'(dst_q);
      wr_mask = '1;
      wr_data = acc_q;
    end else if (store_s) begin
      wr_en   = 1'b1;
      wr_row  = store_row;
      wr_mask = onehot(store_lane);
      wr_data = {Lanes{pick_s(s_q, x_a[2:0])}};
    end else if (mem_we_i) begin
      wr_en   = 1'b1;
      wr_row  = mem_wrow;
      for (int l = 0; l < Lanes; l++) begin
        wr_mask[l] = 32'(mem_wgrp) == l / Elems && mem_wmask_i[l % Elems];
      end
      wr_data = {Groups{mem_wdata_i}};
    end
  end

  // ---- accumulators and the reduction tree -------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (accept) begin
      acc_q      <= '0;      // sums start from +0, as kvec::sum does (and AXPYROWS)
      acc_full_q <= '0;
    end else if (pv_q && kind_q == KAxpy) begin
      acc_q <= xz;
    end else if (data_valid_q && (kind_q == KSum || kind_q == KMax || kind_q == KArgmax)) begin
      for (int l = 0; l < Lanes; l++) begin
        if (live[l]) begin
          acc_full_q[l] <= 1'b1;
          if (kind_q == KSum) begin
            acc_q[l*32 +: 32] <= alu_z[l*32 +: 32];
          end else if (kind_q == KMax) begin
            acc_q[l*32 +: 32] <= acc_full_q[l] ? alu_z[l*32 +: 32] : rd_a[l*32 +: 32];
          end else if (!acc_full_q[l] || key(rd_a[l*32 +: 32]) > key(acc_q[l*32 +: 32])) begin
            acc_q[l*32 +: 32] <= rd_a[l*32 +: 32];
            idx_q[l*16 +: 16] <= 16'(32'(data_row_q) * Lanes + l);
          end
        end
      end
    end else if (tree) begin
      // Level: lane i <- combine(2i, 2i+1); an empty side passes the other through.
      for (int i = 0; i < Lanes / 2; i++) begin
        logic take_right;
        if (!acc_full_q[2*i+1]) begin
          take_right = 1'b0;
        end else if (!acc_full_q[2*i]) begin
          take_right = 1'b1;
        end else if (kind_q == KArgmax) begin
          take_right = key(acc_q[(2*i+1)*32 +: 32]) > key(acc_q[(2*i)*32 +: 32]) ||
                       (key(acc_q[(2*i+1)*32 +: 32]) == key(acc_q[(2*i)*32 +: 32]) &&
                        idx_q[(2*i+1)*16 +: 16] < idx_q[(2*i)*16 +: 16]);
        end else begin
          take_right = 1'b0;
        end
        if (kind_q != KSum && (kind_q == KArgmax || !acc_full_q[2*i] || !acc_full_q[2*i+1])) begin
          acc_q[i*32 +: 32] <= take_right ? acc_q[(2*i+1)*32 +: 32] : acc_q[(2*i)*32 +: 32];
          idx_q[i*16 +: 16] <= take_right ? idx_q[(2*i+1)*16 +: 16] : idx_q[(2*i)*16 +: 16];
        end else begin
          acc_q[i*32 +: 32] <= alu_z[i*32 +: 32];
        end
        acc_full_q[i] <= acc_full_q[2*i] || acc_full_q[2*i+1];
      end
      for (int i = Lanes / 2; i < Lanes; i++) acc_full_q[i] <= 1'b0;
    end
  end

  // ---- the state machine ------------------------------------------------------------------
  logic [15:0] rows_d;
  assign rows_d = (x_kind == KDot || x_kind == KAxpy) ? x_len :
                  16'((32'(x_len) + Lanes - 1) >> LaneW);

  // One scalar-register write per cycle.
  logic        s_we;
  logic [2:0]  s_widx;
  logic [31:0] s_wdata;
  logic        tree_last;
  assign tree_last = (state_q == STree && 32'(level_q) == Levels - 1) ||
                     (state_q == SDrain && Levels == 0 && (kind_q == KSum || kind_q == KMax || kind_q == KArgmax));
  always_comb begin
    s_we    = 1'b0;
    s_widx  = dst_q[2:0];
    s_wdata = alu_z[31:0];
    if (state_q == SIdle && exec && (((x_kind == KSum || x_kind == KMax || x_kind == KArgmax) &&
                                      rows_d == 16'd0) || x_kind == KSetS)) begin
      s_we    = 1'b1;
      s_widx  = x_dst[2:0];
      s_wdata = (x_kind == KSetS) ? x_imm : 32'd0;  // an empty reduction gives 0
    end else if (state_q == SLoadS) begin
      s_we    = 1'b1;
      s_wdata = pick_lane(rd_a, len_q[LaneW-1:0]);
    end else if (state_q == SScalar) begin
      s_we    = 1'b1;                                    // lane 0's result
    end else if (tree_last) begin
      // Reductions finish with the tree's last level (or straight from the lanes).
      s_we    = 1'b1;
      s_wdata = (kind_q == KArgmax) ? 32'(tree_idx) : tree_val;
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      s_q     <= '0;
    end else begin
      unique case (state_q)
        SIdle: begin
          if (exec) begin
            unique case (x_kind)
              KVV, KVS, KDot, KMad: state_q <= (rows_d == 16'd0) ? SIdle : SStream;
              KAxpy: state_q <= (rows_d == 16'd0) ? SPipe : SStream;
              KSum, KMax, KArgmax: state_q <= (rows_d == 16'd0) ? SIdle : SStream;
              KSS: state_q <= SScalar;
              KLoadS: state_q <= SLoadS;
              default: ;
            endcase
          end
        end
        SStream: if (k_q == rows_q - 1'b1) state_q <= SDrain;
        SDrain: begin
          // The last row's data arrive now.
          if (kind_q == KVV || kind_q == KVS) begin
            state_q <= SIdle;
          end else if (kind_q == KMad) begin
            state_q <= SDrain2;               // its second stage writes the last row next
          end else if (kind_q == KDot || kind_q == KAxpy) begin
            state_q <= SPipe;
          end else begin
            state_q <= (Levels == 0) ? SIdle : STree;
          end
        end
        STree: if (32'(level_q) == Levels - 1) state_q <= SIdle;
        SLoadS: state_q <= SIdle;
        SPipe: if (pipe_done) state_q <= SIdle;
        SScalar: state_q <= SIdle;
        SDrain2: state_q <= SIdle;
        default: state_q <= SIdle;
      endcase
      for (int k = 0; k < 8; k++) begin
        if (s_we && s_widx == 3'(k)) s_q[k*32 +: 32] <= s_wdata;
      end
    end
  end

  // The value the final tree level produces for lane 0.
  logic [31:0] tree_val;
  logic [15:0] tree_idx;
  always_comb begin
    tree_val = acc_q[31:0];
    tree_idx = idx_q[15:0];
    if (Levels > 0) begin
      if (kind_q == KSum) begin
        tree_val = alu_z[31:0];  // every lane takes part in a sum, empty ones as +0
      end else if (!acc_full_q[1]) begin
        tree_val = acc_q[31:0];
        tree_idx = idx_q[15:0];
      end else if (!acc_full_q[0]) begin
        tree_val = acc_q[63:32];
        tree_idx = idx_q[31:16];
      end else if (kind_q == KArgmax) begin
        if (key(acc_q[63:32]) > key(acc_q[31:0]) ||
            (key(acc_q[63:32]) == key(acc_q[31:0]) && idx_q[31:16] < idx_q[15:0])) begin
          tree_val = acc_q[63:32];
          tree_idx = idx_q[31:16];
        end
      end else begin
        tree_val = alu_z[31:0];
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (accept) begin
      kind_q   <= x_kind;
      op_q     <= x_op;
      swap_b_q <= x_swap_b;
      hist_a_q <= x_hist_a;
      b_imm_q  <= x_b_imm;
      dst_q    <= x_dst;
      a_q      <= x_a;
      b_q      <= x_b;
      len_q    <= x_len;
      imm_q    <= x_imm;
      rows_q   <= rows_d;
      k_q      <= '0;
      level_q  <= '0;
    end else begin
      if (state_q == SStream) k_q <= k_q + 1'b1;
      if (state_q == STree) level_q <= level_q + 1'b1;
    end
  end

  `KS_ASSERT(no_memory_port_while_busy_a, !(busy_o && (mem_we_i || mem_re_i || prog_we_i)))
  `KS_ASSERT(prog_write_aligned_a, !prog_we_i || prog_waddr_i[$clog2(AxiBytes)-1:0] == '0)
  `KS_ASSERT(hist_write_aligned_a, !hist_we_i || hist_waddr_i[$clog2(AxiBytes)-1:0] == '0)
  `KS_ASSERT(no_memory_port_with_an_instruction_a, !(accept && (mem_we_i || mem_re_i)))
  `KS_ASSERT(memory_write_aligned_a, !mem_we_i || mem_waddr_i[$clog2(AxiBytes)-1:0] == '0)
  `KS_ASSERT(memory_read_aligned_a, !mem_re_i || mem_raddr_i[$clog2(AxiBytes)-1:0] == '0)
endmodule

/// Compute engine: executes MATMUL descriptors on the matrix unit, reading operands from
/// the WGT and ACT banks and writing INT32 results to the ACC bank.
///
/// The command arrives with its loop bounds precomputed by the command processor (NB
/// weight row blocks, KC reduction chunks per row, KX ACT words per X row, and the word
/// addresses of the three operands). Loop order, outermost first: token chunks of at most
/// AccDepth, nb, kc, token m (docs/matrix_unit.md). Each beat reads WGT word
/// wgt + nb*KC + kc and ACT word act + m*KX + kc (INT4) or kc/2 (INT8, lower or upper
/// half). The banks' read registers are the operand buffer: a read issued in one cycle has
/// its data at the bank outputs in the next, where they stay (no other read is issued) until
/// the matrix unit takes them, so one beat per cycle reaches it while it accepts (its
/// in_ready depends on its own state only). Each group of cpg chunks gives its
/// own partial sum (cpg = KC: one sum over all of K). Results arrive in order (token m
/// fastest, then group, then nb) and are written to ACC word acc + (m*NB + nb)*G + g. No
/// multiplier: NB*G comes with the command, and a token chunk (AccDepth tokens, a power of
/// two) moves the ACT and ACC addresses by shifts.
///
/// Int4Native = 0 feeds an INT4 chunk to the matrix unit as two INT8 beats (half the INT4
/// rate): the low nibbles, sign-extended, with the even activations, then the high nibbles
/// with the odd ones, into the same partial sum. The matrix unit then only ever sees INT8
/// beats, and synthesis leaves its INT4 logic out.
/// done_o pulses after the last result is written.
/// abort_i stops issuing beats and finishes when the matrix unit is empty.
module ks_compute_engine #(
  parameter int unsigned Rows      = 8,
  parameter int unsigned Cols      = 16,
  parameter int unsigned AccDepth  = 512,
  parameter int unsigned FifoDepth = 32,
  parameter int unsigned WgtWordBytes = 128,
  parameter int unsigned ActWordBytes = 32,
  parameter int unsigned AccWordBytes = 32,
  parameter int unsigned WgtWordW  = 16,
  parameter int unsigned ActWordW  = 16,
  parameter int unsigned AccWordW  = 16,
  // Widths of the loop bounds, from the bank sizes the command processor checked them
  // against: M and KX are at most the ACT words, NB, KC and G the WGT words, NB x G the ACC
  // words.
  parameter int unsigned MW        = 16,
  parameter int unsigned NbW       = 16,
  parameter int unsigned NbgW      = 16,
  parameter int unsigned RowsW     = $clog2(Rows + 1),
  parameter int unsigned KW        = $clog2(2 * Cols + 1),
  parameter int unsigned Int4Native = 1
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic                      abort_i,
  // Command
  input  logic                      cmd_valid_i,
  output logic                      cmd_ready_o,
  input  logic                      cmd_int4_i,
  input  logic [MW-1:0]             cmd_m_i,
  input  logic [NbW-1:0]            cmd_nb_i,
  input  logic [NbW-1:0]            cmd_kc_i,
  input  logic [MW-1:0]             cmd_kx_i,
  input  logic [WgtWordW-1:0]       cmd_wgt_i,
  input  logic [ActWordW-1:0]       cmd_act_i,
  input  logic [AccWordW-1:0]       cmd_acc_i,
  input  logic [RowsW-1:0]          cmd_rows_last_i,   // valid rows in the last block
  input  logic [KW-1:0]             cmd_k_last_i,      // valid K elements in the last chunk
  input  logic [NbW:0]              cmd_cpg_i,         // reduction chunks per partial-sum group (saturated)
  input  logic [NbW-1:0]            cmd_groups_i,      // groups per output: ceil(KC / cpg)
  input  logic [NbgW-1:0]           cmd_nbg_i,         // NB * groups
  output logic                      done_o,
  // Bank reads (wide ports; data the next cycle)
  output logic                      wgt_re_o,
  output logic [WgtWordW-1:0]       wgt_addr_o,
  input  logic [WgtWordBytes*8-1:0] wgt_data_i,
  output logic                      act_re_o,
  output logic [ActWordW-1:0]       act_addr_o,
  input  logic [ActWordBytes*8-1:0] act_data_i,
  // Bank write (wide port)
  output logic                      acc_we_o,
  output logic [AccWordW-1:0]       acc_addr_o,
  output logic [AccWordBytes*8-1:0] acc_data_o,
  // Status and counters
  output logic                      busy_o,
  output logic [15:0]               macs_o,          // useful MACs entering the array this cycle
  output logic                      beat_o,          // a beat entered the array
  output logic                      stall_operand_o, // command active, array ready, no beat
  output logic                      stall_result_o   // beat ready, array not
);
  `include "ks_cmp.svh"
  localparam int unsigned AccAddrW = (AccDepth > 1) ? $clog2(AccDepth) : 1;
  localparam int unsigned KB8 = Cols;
  localparam int unsigned KB4 = 2 * Cols;
  localparam int unsigned MacsW = RowsW + KW;
  localparam int unsigned MtW   = AccAddrW + 1;   // tokens in a chunk: 1 .. AccDepth
  localparam int unsigned KcW   = NbW + 1;        // reduction beats: KC, or 2 KC (INT4 as INT8 beats)

  // ---- command state -------------------------------------------------------------------------
  logic        busy_q, aborted_q, int4_q, split_q, issuing_q;
  logic [MW-1:0]  kx_q;
  logic [NbW-1:0] nb_q, kc_q, groups_q;
  logic [KcW-1:0] kce_q;          // reduction beats per row block
  logic [KcW:0]   cpge_q;         // reduction beats per partial-sum group
  logic [RowsW-1:0] rows_last_q;   // 1 .. Rows
  logic [KW-1:0]    k_last_q;      // 1 .. 2 * Cols
  logic [WgtWordW-1:0] wgt_q;

  logic start, finished;
  assign cmd_ready_o = !busy_q;
  assign start = cmd_valid_i && cmd_ready_o;

  // ---- issue loop: chunk (m0), nb, kc, m ------------------------------------------------------
  // Each loop's end is the incremented index equal to its bound (the increment is the one
  // the index takes: no decrement of the bound), and the tokens left from the chunk on are
  // counted down (rem_q = M - m0) instead of m0 counted up.
  logic [MW-1:0]       rem_q;
  logic [MtW-1:0]      mt_q;
  logic [AccAddrW-1:0] i_m_q;
  logic [NbW-1:0]      i_nb_q;
  logic [KcW-1:0]      i_kc_q, i_kg_q;           // reduction beat; i_kg_q: beat within its group
  logic [WgtWordW-1:0] wgt_block_q;   // wgt + nb*KC
  logic [ActWordW-1:0] act_chunk_q;   // act + m0*KX
  logic [ActWordW-1:0] act_row_q;     // act + (m0+m)*KX + kc word
  logic issue, last_m, last_kc, last_nb, last_chunk, last_kg;
  logic [MtW-1:0] mt_next;
  logic [MW:0]    left;       // tokens after this chunk
  logic [MtW-1:0] i_m_inc;
  logic [KcW-1:0] i_kc_inc;
  logic [KcW:0]   i_kg_inc;
  logic [NbW-1:0] i_nb_inc;
  assign i_m_inc    = MtW'(i_m_q) + 1'b1;
  assign i_kc_inc   = i_kc_q + 1'b1;
  assign i_kg_inc   = (KcW + 1)'(i_kg_q) + 1'b1;
  assign i_nb_inc   = i_nb_q + 1'b1;
  assign last_m     = i_m_inc == mt_q;
  assign last_kc    = i_kc_inc == kce_q;
  assign last_kg    = i_kg_inc == cpge_q;
  assign last_nb    = i_nb_inc == nb_q;
  assign left       = (MW + 1)'(rem_q) - (MW + 1)'(mt_q);
  assign last_chunk = left == '0;
  assign mt_next    = ks_gt_const(64'(left), 64'(AccDepth)) ? MtW'(AccDepth) : MtW'(left);

  // The next beat's word within an X row: kc in INT4 mode, kc/2 in INT8 mode (and for INT4
  // as two INT8 beats: the even and the odd bytes of one word).
  logic [KcW:0] kc_word_next;
  assign kc_word_next = (int4_q && !split_q) ? (KcW + 1)'(i_kc_inc) : (KcW + 1)'(i_kc_inc) >> 1;

  // A read is issued when the bank outputs are free or being taken by the matrix unit.
  logic op_valid_q, mu_ready, advance;
  assign advance = !op_valid_q || mu_ready;
  assign issue   = issuing_q && !aborted_q && !abort_i && advance;

  assign wgt_re_o   = issue;
  assign wgt_addr_o = wgt_block_q + WgtWordW'(split_q ? i_kc_q >> 1 : i_kc_q);
  assign act_re_o   = issue;
  assign act_addr_o = act_row_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      busy_q    <= 1'b0;
      issuing_q <= 1'b0;
      aborted_q <= 1'b0;
    end else if (start) begin
      busy_q    <= 1'b1;
      issuing_q <= 1'b1;
      aborted_q <= 1'b0;
    end else begin
      if (abort_i && busy_q) aborted_q <= 1'b1;
      if (issue && last_m && last_kc && last_nb && last_chunk) issuing_q <= 1'b0;
      if (busy_q && finished) busy_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (start) begin
      int4_q      <= cmd_int4_i;
      split_q     <= Int4Native == 0 && cmd_int4_i;
      kce_q       <= (Int4Native == 0 && cmd_int4_i) ? KcW'(cmd_kc_i) << 1 : KcW'(cmd_kc_i);
      cpge_q      <= (Int4Native == 0 && cmd_int4_i) ? (KcW + 1)'(cmd_cpg_i) << 1 : (KcW + 1)'(cmd_cpg_i);
      nb_q        <= cmd_nb_i;
      kc_q        <= cmd_kc_i;
      kx_q        <= cmd_kx_i;
      wgt_q       <= cmd_wgt_i;
      rows_last_q <= cmd_rows_last_i;
      k_last_q    <= cmd_k_last_i;
      groups_q    <= cmd_groups_i;
      rem_q       <= cmd_m_i;
      mt_q        <= ks_gt_const(64'(cmd_m_i), 64'(AccDepth)) ? MtW'(AccDepth) : MtW'(cmd_m_i);
      i_nb_q      <= '0;
      i_kc_q      <= '0;
      i_kg_q      <= '0;
      i_m_q       <= '0;
      wgt_block_q <= cmd_wgt_i;
      act_chunk_q <= cmd_act_i;
      act_row_q   <= cmd_act_i;
    end else if (issue) begin
      if (!last_m) begin
        i_m_q     <= AccAddrW'(i_m_inc);
        act_row_q <= act_row_q + ActWordW'(kx_q);
      end else if (!last_kc) begin
        i_m_q     <= '0;
        i_kc_q    <= i_kc_inc;
        i_kg_q    <= last_kg ? '0 : KcW'(i_kg_inc);
        act_row_q <= act_chunk_q + ActWordW'(kc_word_next);
      end else if (!last_nb) begin
        i_m_q       <= '0;
        i_kc_q      <= '0;
        i_kg_q      <= '0;
        i_nb_q      <= i_nb_inc;
        wgt_block_q <= wgt_block_q + WgtWordW'(kc_q);
        act_row_q   <= act_chunk_q;
      end else begin
        // Next token chunk: X rows m0 + mt onwards.
        i_m_q       <= '0;
        i_kc_q      <= '0;
        i_kg_q      <= '0;
        i_nb_q      <= '0;
        wgt_block_q <= wgt_q;
        rem_q       <= MW'(left);
        mt_q        <= mt_next;
        // Every chunk but the last has AccDepth tokens: AccDepth * KX words on.
        act_chunk_q <= act_chunk_q + ActWordW'(32'(kx_q) << AccAddrW);
        act_row_q   <= act_chunk_q + ActWordW'(32'(kx_q) << AccAddrW);
      end
    end
  end

  // ---- the tag of the beat at the bank outputs ------------------------------------------------
  typedef struct packed {
    logic                int4;   // an INT4 beat of the matrix unit (native INT4 only)
    logic                split;  // INT4 as an INT8 beat: half selects the nibbles and bytes
    logic                half;   // INT8: the chunk is the upper half of the ACT word; split INT4:
                                 // the high nibbles with the odd activations
    logic                first;
    logic                last;
    logic [AccAddrW-1:0] addr;
    logic [MacsW-1:0]    macs;
  } tag_t;

  // Useful MACs of a beat: valid rows x valid K elements, by shift-add (small operands; no
  // multiplier block).
  function automatic logic [MacsW-1:0] small_product(input logic [RowsW-1:0] a, input logic [KW-1:0] b);
    small_product = '0;
    for (int i = 0; i < RowsW; i++) begin
      if (a[i]) small_product = small_product + (MacsW'(b) << i);
    end
  endfunction

  tag_t tag_d, op_tag_q;
  logic [RowsW-1:0] rows_valid;
  logic [KW-1:0]    k_valid;
  assign rows_valid = last_nb ? rows_last_q : RowsW'(Rows);
  // Split INT4: each half of the last chunk has its share of the valid elements (even ones
  // first).
  logic in_last_chunk;
  assign in_last_chunk = split_q ? (i_kc_q >> 1) == KcW'(kc_q - 1'b1) : last_kc;
  always_comb begin
    if (!in_last_chunk) k_valid = (int4_q && !split_q) ? KW'(KB4) : KW'(KB8);
    else if (!split_q)  k_valid = k_last_q;
    else                k_valid = i_kc_q[0] ? k_last_q >> 1 : (k_last_q + 1'b1) >> 1;
  end
  assign tag_d = {int4_q && !split_q, split_q, (!int4_q || split_q) && i_kc_q[0], i_kg_q == '0,
                  last_kc || last_kg, AccAddrW'(i_m_q), small_product(rows_valid, k_valid)};

  always_ff @(posedge clk_i) begin
    if (!rst_ni || start || abort_i) begin
      op_valid_q <= 1'b0;
    end else if (advance) begin
      op_valid_q <= issue;
    end
    if (issue) op_tag_q <= tag_d;
  end

  // The operands as the matrix unit takes them. INT8: the chunk's half of the ACT word. Split
  // INT4: the even (low nibbles) or odd (high nibbles) activations, and every weight byte's
  // nibble sign-extended.
  logic [2*Cols*8-1:0]    x_sel, x_even, x_odd;
  logic [Rows*Cols*8-1:0] w_sel, w_nib;
  for (genvar c = 0; c < Cols; c++) begin : g_x_split
    assign x_even[c*8 +: 8] = act_data_i[(2*c)*8 +: 8];
    assign x_odd[c*8 +: 8]  = act_data_i[(2*c+1)*8 +: 8];
  end
  assign x_even[2*Cols*8-1:Cols*8] = '0;
  assign x_odd[2*Cols*8-1:Cols*8]  = '0;
  for (genvar b = 0; b < Rows * Cols; b++) begin : g_w_split
    logic [3:0] nib;
    assign nib = op_tag_q.half ? wgt_data_i[b*8 + 4 +: 4] : wgt_data_i[b*8 +: 4];
    assign w_nib[b*8 +: 8] = {{4{nib[3]}}, nib};
  end
  always_comb begin
    if (op_tag_q.int4) begin
      x_sel = act_data_i[2*Cols*8-1:0];
    end else if (Int4Native == 0 && op_tag_q.split) begin
      x_sel = op_tag_q.half ? x_odd : x_even;
    end else begin
      x_sel = op_tag_q.half ? {{Cols*8{1'b0}}, act_data_i[2*Cols*8-1:Cols*8]} : {{Cols*8{1'b0}}, act_data_i[Cols*8-1:0]};
    end
  end
  assign w_sel = (Int4Native == 0 && op_tag_q.split) ? w_nib : wgt_data_i[Rows*Cols*8-1:0];

  // ---- matrix unit ---------------------------------------------------------------------------
  logic mu_out_valid, mu_busy;
  logic [Rows*32-1:0] mu_out_data;
  logic [AccAddrW-1:0] mu_out_addr;

  ks_matrix_unit #(.Rows(Rows), .Cols(Cols), .AccDepth(AccDepth), .FifoDepth(FifoDepth), .OutReadyAlways(1'b1),
                   .Int4(Int4Native != 0)) u_mu (
    .clk_i,
    .rst_ni,
    .in_valid_i (op_valid_q),
    .in_ready_o (mu_ready),
    .in_w_i     (w_sel),
    .in_x_i     (x_sel),
    .in_int4_i  (op_tag_q.int4),
    .in_first_i (op_tag_q.first),
    .in_last_i  (op_tag_q.last),
    .in_addr_i  (op_tag_q.addr),
    .out_valid_o(mu_out_valid),
    .out_ready_i(1'b1),
    .out_data_o (mu_out_data),
    .out_addr_o (mu_out_addr),
    .busy_o     (mu_busy)
  );

  // ---- results: token chunk, nb, group, m in order ---------------------------------------
  logic [MW-1:0]       r_rem_q;   // tokens from the chunk on: M - m0
  logic [MtW-1:0]      r_mt_q;
  logic [NbW-1:0]      r_nb_q, r_g_q;
  logic [AccAddrW-1:0] r_m_q;
  logic [AccWordW-1:0] r_chunk_q;   // acc + m0*NB*G
  logic [AccWordW-1:0] r_blk_q;     // acc + m0*NB*G + nb*G
  logic [AccWordW-1:0] r_row_q;     // acc + ((m0+m)*NB + nb)*G + g
  logic [NbgW-1:0]     nbg_q;       // NB*G: from one token's results to the next's
  logic r_last_m, r_last_g, r_last_nb, r_done;
  logic [MtW-1:0] r_mt_next;
  logic [MW:0]    r_left;
  logic [MtW-1:0] r_m_inc;
  logic [NbW-1:0] r_g_inc, r_nb_inc;
  assign r_m_inc   = MtW'(r_m_q) + 1'b1;
  assign r_g_inc   = r_g_q + 1'b1;
  assign r_nb_inc  = r_nb_q + 1'b1;
  assign r_last_m  = r_m_inc == r_mt_q;
  assign r_last_g  = r_g_inc == groups_q;
  assign r_last_nb = r_nb_inc == nb_q;
  assign r_left    = (MW + 1)'(r_rem_q) - (MW + 1)'(r_mt_q);
  assign r_done    = r_last_m && r_last_g && r_last_nb && r_left == '0;
  assign r_mt_next = ks_gt_const(64'(r_left), 64'(AccDepth)) ? MtW'(AccDepth) : MtW'(r_left);
  logic results_done_q;

  always_ff @(posedge clk_i) begin
    if (start) begin
      r_rem_q        <= cmd_m_i;
      r_mt_q         <= ks_gt_const(64'(cmd_m_i), 64'(AccDepth)) ? MtW'(AccDepth) : MtW'(cmd_m_i);
      r_nb_q         <= '0;
      r_g_q          <= '0;
      r_m_q          <= '0;
      r_chunk_q      <= cmd_acc_i;
      r_blk_q        <= cmd_acc_i;
      r_row_q        <= cmd_acc_i;
      nbg_q          <= cmd_nbg_i;
      results_done_q <= 1'b0;
    end else if (mu_out_valid) begin
      if (r_done) begin
        results_done_q <= 1'b1;
      end
      if (!r_last_m) begin
        r_m_q   <= AccAddrW'(r_m_inc);
        r_row_q <= r_row_q + AccWordW'(nbg_q);
      end else if (!r_last_g) begin
        r_m_q   <= '0;
        r_g_q   <= r_g_inc;
        r_row_q <= r_blk_q + AccWordW'(r_g_inc);
      end else if (!r_last_nb) begin
        r_m_q   <= '0;
        r_g_q   <= '0;
        r_nb_q  <= r_nb_inc;
        r_blk_q <= r_blk_q + AccWordW'(groups_q);
        r_row_q <= r_blk_q + AccWordW'(groups_q);
      end else begin
        r_m_q     <= '0;
        r_g_q     <= '0;
        r_nb_q    <= '0;
        r_rem_q   <= MW'(r_left);
        r_mt_q    <= r_mt_next;
        // Every chunk but the last has AccDepth tokens: AccDepth * NB * G words on.
        r_chunk_q <= r_chunk_q + AccWordW'(32'(nbg_q) << AccAddrW);
        r_blk_q   <= r_chunk_q + AccWordW'(32'(nbg_q) << AccAddrW);
        r_row_q   <= r_chunk_q + AccWordW'(32'(nbg_q) << AccAddrW);
      end
    end
  end

  assign acc_we_o   = mu_out_valid && busy_q && !aborted_q;
  assign acc_addr_o = r_row_q;
  localparam int unsigned AccDataW = AccWordBytes * 8;
  assign acc_data_o = AccDataW'(mu_out_data);

  assign finished = aborted_q ? (!mu_busy && !op_valid_q) : results_done_q;
  assign done_o   = busy_q && finished;
  assign busy_o   = busy_q;

  logic mu_fire;
  assign mu_fire         = op_valid_q && mu_ready;
  assign beat_o          = mu_fire;
  assign macs_o          = mu_fire ? 16'(op_tag_q.macs) : 16'd0;
  assign stall_operand_o = busy_q && !aborted_q && !op_valid_q && mu_ready && !results_done_q && issuing_q;
  assign stall_result_o  = op_valid_q && !mu_ready;

  logic unused;
  assign unused = ^{mu_out_addr, wgt_data_i, act_data_i, kc_word_next};
endmodule

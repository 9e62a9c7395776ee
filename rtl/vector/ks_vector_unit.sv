/// The vector unit: Lanes KFP32 lanes (ks_kfp_alu) over a vector memory of Rows rows of
/// Lanes words, and eight scalar registers. It executes one instruction at a time
/// (valid/ready; ready when idle), one row per cycle; the bit-exact model is
/// ks::golden::VectorUnitModel and the instruction set is in docs/vector_unit.md:
///
///   kind 0 VV: vector[dst] = op(vector[a], vector[b])     kind 1 VS: ... op(vector[a], S[b])
///   kind 2 SS: S[dst] = op(S[a], S[b])                   kind 3 SUM, 4 MAX: S[dst] = reduce(vector[a])
///   kind 5 ARGMAX: S[dst] = first index of the largest  kind 6 LOADS: S[dst] = vector[a][len]
///   kind 7 STORES: vector[dst][len] = S[a]               kind 8 SETS: S[dst] = imm
///
/// Element e of the vector at row r is lane e % Lanes of row r + e / Lanes. Reductions run
/// lane-wise over the rows, then combine the lanes pairwise, one tree level per cycle. The
/// memory is kept twice (two reads and one write per cycle). A host port writes and reads
/// single elements while the unit is idle (to load operands and read results).
`include "ks_assert.svh"

module ks_vector_unit #(
  parameter int unsigned Lanes = 8,
  parameter int unsigned Rows  = 256,
  parameter int unsigned RowW  = $clog2(Rows)
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  // Instructions
  input  logic        in_valid_i,
  output logic        in_ready_o,
  input  logic [3:0]  in_kind_i,
  input  logic [3:0]  in_op_i,
  input  logic [15:0] in_dst_i,
  input  logic [15:0] in_a_i,
  input  logic [15:0] in_b_i,
  input  logic [15:0] in_len_i,
  input  logic [31:0] in_imm_i,
  output logic        busy_o,
  // Host port: one element per cycle, read data the next cycle
  input  logic        host_we_i,
  input  logic        host_re_i,
  input  logic [15:0] host_elem_i,   // element index from row 0
  input  logic [31:0] host_wdata_i,
  output logic [31:0] host_rdata_o,
  input  logic [2:0]  host_s_sel_i,
  output logic [31:0] host_s_o
);
  localparam int unsigned LaneW  = (Lanes > 1) ? $clog2(Lanes) : 1;
  localparam int unsigned Levels = $clog2(Lanes);
  localparam logic [3:0] KVV = 4'd0, KVS = 4'd1, KSS = 4'd2, KSum = 4'd3, KMax = 4'd4, KArgmax = 4'd5,
                         KLoadS = 4'd6, KStoreS = 4'd7, KSetS = 4'd8;
  localparam logic [3:0] OpAdd = 4'd0, OpMax = 4'd3;

  typedef enum logic [2:0] {SIdle, SStream, SDrain, STree, SLoadS} state_e;
  state_e state_q;

  // ---- the instruction in hand ---------------------------------------------------------------
  logic [3:0]  kind_q, op_q;
  logic [15:0] dst_q, a_q, b_q, len_q;
  logic [15:0] rows_q, k_q;                  // rows to stream, rows issued
  logic [LaneW:0] level_q;
  logic [31:0] s_q [8];

  logic accept, store_s;
  assign in_ready_o = state_q == SIdle;
  assign store_s    = accept && in_kind_i == KStoreS;  // one element, written at once
  assign accept     = in_valid_i && in_ready_o;
  assign busy_o     = state_q != SIdle;

  // ---- vector memory: two copies, per lane --------------------------------------------------
  logic              rd_en, wr_en;
  logic [RowW-1:0]   rd_row_a, rd_row_b, wr_row;
  logic [Lanes-1:0]  wr_mask;
  logic [Lanes*32-1:0] wr_data, rd_a, rd_b;

  for (genvar l = 0; l < Lanes; l++) begin : g_mem
    logic [31:0] mem_a [Rows];
    logic [31:0] mem_b [Rows];
    logic [31:0] ra_q, rb_q;
    logic        we;
    logic [RowW-1:0] wrow;
    logic [31:0] wdata;
    logic [RowW-1:0] rrow_a;
    logic host_lane;
    assign host_lane = host_elem_i[LaneW-1:0] == LaneW'(l) || Lanes == 1;
    logic store_lane;
    assign store_lane = store_s && (in_len_i[LaneW-1:0] == LaneW'(l) || Lanes == 1);
    assign we    = (wr_en && wr_mask[l]) || store_lane || (host_we_i && host_lane);
    assign wrow  = wr_en ? wr_row : store_s ? RowW'(in_dst_i + (in_len_i >> LaneW)) : RowW'(host_elem_i >> LaneW);
    assign wdata = wr_en ? wr_data[l*32 +: 32] : store_s ? s_q[in_a_i[2:0]] : host_wdata_i;
    assign rrow_a = rd_en ? rd_row_a : RowW'(host_elem_i >> LaneW);
    always_ff @(posedge clk_i) begin
      if (we) begin
        mem_a[wrow] <= wdata;
        mem_b[wrow] <= wdata;
      end
      if (rd_en || host_re_i) ra_q <= mem_a[rrow_a];
      if (rd_en) rb_q <= mem_b[rd_row_b];
    end
    assign rd_a[l*32 +: 32] = ra_q;
    assign rd_b[l*32 +: 32] = rb_q;
  end

  logic [LaneW-1:0] host_lane_q;
  always_ff @(posedge clk_i) begin
    if (host_re_i) host_lane_q <= host_elem_i[LaneW-1:0];
  end
  assign host_rdata_o = rd_a[32'(host_lane_q)*32 +: 32];
  assign host_s_o     = s_q[host_s_sel_i];

  // ---- streaming: issue row k, data the next cycle -----------------------------------------
  logic        stream_issue, data_valid_q;
  logic [15:0] data_row_q;                   // which row of the vector the data are
  assign stream_issue = state_q == SStream;
  assign rd_en    = stream_issue || (state_q == SIdle && accept && in_kind_i == KLoadS);
  assign rd_row_a = (state_q == SIdle) ? RowW'(in_a_i + (in_len_i >> LaneW)) : RowW'(a_q + k_q);
  assign rd_row_b = RowW'(b_q + k_q);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      data_valid_q <= 1'b0;
    end else begin
      data_valid_q <= stream_issue;
    end
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
  assign tree = state_q == STree;

  // The lane ALUs: elementwise ops while streaming, accumulation for reductions, and in the
  // tree, lane i combines accumulators 2i and 2i+1.
  always_comb begin
    alu_op = op_q;
    alu_a  = rd_a;
    alu_b  = (kind_q == KVS) ? {Lanes{s_q[b_q[2:0]]}} : rd_b;
    if (kind_q == KSum || kind_q == KMax) begin
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
  end

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    ks_kfp_alu u_alu (.op_i(alu_op), .a_i(alu_a[l*32 +: 32]), .b_i(alu_b[l*32 +: 32]), .z_o(alu_z[l*32 +: 32]));
  end

  // Order of KFP32 values as kfp::max sees them (zeros and subnormals equal).
  function automatic logic signed [33:0] key(input logic [31:0] v);
    logic [32:0] mag;
    mag = (v[30:23] == 8'd0) ? 33'd0 : {1'b0, v[30:23], 1'b1, v[22:0]};
    key = v[31] ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
  endfunction

  // Results of elementwise instructions are written the cycle their operands arrive.
  assign wr_en   = data_valid_q && (kind_q == KVV || kind_q == KVS);
  assign wr_row  = RowW'(dst_q + data_row_q);
  assign wr_mask = live;
  assign wr_data = alu_z;

  // ---- accumulators and the tree ---------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (accept) begin
      acc_q      <= '0;      // sums start from +0, as kvec::sum does
      acc_full_q <= '0;
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
  assign rows_d = (in_len_i + 16'(Lanes - 1)) >> LaneW;
  logic [31:0] ss_z;
  ks_kfp_alu u_scalar (.op_i(in_op_i), .a_i(s_q[in_a_i[2:0]]), .b_i(s_q[in_b_i[2:0]]), .z_o(ss_z));

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      for (int i = 0; i < 8; i++) s_q[i] <= '0;
    end else begin
      unique case (state_q)
        SIdle: begin
          if (accept) begin
            unique case (in_kind_i)
              KVV, KVS: state_q <= (rows_d == 16'd0) ? SIdle : SStream;
              KSum, KMax, KArgmax: begin
                if (rows_d == 16'd0) begin
                  s_q[in_dst_i[2:0]] <= '0;  // an empty reduction gives 0
                end else begin
                  state_q <= SStream;
                end
              end
              KSS: s_q[in_dst_i[2:0]] <= ss_z;
              KLoadS: state_q <= SLoadS;
              KSetS: s_q[in_dst_i[2:0]] <= in_imm_i;
              default: ;
            endcase
          end
        end
        SStream: if (k_q == rows_q - 1'b1) state_q <= SDrain;
        SDrain: begin
          // The last row's data arrive now.
          if (kind_q == KVV || kind_q == KVS) begin
            state_q <= SIdle;
          end else begin
            state_q <= (Levels == 0) ? SIdle : STree;
          end
        end
        STree: begin
          if (32'(level_q) == Levels - 1) begin
            state_q <= SIdle;
          end
        end
        SLoadS: begin
          s_q[dst_q[2:0]] <= rd_a[32'(len_q[LaneW-1:0])*32 +: 32];
          state_q <= SIdle;
        end
        default: state_q <= SIdle;
      endcase
      // Reductions finish with the tree's last level (or straight from the lanes).
      if ((state_q == STree && 32'(level_q) == Levels - 1) || (state_q == SDrain && Levels == 0 &&
          (kind_q == KSum || kind_q == KMax || kind_q == KArgmax))) begin
        s_q[dst_q[2:0]] <= (kind_q == KArgmax) ? 32'(tree_idx) : tree_val;
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
      kind_q  <= in_kind_i;
      op_q    <= in_op_i;
      dst_q   <= in_dst_i;
      a_q     <= in_a_i;
      b_q     <= in_b_i;
      len_q   <= in_len_i;
      rows_q  <= rows_d;
      k_q     <= '0;
      level_q <= '0;
    end else begin
      if (state_q == SStream) k_q <= k_q + 1'b1;
      if (state_q == STree) level_q <= level_q + 1'b1;
    end
  end


  `KS_ASSERT(no_host_access_while_busy_a, !(busy_o && (host_we_i || host_re_i)))
endmodule

/// VMOVE: moves data between the vector memory and the matrix unit's banks, one element per
/// cycle (docs/descriptors.md, opcode VMOVE). The command processor has checked every
/// operand (ranges, alignment, COUNT a multiple of GROUPS); it starts a move only when every
/// engine is idle, so the banks' narrow ports and the vector unit's memory port are free.
///
///   DIR 0 ACC_TO_VEC: for i < COUNT (ACC words from BANK_ADDR), nb = i / GROUPS,
///     g = i % GROUPS: the Rows INT32 values of word i go to elements
///     VEC_ELEM + g x GSTRIDE + nb x Rows + r, in the order i, then r.
///   DIR 1 VEC_TO_ACT: ACT byte BANK_ADDR + e = the low byte of element VEC_ELEM + e for
///     e < COUNT, then zeros up to the next multiple of ActWordBytes.
///
/// Command valid/ready (ready when idle); done_o pulses when the last write has been made.
/// Reads (ACC narrow port, vector memory port) return data the next cycle, so a read is
/// issued every cycle and its element written the cycle after. abort_i returns to idle at
/// once (nothing is in flight outside the SRAMs).
module ks_vmove #(
  parameter int unsigned Rows         = 8,        // INT32 values per ACC word
  parameter int unsigned AxiBytes     = 16,
  parameter int unsigned AccWordBytes = 32,
  parameter int unsigned ActWordBytes = 32,
  parameter int unsigned AccAddrW     = 15,       // byte address widths of the banks
  parameter int unsigned ActAddrW     = 14,
  parameter int unsigned VecAddrW     = 15,
  parameter int unsigned Elems        = AxiBytes / 4
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic                  abort_i,
  // Command
  input  logic                  cmd_valid_i,
  output logic                  cmd_ready_o,
  input  logic                  cmd_dir_i,        // 0 ACC_TO_VEC, 1 VEC_TO_ACT
  input  logic [31:0]           cmd_elem_i,
  input  logic [31:0]           cmd_bank_i,
  input  logic [15:0]           cmd_count_i,
  input  logic [15:0]           cmd_groups_i,
  input  logic [15:0]           cmd_gstride_i,
  output logic                  done_o,
  output logic                  busy_o,
  // ACC bank, narrow read port (byte address)
  output logic                  acc_re_o,
  output logic [AccAddrW-1:0]   acc_addr_o,
  input  logic [AxiBytes*8-1:0] acc_rdata_i,
  // ACT bank, narrow write port (byte address)
  output logic                  act_we_o,
  output logic [ActAddrW-1:0]   act_addr_o,
  output logic [AxiBytes*8-1:0] act_wdata_o,
  // Vector memory port
  output logic                  vec_we_o,
  output logic [Elems-1:0]      vec_wmask_o,
  output logic [VecAddrW-1:0]   vec_waddr_o,
  output logic [AxiBytes*8-1:0] vec_wdata_o,
  output logic                  vec_re_o,
  output logic [VecAddrW-1:0]   vec_raddr_o,
  input  logic [AxiBytes*8-1:0] vec_rdata_i
);
  localparam int unsigned LaneW = $clog2(AxiBytes);
  localparam int unsigned ElemW = (Elems > 1) ? $clog2(Elems) : 1;

  typedef enum logic [1:0] {SIdle, SAcc, SAct, SLast} state_e;
  state_e state_q;

  logic [31:0] elem_q, cmd_bank_q;
  logic [15:0] count_q, groups_q, gstride_q;

  logic start;
  assign cmd_ready_o = state_q == SIdle;
  assign start       = cmd_valid_i && cmd_ready_o;
  assign busy_o      = state_q != SIdle;

  // ---- issue counters ------------------------------------------------------------------------
  // ACC_TO_VEC: word i (its byte address), value r, group g and row block nb as offsets.
  logic [15:0] i_q, g_q;
  logic [7:0]  r_q;
  logic [31:0] word_q, g_off_q, nb_off_q;
  // VEC_TO_ACT: byte e, its position in the ACT word.
  logic [31:0] e_q, wb_q;

  logic        last_issue;
  assign last_issue = (state_q == SAcc) ? (32'(r_q) == Rows - 1 && i_q == count_q - 1'b1) :
                      (e_q + 1 >= 32'(count_q) && wb_q == ActWordBytes - 1);

  // ---- reads ------------------------------------------------------------------------------
  logic [31:0] acc_byte, elem_idx;            // the value read this cycle
  assign acc_byte = word_q + 32'(r_q) * 4;
  assign elem_idx = (state_q == SAcc) ? elem_q + g_off_q + nb_off_q + 32'(r_q) : elem_q + e_q;
  assign acc_re_o   = state_q == SAcc;
  assign acc_addr_o = AccAddrW'({acc_byte[31:LaneW], {LaneW{1'b0}}});
  assign vec_re_o   = state_q == SAct && e_q < 32'(count_q);

  // ---- data stage: the read issued last cycle -------------------------------------------------
  logic              d_valid_q, d_live_q, d_acc_q;
  logic [LaneW-3:0]  d_acc_lane_q;                // 4-byte lane of the ACC beat
  logic [31:0]       d_elem_q, d_e_q;
  logic [AxiBytes*8-1:0] pack_q;                  // VEC_TO_ACT bytes gathered so far
  always_ff @(posedge clk_i) begin
    if (!rst_ni || abort_i) begin
      d_valid_q <= 1'b0;
    end else begin
      d_valid_q <= state_q == SAcc || state_q == SAct;
    end
    d_acc_q      <= state_q == SAcc;
    d_live_q     <= vec_re_o;
    d_acc_lane_q <= acc_byte[LaneW-1:2];
    d_elem_q     <= elem_idx;
    d_e_q        <= e_q;
  end

  logic [31:0] acc_value, vec_value;
  logic [7:0]  act_byte;
  logic [AxiBytes*8-1:0] pack_d;
  assign acc_value = acc_rdata_i[32'(d_acc_lane_q)*32 +: 32];
  assign vec_value = vec_rdata_i[32'(d_elem_q[ElemW-1:0])*32 +: 32];
  assign act_byte  = d_live_q ? vec_value[7:0] : 8'd0;
  always_comb begin
    pack_d = pack_q;
    pack_d[32'(d_e_q[LaneW-1:0])*8 +: 8] = act_byte;
  end
  always_ff @(posedge clk_i) begin
    if (d_valid_q && !d_acc_q) pack_q <= pack_d;
  end

  // ACC_TO_VEC: one element into the vector memory.
  assign vec_we_o    = d_valid_q && d_acc_q;
  assign vec_raddr_o = VecAddrW'({elem_idx[29:0], 2'b00} & ~32'(AxiBytes - 1));
  assign vec_waddr_o = VecAddrW'({d_elem_q[29:0], 2'b00} & ~32'(AxiBytes - 1));
  assign vec_wmask_o = Elems'(1) << d_elem_q[ElemW-1:0];
  assign vec_wdata_o = {Elems{acc_value}};
  // VEC_TO_ACT: a whole beat when its last byte arrives.
  assign act_we_o    = d_valid_q && !d_acc_q && d_e_q[LaneW-1:0] == '1;
  assign act_addr_o  = ActAddrW'(cmd_bank_q + (d_e_q & ~32'(AxiBytes - 1)));
  assign act_wdata_o = pack_d;

  // ---- the state machine ----------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (!rst_ni || abort_i) begin
      state_q <= SIdle;
    end else begin
      unique case (state_q)
        SIdle: if (start) state_q <= cmd_dir_i ? SAct : SAcc;
        SAcc, SAct: if (last_issue) state_q <= SLast;
        SLast: state_q <= SIdle;          // the last element is written now
        default: state_q <= SIdle;
      endcase
    end
  end
  assign done_o = state_q == SLast;

  always_ff @(posedge clk_i) begin
    if (start) begin
      elem_q     <= cmd_elem_i;
      cmd_bank_q <= cmd_bank_i;
      count_q    <= cmd_count_i;
      groups_q   <= cmd_groups_i;
      gstride_q  <= cmd_gstride_i;
      i_q        <= '0;
      g_q        <= '0;
      r_q        <= '0;
      word_q     <= cmd_bank_i;
      g_off_q    <= '0;
      nb_off_q   <= '0;
      e_q        <= '0;
      wb_q       <= '0;
    end else if (state_q == SAcc) begin
      if (32'(r_q) == Rows - 1) begin
        r_q    <= '0;
        i_q    <= i_q + 1'b1;
        word_q <= word_q + 32'(AccWordBytes);
        if (g_q == groups_q - 1'b1) begin
          g_q      <= '0;
          g_off_q  <= '0;
          nb_off_q <= nb_off_q + 32'(Rows);
        end else begin
          g_q     <= g_q + 1'b1;
          g_off_q <= g_off_q + 32'(gstride_q);
        end
      end else begin
        r_q <= r_q + 1'b1;
      end
    end else if (state_q == SAct) begin
      e_q  <= e_q + 1;
      wb_q <= (wb_q == ActWordBytes - 1) ? '0 : wb_q + 1;
    end
  end

  logic unused;
  assign unused = ^{elem_idx[31:30], d_elem_q[31:30], acc_byte[1:0], vec_value[31:8]};
endmodule

/// VMOVE: moves data between the vector memory and the matrix unit's banks, a memory-port
/// beat (AxiBytes / 4 elements) per cycle where the addresses line up (docs/descriptors.md,
/// opcode VMOVE). The command processor has checked every operand (ranges, alignment, COUNT
/// a multiple of GROUPS); it starts a move only when every engine is idle, so the banks'
/// narrow ports and the vector unit's memory port are free.
///
///   DIR 0 ACC_TO_VEC: for i < COUNT (ACC words from BANK_ADDR), nb = i / GROUPS,
///     g = i % GROUPS: the Rows INT32 values of word i go to elements
///     VEC_ELEM + g x GSTRIDE + nb x Rows + r.
///   DIR 1 VEC_TO_ACT: ACT byte BANK_ADDR + e = the low byte of element VEC_ELEM + e for
///     e < COUNT, then zeros up to the next multiple of ActWordBytes.
///
/// Each cycle moves one run of values: as many as remain in the source beat, in the
/// destination beat and in the word (ACC_TO_VEC) or the count (VEC_TO_ACT), rotated into
/// place and written under a lane mask. With the decode's layouts (elements and strides
/// multiples of the beat) a run is a whole beat: Rows / Elems cycles per ACC word, four
/// vector beats per ACT beat. Command valid/ready (ready when idle); done_o pulses when the
/// last write has been made. Reads (ACC narrow port, vector memory port) return data the next
/// cycle. abort_i returns to idle at once (nothing is in flight outside the SRAMs).
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
  localparam int unsigned LaneW = $clog2(AxiBytes);          // byte within a beat
  localparam int unsigned ElemW = (Elems > 1) ? $clog2(Elems) : 1;
  localparam int unsigned RunW  = $clog2(AxiBytes + 1);      // values or bytes in a run

  typedef enum logic [1:0] {SIdle, SAcc, SAct, SLast} state_e;
  state_e state_q;

  logic [31:0] elem_q, cmd_bank_q, total_q;
  logic [15:0] count_q, groups_q, gstride_q;

  logic start;
  assign cmd_ready_o = state_q == SIdle;
  assign start       = cmd_valid_i && cmd_ready_o;
  assign busy_o      = state_q != SIdle;

  function automatic logic [RunW-1:0] min3(input logic [31:0] a, input logic [31:0] b, input logic [31:0] c);
    logic [31:0] m;
    m = a < b ? a : b;
    m = m < c ? m : c;
    min3 = RunW'(m);
  endfunction

  // ---- issue ------------------------------------------------------------------------------
  // ACC_TO_VEC: word i (its byte address), value r of it, group g; dst_q = the element that
  // value 0 of word i goes to.
  logic [15:0] i_q, g_q;
  logic [31:0] r_q, word_q, g_off_q, nb_off_q;
  // VEC_TO_ACT: the next ACT byte e (its source element is VEC_ELEM + e while e < COUNT).
  logic [31:0] e_q;

  logic [31:0]      acc_byte, dst_elem, src_elem;
  logic [ElemW-1:0] src_off, dst_off;
  logic [RunW-1:0]  run;
  logic             last_issue, word_end, live;
  assign acc_byte = word_q + r_q * 4;
  assign dst_elem = elem_q + g_off_q + nb_off_q + r_q;
  assign src_elem = elem_q + e_q;
  assign live     = e_q < 32'(count_q);                       // VEC_TO_ACT: a source element
  always_comb begin
    src_off = '0;
    dst_off = '0;
    if (state_q == SAcc) begin
      src_off = ElemW'(r_q);                                    // words are beat-aligned
      dst_off = ElemW'(dst_elem);
      run = min3(32'(Elems) - 32'(src_off), 32'(Elems) - 32'(dst_off), 32'(Rows) - r_q);
    end else begin
      src_off = ElemW'(src_elem);
      run = live ? min3(32'(Elems) - 32'(src_off), 32'(count_q) - e_q, 32'(AxiBytes) - 32'(e_q[LaneW-1:0]))
                 : min3(32'(AxiBytes) - 32'(e_q[LaneW-1:0]), total_q - e_q, 32'(AxiBytes));
    end
    if (Elems == 1) begin
      src_off = '0;
      dst_off = '0;
    end
  end
  assign word_end   = r_q + 32'(run) == 32'(Rows);
  assign last_issue = (state_q == SAcc) ? (word_end && i_q == count_q - 1'b1) : (e_q + 32'(run) >= total_q);

  assign acc_re_o    = state_q == SAcc;
  assign acc_addr_o  = AccAddrW'({acc_byte[31:LaneW], {LaneW{1'b0}}});
  assign vec_re_o    = state_q == SAct && live;
  assign vec_raddr_o = VecAddrW'({src_elem[29:0], 2'b00} & ~32'(AxiBytes - 1));

  // ---- data stage: the run issued last cycle ------------------------------------------------
  logic              d_valid_q, d_acc_q, d_live_q;
  logic [ElemW-1:0]  d_src_off_q, d_dst_off_q;
  logic [RunW-1:0]   d_run_q;
  logic [31:0]       d_dst_q, d_e_q;
  logic [AxiBytes*8-1:0] pack_q;                  // VEC_TO_ACT bytes of the beat so far
  always_ff @(posedge clk_i) begin
    if (!rst_ni || abort_i) begin
      d_valid_q <= 1'b0;
    end else begin
      d_valid_q <= state_q == SAcc || state_q == SAct;
    end
    d_acc_q     <= state_q == SAcc;
    d_live_q    <= vec_re_o;
    d_src_off_q <= src_off;
    d_dst_off_q <= dst_off;
    d_run_q     <= run;
    d_dst_q     <= dst_elem;
    d_e_q       <= e_q;
  end

  // ACC_TO_VEC: destination lane j takes source lane j - dst_off + src_off.
  logic [AxiBytes*8-1:0] rot;
  logic [Elems-1:0]      mask;
  always_comb begin
    for (int j = 0; j < Elems; j++) begin
      rot[j*32 +: 32] = acc_rdata_i[32'(ElemW'(32'(j) - 32'(d_dst_off_q) + 32'(d_src_off_q)))*32 +: 32];
      mask[j] = 32'(j) >= 32'(d_dst_off_q) && 32'(j) < 32'(d_dst_off_q) + 32'(d_run_q);
    end
  end
  assign vec_we_o    = d_valid_q && d_acc_q;
  assign vec_waddr_o = VecAddrW'({d_dst_q[29:0], 2'b00} & ~32'(AxiBytes - 1));
  assign vec_wmask_o = mask;
  assign vec_wdata_o = rot;

  // VEC_TO_ACT: byte (e + k) of the ACT beat = the low byte of source lane src_off + k (or 0).
  logic [AxiBytes*8-1:0] pack_d;
  always_comb begin
    pack_d = pack_q;
    for (int k = 0; k < Elems; k++) begin
      if (32'(k) < 32'(d_run_q)) begin
        pack_d[32'(LaneW'(32'(d_e_q[LaneW-1:0]) + 32'(k)))*8 +: 8] =
            d_live_q ? vec_rdata_i[32'(ElemW'(32'(d_src_off_q) + 32'(k)))*32 +: 8] : 8'd0;
      end
    end
    // A padding run can be longer than a vector beat: zeros to the end of the ACT beat.
    if (!d_live_q) begin
      for (int k = 0; k < AxiBytes; k++) begin
        if (32'(k) >= 32'(d_e_q[LaneW-1:0])) pack_d[k*8 +: 8] = 8'd0;
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (d_valid_q && !d_acc_q) pack_q <= pack_d;
  end
  assign act_we_o    = d_valid_q && !d_acc_q && 32'(d_e_q[LaneW-1:0]) + 32'(d_run_q) == 32'(AxiBytes);
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
        SLast: state_q <= SIdle;          // the last run is written now
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
      total_q    <= ((32'(cmd_count_i) + ActWordBytes - 1) / ActWordBytes) * ActWordBytes;
      i_q        <= '0;
      g_q        <= '0;
      r_q        <= '0;
      word_q     <= cmd_bank_i;
      g_off_q    <= '0;
      nb_off_q   <= '0;
      e_q        <= '0;
    end else if (state_q == SAcc) begin
      if (word_end) begin
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
        r_q <= r_q + 32'(run);
      end
    end else if (state_q == SAct) begin
      e_q <= e_q + 32'(run);
    end
  end

  logic unused;
  assign unused = ^{dst_elem[31:30], d_dst_q[31:30], src_elem[31:30], acc_byte[LaneW-1:0]};
endmodule

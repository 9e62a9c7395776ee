/// Command processor: fetches descriptors from the ring in host memory, checks them, and
/// hands them to the load, compute and store engines, which run concurrently and are
/// ordered only by dependency tokens (docs/descriptors.md), and to the vector unit. NOP and
/// COMPLETE are fences; COMPLETE writes its sequence number to memory and may raise the
/// completion interrupt. VEC goes to the vector unit's queue once no LOAD/STORE of bank VEC
/// is queued or running, and such a LOAD/STORE goes out only while no VEC is; VMOVE runs
/// (ks_vmove) once everything before it that touches its banks or the vector unit has
/// finished (VEC/VRUN, MATMUL, STORE, LOAD of ACT, VEC or VPROG: LOADs of WGT, KV and HIST may
/// go on, so a weight prefetch overlaps it), and holds everything after it until it is done.
///
/// DECODE (the token-streaming controller) runs at a fence: it reads PROMPT[0], then for each
/// step fetches the step program (PROG_LEN descriptors at PROG_ADDR; from the first step on,
/// a program of at most DecCache descriptors comes from the step-program cache, filled as
/// the first step fetched it) and runs it like ring
/// descriptors, with the step's pos and token applied to the POS_/TOKEN_ flags (POS_ADDR and
/// TOKEN_ADDR by a shift-add multiplier, a cycle per bit of ROW_BYTES), fences, takes the next
/// token from PROMPT[i + 1] (forced) or S7 and sends it on the token stream (tok_*), with
/// tlast and DEC_STATUS.REASON when a stop condition holds. RING_HEAD stays on the DECODE
/// until it ends; errors in the program halt the queue on it (DEC_PC: the program index).
///
/// QueueDepth = 0 leaves the engine queues out: a descriptor in dispatch is offered to its
/// engine directly and the command processor waits there until the engine takes it (its
/// tokens included), so nothing is stored twice and nothing runs ahead of a busy engine.
///
/// HasVector = 0 (a core without the vector unit) rejects VEC, VMOVE, VRUN, DECODE and LOAD/STORE
/// of banks VEC, VPROG and HIST with UNSUPPORTED; their logic is left out.
///
/// Errors halt the queue with a code, the ring index of the descriptor and a detail
/// value (ErrDetail = 0 keeps none, ERR_INFO reads 0: the multiplexer that fills it, the
/// register, and the engines' and the DMA writer's registers of the failing address are left
/// out; the driver works the detail out). A descriptor that fails its checks is not consumed
/// (RING_HEAD stays on it) and nothing after it is fetched; work handed out earlier
/// finishes. A bus error during execution also aborts the engines and drops their queued
/// work. Setting CTRL.ENABLE again resumes at RING_HEAD; CTRL.QUEUE_RESET drains the bus,
/// drops all work and returns the queue to its reset state without resetting the core.
`include "ks_assert.svh"

module ks_cmdproc #(
  parameter int unsigned AxiBytes     = 8,
  parameter int unsigned AddrW        = 32,
  parameter int unsigned BeatsW       = 24,
  parameter int unsigned Rows         = 8,
  parameter int unsigned Cols         = 16,
  parameter int unsigned WgtBytes     = 4096,
  parameter int unsigned ActBytes     = 1024,
  parameter int unsigned AccBytes     = 1024,
  parameter int unsigned KvBytes      = 1024,
  parameter int unsigned HasVector    = 1,
  parameter int unsigned WgtWordBytes = 16,
  parameter int unsigned ActWordBytes = 16,
  parameter int unsigned AccWordBytes = 16,
  parameter int unsigned VecLanes     = 8,
  parameter int unsigned VecRows      = 256,
  parameter int unsigned VecProgDepth = 64,
  parameter int unsigned VecHistRows  = 64,
  parameter int unsigned DecCache     = 0,       // step-program cache (descriptors; 0: none)
  parameter int unsigned QueueDepth   = 2,
  parameter int unsigned ErrDetail    = 1,       // 0: ERR_INFO reads 0 (see below)
  // Widths of the engine command fields, from the bank sizes the checks bound them by (ks_core
  // derives them): bank offsets and extents, M and KX (ACT words), NB, KC and G (WGT words),
  // NB x G (ACC words), the last block's rows and the last chunk's K elements.
  parameter int unsigned SramW        = 16,
  parameter int unsigned MW           = 16,
  parameter int unsigned NbW          = 16,
  parameter int unsigned NbgW         = 16,
  parameter int unsigned RowsW        = $clog2(Rows + 1),
  parameter int unsigned KW           = $clog2(2 * Cols + 1),
  parameter int unsigned WgtWordW     = $clog2(WgtBytes / WgtWordBytes),
  parameter int unsigned ActWordW     = $clog2(ActBytes / ActWordBytes),
  parameter int unsigned AccWordW     = $clog2(AccBytes / AccWordBytes),
  // Widths of the engine command payloads (see the pack order below)
  parameter int unsigned XferW        = 3 + SramW + AddrW + 16 + BeatsW + AddrW + SramW,
  parameter int unsigned MatW         = 1 + MW + NbW + NbW + MW + WgtWordW + ActWordW + AccWordW + RowsW + KW +
                                        NbW + 1 + NbW + NbgW,
  parameter int unsigned VecW         = 1 + 4 + 4 + 1 + 1 + 1 + 16 * 4 + 32
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // Configuration and events from the registers
  input  logic                  enable_i,
  input  logic [31:0]           ring_base_i,
  input  logic [31:0]           ring_size_i,
  input  logic [31:0]           win_base_i,
  input  logic [31:0]           win_size_i,
  input  logic                  enable_write_i,
  input  logic                  queue_reset_i,
  input  logic                  tail_write_i,
  input  logic [31:0]           tail_value_i,
  // State to the registers
  output logic                  enable_clear_o,
  output logic                  busy_o,
  output logic                  halted_o,
  output logic                  resetting_o,
  output logic [7:0]            err_code_o,
  output logic [31:0]           err_index_o,
  output logic [31:0]           err_info_o,
  output logic                  err_busy_o,      // ERR_INFO is being filled (register reads wait)
  output logic [31:0]           head_o,
  output logic [31:0]           tail_o,
  output logic [31:0]           completions_o,
  output logic [31:0]           last_seq_o,
  output logic                  irq_completion_o,
  output logic                  irq_error_o,
  output logic                  token_wait_o,
  output logic [2:0]            desc_done_o,     // descriptors that finished this cycle
  output logic [2:0]            wait_o,          // waiting for a fetch, at a fence, to dispatch
  // DECODE state to the registers, CTRL.ABORT from them
  input  logic                  dec_abort_i,     // CTRL.ABORT written with 1
  output logic                  dec_running_o,
  output logic [3:0]            dec_reason_o,
  output logic [15:0]           dec_pos_o,
  output logic [31:0]           dec_tokens_o,
  output logic [31:0]           dec_last_o,
  output logic [15:0]           dec_pc_o,
  output logic                  dec_step_o,      // a step's token went out
  // Token stream (into the core's output register)
  output logic                  tok_valid_o,
  input  logic                  tok_ready_i,
  output logic [31:0]           tok_data_o,
  output logic                  tok_forced_o,
  output logic                  tok_last_o,
  // Descriptor fetch (DMA read client)
  output logic                  fetch_valid_o,
  input  logic                  fetch_ready_i,
  output logic [AddrW-1:0]      fetch_addr_o,
  output logic [BeatsW-1:0]     fetch_beats_o,
  input  logic                  fetch_rsp_valid_i,
  input  logic [AxiBytes*8-1:0] fetch_rsp_data_i,
  input  logic                  fetch_rsp_last_i,
  input  logic                  fetch_rsp_err_i,
  // Completion write (DMA write client)
  output logic                  cpl_valid_o,
  input  logic                  cpl_ready_i,
  output logic [AddrW-1:0]      cpl_addr_o,
  output logic [BeatsW-1:0]     cpl_beats_o,
  output logic                  cpl_dat_valid_o,
  input  logic                  cpl_dat_ready_i,
  output logic [AxiBytes*8-1:0] cpl_dat_data_o,
  output logic [AxiBytes-1:0]   cpl_dat_strb_o,
  input  logic                  cpl_done_i,
  input  logic                  cpl_err_i,
  // Engines
  output logic                  abort_o,
  output logic                  load_valid_o,
  input  logic                  load_ready_i,
  output logic [XferW-1:0]      load_cmd_o,
  input  logic                  load_done_i,
  input  logic                  load_err_i,
  input  logic [AddrW-1:0]      load_err_addr_i,
  output logic                  store_valid_o,
  input  logic                  store_ready_i,
  output logic [XferW-1:0]      store_cmd_o,
  input  logic                  store_done_i,
  input  logic                  store_err_i,
  input  logic [AddrW-1:0]      store_err_addr_i,
  output logic                  mat_valid_o,
  input  logic                  mat_ready_i,
  output logic [MatW-1:0]       mat_cmd_o,
  input  logic                  mat_done_i,
  // Vector unit: instruction queue, its busy flag and S7
  output logic                  vec_valid_o,
  input  logic                  vec_ready_i,
  output logic [VecW-1:0]       vec_cmd_o,       // {run, kind, op, swap_b, b_imm, hist_a, dst, a, b, len, imm}
  input  logic                  vec_busy_i,
  input  logic                  vec_run_err_i,   // a VRUN entry failed its checks (not executed)
  input  logic [15:0]           vec_run_err_idx_i,
  input  logic [31:0]           vec_s7_i,
  // VMOVE
  output logic                  vmove_valid_o,
  input  logic                  vmove_ready_i,
  output logic                  vmove_dir_o,
  output logic [31:0]           vmove_elem_o,
  output logic [31:0]           vmove_bank_o,
  output logic [15:0]           vmove_count_o,
  output logic [15:0]           vmove_groups_o,
  output logic [15:0]           vmove_gstride_o,
  input  logic                  vmove_done_i,
  input  logic                  engines_busy_i,  // any engine, the vector unit or VMOVE
  input  logic                  dma_busy_i,
  // Which engines are working (VMOVE's narrower wait)
  input  logic                  load_busy_i,
  input  logic                  store_busy_i,
  input  logic                  mat_busy_i
);
  `include "ks_cmp.svh"
  localparam int unsigned DescBits = ks_desc_pkg::DescBytes * 8;
  localparam int unsigned DescBeats = ks_desc_pkg::DescBytes / AxiBytes;
  localparam int unsigned LaneW = $clog2(AxiBytes);
  localparam int unsigned WgtDepth = WgtBytes / WgtWordBytes;
  localparam int unsigned ActDepth = ActBytes / ActWordBytes;
  localparam int unsigned AccDepthW = AccBytes / AccWordBytes;
  localparam int unsigned KB8 = Cols;
  localparam int unsigned KB4 = 2 * Cols;
  localparam int unsigned VecElems = VecLanes * VecRows;
  localparam int unsigned VecBytes = VecElems * 4;
  localparam logic [63:0] SpaceEnd = 64'd1 << AddrW;   // the end of the core's address space

  typedef enum logic [4:0] {
    SIdle, SFetch, SRecv, SPatch, SCheck, SCalc, SVmCalc, SRange, SDispatch, SFence, SCplReq, SCplData, SCplWait,
    SVmove, SVmoveWait, SPrompt, SPromptRecv, SStepFence, SEmit, SReset
  } state_e;
  state_e state_q, state_d;
  // The DECODE's and VMOVE's states, never entered without the vector unit (constant there).
  logic in_patch, in_vmcalc, in_prompt, in_prompt_recv, in_step_fence, in_emit, in_vmove;
  assign in_patch       = HasVector != 0 && state_q == SPatch;
  assign in_vmcalc      = HasVector != 0 && state_q == SVmCalc;
  assign in_prompt      = HasVector != 0 && state_q == SPrompt;
  assign in_prompt_recv = HasVector != 0 && state_q == SPromptRecv;
  assign in_step_fence  = HasVector != 0 && state_q == SStepFence;
  assign in_emit        = HasVector != 0 && state_q == SEmit;
  assign in_vmove       = HasVector != 0 && state_q == SVmove;

  // ---- queue state ---------------------------------------------------------------------------
  // Ring indices: IdxW bits, 16, or fewer in a core whose address space cannot hold a ring of
  // 2^16 descriptors (32 bytes each): every ring that passes the ring check has at most
  // 2^(AddrW - 5) entries. (A doorbell is kept modulo 2^IdxW, as it is modulo 2^16 with more
  // address bits: a ring of that size is refused anyway.)
  localparam int unsigned IdxW = AddrW < 21 ? AddrW - 5 : 16;
  logic [IdxW-1:0] head_q, tail_q;
  logic [15:0]     head16, tail16;   // (named: Yosys 0.23 sizes a cast inside a concatenation by its operand)
  assign head16 = 16'(head_q);
  assign tail16 = 16'(tail_q);
  logic        halted_q, exec_abort_q, exec_error_q;
  logic [7:0]  err_code_q;
  logic [31:0] err_index_q, err_info_q, completions_q, last_seq_q;
  logic [DescBits-1:0] desc_q;
  logic        fetch_err_q;

  // Field extraction from the descriptor in hand.
  function automatic logic [31:0] word(input logic [DescBits-1:0] d, input int unsigned w);
    word = d[w*32 +: 32];
  endfunction

  logic [7:0]  op;
  logic [3:0]  deps;
  logic [31:0] w1, w2, w3, w4, w5, w6, w7;
  assign op   = desc_q[7:0];
  assign deps = desc_q[11:8];
  assign w1 = word(desc_q, 1);
  assign w2 = word(desc_q, 2);
  assign w3 = word(desc_q, 3);
  assign w4 = word(desc_q, 4);
  assign w5 = word(desc_q, 5);
  assign w6 = word(desc_q, 6);
  assign w7 = word(desc_q, 7);

  logic is_nop, is_load, is_store, is_mat, is_cpl, is_vec, is_vmove, is_decode, is_vrun;
  assign is_nop    = op == ks_desc_pkg::OpNop;
  assign is_load   = op == ks_desc_pkg::OpLoad;
  assign is_store  = op == ks_desc_pkg::OpStore;
  assign is_mat    = op == ks_desc_pkg::OpMatmul;
  assign is_cpl    = op == ks_desc_pkg::OpComplete;
  // The vector unit's opcodes are constant false without it (UNSUPPORTED below).
  assign is_vec    = HasVector != 0 && op == ks_desc_pkg::OpVec;
  assign is_vmove  = HasVector != 0 && op == ks_desc_pkg::OpVmove;
  assign is_decode = HasVector != 0 && op == ks_desc_pkg::OpDecode;
  assign is_vrun   = HasVector != 0 && op == ks_desc_pkg::OpVrun;
  logic op_unsupported, bank_unsupported;
  assign op_unsupported = HasVector == 0 && ks_desc_pkg::VectorUnitOpcodes[op];

  // The token-streaming controller's state (used by the checks below).
  logic        dec_active_q, dec_abort_q;
  logic        dec_on;   // a DECODE runs (never without the vector unit: its logic is left out)
  assign dec_on = HasVector != 0 && dec_active_q;
  logic [31:0] dec_prog_q, dec_prompt_q, dec_token_q, dec_tokens_q, dec_last_q;
  logic [15:0] dec_prog_len_q, dec_stop_q, dec_prompt_len_q, dec_steps_q, dec_seq_len_q;
  logic [15:0] dec_pos_q, dec_pc_q, dec_step_q;
  logic [3:0]  dec_reason_q;

  // ---- checks, stage 1: everything without a multiplication ------------------------------
  logic [DescBits-1:0] reserved;
  always_comb begin
    reserved = '0;
    if (is_nop)   reserved = ks_desc_pkg::NopReserved;
    if (is_load)  reserved = ks_desc_pkg::LoadReserved;
    if (is_store) reserved = ks_desc_pkg::StoreReserved;
    if (is_mat)   reserved = ks_desc_pkg::MatmulReserved;
    if (is_cpl)   reserved = ks_desc_pkg::CompleteReserved;
    if (is_vec)   reserved = ks_desc_pkg::VecReserved;
    if (is_vmove) reserved = ks_desc_pkg::VmoveReserved;
    if (is_decode) reserved = ks_desc_pkg::DecodeReserved;
    if (is_vrun)  reserved = ks_desc_pkg::VrunReserved;
  end

  // Token flags per engine: bit 0 POP_PREV, 1 POP_NEXT, 2 PUSH_PREV, 3 PUSH_NEXT.
  logic [3:0] deps_allowed;
  assign deps_allowed = is_load ? 4'b1010 : (is_store || is_vec || is_vrun) ? 4'b0101 : is_mat ? 4'b1111 : 4'b0000;
  // LOAD's tokens with the vector engine: {POP_VEC, PUSH_VEC}.
  // Without the vector unit they are BAD_DEPENDENCY (no such engine to wait for or feed).
  logic [1:0] lvec;
  assign lvec = is_load ? {desc_q[ks_desc_pkg::LoadPopVecWord * 32 + ks_desc_pkg::LoadPopVecLsb],
                           desc_q[ks_desc_pkg::LoadPushVecWord * 32 + ks_desc_pkg::LoadPushVecLsb]} : 2'b00;

  // LOAD/STORE fields
  logic [3:0]  x_bank;
  logic        x_is_vec;
  logic [31:0] x_sram, x_host, x_hstride, x_sstride;
  logic [15:0] x_rows;
  logic [23:0] x_bytes;
  assign x_bank    = w1[3:0];
  assign x_sram    = w2;
  assign x_host    = w3;
  assign x_rows    = w4[15:0];
  assign x_bytes   = w5[23:0];
  assign x_hstride = w6;
  assign x_sstride = {8'b0, w7[23:0]};
  logic x_bank_ok;
  logic [31:0] x_bank_bytes;
  always_comb begin
    x_bank_ok = 1'b0;
    x_bank_bytes = '0;
    unique case (x_bank)
      ks_desc_pkg::BankWgt: begin x_bank_ok = is_load; x_bank_bytes = 32'(WgtBytes); end
      ks_desc_pkg::BankAct: begin x_bank_ok = is_load; x_bank_bytes = 32'(ActBytes); end
      ks_desc_pkg::BankAcc: begin x_bank_ok = is_store; x_bank_bytes = 32'(AccBytes); end
      ks_desc_pkg::BankKv:  begin x_bank_ok = 1'b1; x_bank_bytes = 32'(KvBytes); end
      ks_desc_pkg::BankVec: begin x_bank_ok = 1'b1; x_bank_bytes = 32'(VecBytes); end
      ks_desc_pkg::BankVprog: begin x_bank_ok = is_load; x_bank_bytes = 32'(VecProgDepth * 16); end
      ks_desc_pkg::BankHist: begin x_bank_ok = is_load; x_bank_bytes = 32'(VecHistRows * VecLanes * 4); end
      default: ;
    endcase
  end
  // Banks VEC and VPROG are the vector unit's: transfers are ordered with VEC and VRUN.
  assign x_is_vec = HasVector != 0 && (x_bank == ks_desc_pkg::BankVec || x_bank == ks_desc_pkg::BankVprog);
  assign bank_unsupported = HasVector == 0 && ks_desc_pkg::VectorUnitBanks[x_bank];
  function automatic logic misal(input logic [LaneW-1:0] v);
    misal = v != '0;
  endfunction

  // MATMUL fields
  logic        m_int4;
  logic [15:0] m_m, m_k, m_n;
  logic [31:0] m_wgt, m_act, m_acc;
  assign m_int4 = w1[0];
  assign m_m    = w2[15:0];
  assign m_k    = w3[15:0];
  assign m_n    = w4[15:0];
  assign m_wgt  = w5;
  assign m_act  = w6;
  assign m_acc  = w7;
  // Loop bounds (division by constants: shifts for power-of-two arrays)
  logic [15:0] m_nb, m_kc, m_kx, m_cpg, m_groups;
  logic [3:0]  m_group;
  // Partial sums per group of 2^(GROUP-1) chunks (GROUP 0: one group of all KC chunks).
  assign m_group  = w1[11:8];
  assign m_cpg    = (m_group == 4'd0) ? m_kc : 16'(1) << (m_group - 4'd1);
  assign m_groups = (m_group == 4'd0) ? 16'd1 : 16'((32'(m_kc) + 32'(m_cpg) - 1) >> (m_group - 4'd1));
  assign m_nb = 16'((32'(m_n) + Rows - 1) / Rows);
  assign m_kc = m_int4 ? m_kx : 16'((32'(m_k) + KB8 - 1) / KB8);   // INT4 chunks are ACT words
  assign m_kx = 16'((32'(m_k) + 2 * Cols - 1) / (2 * Cols));

  // VEC fields (LEN as patched by POS_LEN), checked by the vector unit's own rules
  logic [3:0]  v_kind, v_op;
  logic        v_swap_b, v_b_imm, v_hist_a, v_bad;
  logic [15:0] v_dst, v_a, v_b, v_len;
  assign v_kind   = w1[3:0];
  assign v_op     = w1[7:4];
  assign v_swap_b = w1[8];
  assign v_b_imm  = w1[9];
  assign v_hist_a = w1[ks_desc_pkg::VecHistALsb];
  assign v_dst    = w2[15:0];
  assign v_a      = w2[31:16];
  assign v_b      = w3[15:0];
  assign v_len    = w3[31:16];
  if (HasVector != 0) begin : g_vec_check
    ks_vec_check #(.Lanes(VecLanes), .Rows(VecRows), .HistRows(VecHistRows)) u_vec_check (
      .kind_i(v_kind), .op_i(v_op), .swap_b_i(v_swap_b), .b_imm_i(v_b_imm), .hist_a_i(v_hist_a), .dst_i(v_dst),
      .a_i(v_a), .b_i(v_b), .len_i(v_len), .bad_o(v_bad)
    );
  end else begin : g_no_vec_check
    assign v_bad = 1'b1;  // never looked at: VEC is UNSUPPORTED
  end

  // VRUN fields
  logic [15:0] vr_start, vr_count;
  assign vr_start = w1[15:0];
  assign vr_count = w1[31:16];

  // VMOVE fields
  logic [3:0]  vm_dir;
  logic [31:0] vm_elem, vm_bank;
  logic [15:0] vm_count, vm_groups, vm_gstride;
  assign vm_dir     = w1[3:0];
  assign vm_elem    = w2;
  assign vm_bank    = w3;
  assign vm_count   = w4[15:0];
  assign vm_groups  = w5[15:0];
  assign vm_gstride = w5[31:16];

  // DECODE fields
  logic [31:0] d_prog, d_prompt;
  logic [15:0] d_prog_len, d_stop, d_prompt_len, d_steps, d_start, d_seq_len;
  assign d_prog       = w1;
  assign d_prog_len   = w2[15:0];
  assign d_stop       = w2[31:16];
  assign d_prompt     = w3;
  assign d_prompt_len = w4[15:0];
  assign d_steps      = w4[31:16];
  assign d_start      = w5[15:0];
  assign d_seq_len    = w5[31:16];

  // ERR_INFO of a check is a word of the descriptor (a field the word holds alone: the other
  // bits are reserved and were checked first), its low half, the opcode, a word index or 0: a
  // check names which (info_t), and one multiplexer at the end picks it.
  typedef enum logic [3:0] {
    IZero, IWord, ILow16, IOp, IIndex, IFetch, IPatch, IPrompt, IExecLoad, IExecStore, IRingSize, IRingBase
  } info_e;
  logic [7:0]  chk_code;
  info_e       chk_kind;
  logic [2:0]  chk_word;   // the word (IWord, ILow16) or the word index (IIndex)
  always_comb begin
    chk_code = ks_desc_pkg::ErrNone;
    chk_kind = IZero;
    chk_word = '0;
    if (!(is_nop || is_load || is_store || is_mat || is_cpl || op_unsupported || is_vec || is_vmove || is_decode ||
          is_vrun) || (is_decode && dec_on)) begin
      chk_code = ks_desc_pkg::ErrBadOpcode;
      chk_kind = IOp;
    end else if (op_unsupported) begin
      chk_code = ks_desc_pkg::ErrUnsupported;
      chk_kind = IOp;
    end else if ((desc_q & reserved) != '0) begin
      chk_code = ks_desc_pkg::ErrReservedBits;
      chk_kind = IIndex;
      for (int w = ks_desc_pkg::DescWords - 1; w >= 0; w--) begin
        if ((desc_q[w*32 +: 32] & reserved[w*32 +: 32]) != '0) chk_word = 3'(w);
      end
    end else if ((deps & ~deps_allowed) != '0 || (HasVector == 0 && lvec != 2'b00)) begin
      chk_code = ks_desc_pkg::ErrBadDependency;
      chk_kind = IWord; chk_word = 3'd0;
    end else if (is_load || is_store) begin
      if (bank_unsupported) begin
        chk_code = ks_desc_pkg::ErrUnsupported;
        chk_kind = IWord; chk_word = 3'd1;                     // BANK
      end else if (!x_bank_ok) begin
        chk_code = ks_desc_pkg::ErrBadBank;
        chk_kind = IWord; chk_word = 3'd1;
      end else if (x_rows == '0 || x_bytes == '0) begin
        chk_code = ks_desc_pkg::ErrZeroSize;
      end else if (misal(x_host[LaneW-1:0])) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd3;
      end else if (misal(x_hstride[LaneW-1:0])) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd6;
      end else if (misal(x_sram[LaneW-1:0])) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd2;
      end else if (misal(x_sstride[LaneW-1:0])) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd7;
      end else if (misal(x_bytes[LaneW-1:0])) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd5;
      end
    end else if (is_mat) begin
      if (m_m == '0 || m_k == '0 || m_n == '0) begin
        chk_code = ks_desc_pkg::ErrZeroSize;
      end else if (m_wgt % WgtWordBytes != 0) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd5;
      end else if (m_act % ActWordBytes != 0) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd6;
      end else if (m_acc % AccWordBytes != 0) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd7;
      end
    end else if (is_cpl) begin
      if (w3[1:0] != 2'b00) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd3;
      end
    end else if (is_vmove) begin
      // (ACC_TO_VEC: COUNT a multiple of GROUPS is checked first thing in SRange.)
      if (vm_dir > 4'd1) begin
        chk_code = ks_desc_pkg::ErrBadVector; chk_kind = IWord; chk_word = 3'd1;
      end else if (vm_count == '0 || (vm_dir == 4'd0 && vm_groups == '0)) begin
        chk_code = ks_desc_pkg::ErrZeroSize;
      end else if ((vm_dir == 4'd0) ? (vm_bank % AccWordBytes != 0) : (vm_bank % ActWordBytes != 0)) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd3;
      end
    end else if (is_vrun) begin
      if (vr_count == '0) chk_code = ks_desc_pkg::ErrZeroSize;
    end else if (is_decode) begin
      if (d_prog_len == '0 || d_prompt_len == '0 || d_steps == '0 || d_seq_len == '0) begin
        chk_code = ks_desc_pkg::ErrZeroSize;
      end else if (d_prog[4:0] != '0) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd1;
      end else if (d_prompt[1:0] != '0) begin
        chk_code = ks_desc_pkg::ErrMisaligned; chk_kind = IWord; chk_word = 3'd3;
      end
    end
  end

  // ---- checks, stage 2: extents, by a sequential multiplier ---------------------------------
  // The extents need products: (ROWS - 1) x HOST_STRIDE and x SRAM_STRIDE for LOAD/STORE,
  // NB x KC, NB x G, M x KX and M x (NB x G) for MATMUL. They are formed by shift-add, LSB
  // first, one multiplier bit per cycle (SCalc), on two accumulators at once that start from
  // the base each extent adds to, so no multiplier, DSP or wide adder is needed: a LOAD of one
  // row takes no cycle, one of r rows bitlen(r - 1), a MATMUL bitlen(NB) + bitlen(M) + 2.
  // Accumulator A is 33 bits with a sticky flag for 2^33 and above (host address ends, up to
  // and including 2^32; the DECODE patch's HOST_ADDR + (pos + token) x ROW_BYTES in SPatch
  // uses it too).
  // Accumulator B is SramW bits wide (2^SramW is past every bank) with a sticky flag for
  // anything past it (bank extents).

  logic [31:0] m_wgt_word, m_act_word, m_acc_word;
  assign m_wgt_word = m_wgt / 32'(WgtWordBytes);
  assign m_act_word = m_act / 32'(ActWordBytes);
  assign m_acc_word = m_acc / 32'(AccWordBytes);

  // The last row block's rows and the last chunk's K elements: ((x - 1) mod size) + 1, a mask
  // for the power-of-two sizes.
  localparam bit RowsPow2 = (Rows & (Rows - 1)) == 0;
  localparam bit ColsPow2 = (Cols & (Cols - 1)) == 0;
  logic [RowsW-1:0] rows_last;
  logic [KW-1:0]    k_last;
  // ((v - 1) mod d) + 1 for d a power of two: v mod d, or d where that is 0 (no subtraction).
  function automatic logic [31:0] last_of(input logic [15:0] v, input int unsigned d);
    last_of = (32'(v) % d) == 0 ? d : 32'(v) % d;
  endfunction
  assign rows_last = RowsPow2 ? RowsW'(last_of(m_n, Rows)) : RowsW'(32'(m_n) - (32'(m_nb) - 1) * Rows);
  assign k_last    = ColsPow2 ? (m_int4 ? KW'(last_of(m_k, KB4)) : KW'(last_of(m_k, KB8)))
                              : (m_int4 ? KW'(32'(m_k) - (32'(m_kc) - 1) * KB4) : KW'(32'(m_k) - (32'(m_kc) - 1) * KB8));

  // Registered at SCheck: the MATMUL's loop bounds and the VMOVE bounds (constant divisions).
  // (Only what a MATMUL that passes its checks can have: the payload's widths; KX is checked
  // in full, in phase 1 below.)
  logic [NbW-1:0]   nb_q, kc_q, groups_q;
  logic [15:0]      kx_q;
  logic [RowsW-1:0] rows_last_q;
  logic [KW-1:0]    k_last_q;
  logic [NbW:0] cpg_q;   // saturated at 2^NbW: a group of more chunks than KC can have is one group
  logic [31:0] vm_acc_words_q, vm_act_pad_q;
  always_ff @(posedge clk_i) begin
    if (state_q == SCheck) begin
      nb_q        <= NbW'(m_nb);
      cpg_q       <= ks_gt_const(64'(m_cpg), 64'd1 << NbW) ? (NbW + 1)'(32'd1 << NbW) : (NbW + 1)'(m_cpg);
      groups_q    <= NbW'(m_groups);
      kc_q        <= NbW'(m_kc);
      kx_q        <= m_kx;
      rows_last_q <= rows_last;
      k_last_q    <= k_last;
      vm_acc_words_q <= vm_bank / 32'(AccWordBytes);
      vm_act_pad_q   <= ((32'(vm_count) + ActWordBytes - 1) / ActWordBytes) * ActWordBytes;
    end
  end

  // The sequential multiplier: mplier_q's bits, LSB first, add the doubling multiplicands to
  // the accumulators. Accumulator A is AW bits and a flag (a_big_q: the value is 2^AW or
  // more): 33 bits, or AddrW + 2 in a core with fewer address bits, where every end it holds
  // that is past 2^(AddrW + 2) is past the address space as well, and so HOST_RANGE either
  // way (and past every bank).
  localparam int unsigned AW = AddrW < 31 ? AddrW + 2 : 33;
  // The multiplier: ROWS - 1, NB, M (16 bits), and the DECODE patch's ROW_BYTES (24 bits).
  localparam int unsigned MplW = HasVector != 0 ? 24 : 16;
  logic [MplW-1:0]  mplier_q;
  logic [AW-1:0]    a_acc_q, a_mcand_q;
  logic             a_big_q, a_mbig_q;
  logic [SramW-1:0] b_acc_q, b_mcand_q;
  logic             b_big_q, b_mbig_q;
  logic             mul_done, mat_phase_q, wgt_bad_q;
  logic [NbgW-1:0]  nbg_q;   // NB x G, for the compute engine (fits once the ACC check passed)
  // VMOVE ACC_TO_VEC, from the division in SVmCalc: COUNT % GROUPS and COUNT / GROUPS x Rows.
  logic [15:0]      vm_rem_q;
  logic [31:0]      vm_qrows_q;
  logic [AW:0]      a_sum;
  logic [SramW:0]   b_sum;
  assign mul_done = mplier_q == '0;
  assign a_sum    = (AW + 1)'(a_acc_q) + (AW + 1)'(a_mcand_q);
  assign b_sum    = (SramW + 1)'(b_acc_q) + (SramW + 1)'(b_mcand_q);

  // Narrowing to accumulator A: {big, value}.
  function automatic logic [AW:0] nar_a(input logic [32:0] v);
    nar_a = {(64'(v) >> AW) != '0, AW'(v)};
  endfunction
  // Saturating narrowing to accumulator B: {big, value}.
  function automatic logic [SramW:0] sat_b(input logic [32:0] v);
    sat_b = (v >> SramW) != '0 ? {1'b1, {SramW{1'b0}}} : {1'b0, v[SramW-1:0]};
  endfunction

  // Start values (SCheck, and the MATMUL's second phase).
  logic [15:0]   x_rows_m1;
  logic [AW:0]   host_start;   // {big, value}
  logic [SramW:0] sram_start, sstride_b, groups_b, acc_b, nbg_b;
  assign x_rows_m1  = x_rows - 16'd1;
  // HOST_ADDR (word 3 for both) + ROW_BYTES or 4, in AW bits and a flag
  logic [AW:0] host_sum;
  assign host_sum   = (AW + 1)'(AW'(w3)) + (AW + 1)'(AW'(is_cpl ? 33'd4 : 33'(x_bytes)));
  assign host_start = {(64'(w3) >> AW) != '0 || (64'(x_bytes) >> AW) != '0 || host_sum[AW], host_sum[AW-1:0]};
  assign sram_start = sat_b(33'(x_sram) + 33'(x_bytes));
  assign sstride_b  = sat_b(33'(x_sstride));
  assign groups_b   = sat_b(33'(m_groups));
  assign nbg_b      = {b_big_q, b_acc_q};

  logic seq_next_phase;
  assign seq_next_phase = state_q == SCalc && mul_done && is_mat && !mat_phase_q;

  // Ends for SRange: accumulator A (LOAD/STORE/COMPLETE: the host end; MATMUL: the ACT end),
  // accumulator B (LOAD/STORE: the bank end; MATMUL: the ACC end), the WGT check of phase 1.
  always_ff @(posedge clk_i) begin
    if (in_patch && !patch_run_q) begin
      // HOST_ADDR + (pos + token) x ROW_BYTES
      {a_big_q, a_acc_q}    <= nar_a(33'(x_host));
      {a_mbig_q, a_mcand_q} <= nar_a(patch_mcand);
      mplier_q  <= (p_addr || p_token) ? MplW'(x_bytes) : '0;
    end else if (state_q == SCheck && is_vmove) begin
      // (GROUPS - 1) x GSTRIDE, next to the division in SVmCalc
      a_acc_q   <= '0;
      a_big_q   <= 1'b0;
      {a_mbig_q, a_mcand_q} <= nar_a(33'(vm_gstride));
      mplier_q  <= MplW'(vm_groups_m1);
    end else if (state_q == SCheck) begin
      mat_phase_q <= 1'b0;
      if (is_mat) begin
        // phase 0: WGT_ADDR/WGT_WORD + NB x KC in A, NB x G in B
        {a_big_q, a_acc_q}    <= nar_a(33'(m_wgt_word));
        {a_mbig_q, a_mcand_q} <= nar_a(33'(m_kc));
        b_acc_q   <= '0;
        b_big_q   <= 1'b0;
        {b_mbig_q, b_mcand_q} <= groups_b;
        mplier_q  <= MplW'(m_nb);
      end else begin
        // LOAD/STORE: HOST_ADDR + ROW_BYTES + (ROWS - 1) x HOST_STRIDE in A, the same in the
        // bank in B; COMPLETE: HOST_ADDR + 4 in A
        {a_big_q, a_acc_q}    <= host_start;
        {a_mbig_q, a_mcand_q} <= nar_a(33'(x_hstride));
        {b_big_q, b_acc_q}    <= sram_start;
        {b_mbig_q, b_mcand_q} <= sstride_b;
        mplier_q              <= (is_load || is_store) ? MplW'(x_rows_m1) : '0;
      end
    end else if (seq_next_phase) begin
      // phase 1: ACT_ADDR/ACT_WORD + M x KX in A, ACC_ADDR/ACC_WORD + M x (NB x G) in B
      mat_phase_q <= 1'b1;
      wgt_bad_q   <= a_big_q || ks_gt_const(64'(a_acc_q), 64'(WgtDepth));
      nbg_q       <= NbgW'(b_acc_q);
      {a_big_q, a_acc_q}    <= nar_a(33'(m_act_word));
      {a_mbig_q, a_mcand_q} <= nar_a(33'(kx_q));
      {b_big_q, b_acc_q}    <= acc_b;
      {b_mbig_q, b_mcand_q} <= nbg_b;
      mplier_q    <= MplW'(m_m);
    end else if ((in_patch || state_q == SCalc || in_vmcalc) && !mul_done) begin
      if (mplier_q[0]) begin
        a_acc_q <= a_sum[AW-1:0];
        a_big_q <= a_big_q || a_mbig_q || a_sum[AW];
        b_acc_q <= b_sum[SramW-1:0];
        b_big_q <= b_big_q || b_mbig_q || b_sum[SramW];
      end
      a_mcand_q <= a_mcand_q << 1;
      a_mbig_q  <= a_mbig_q || a_mcand_q[AW-1];
      b_mcand_q <= b_mcand_q << 1;
      b_mbig_q  <= b_mbig_q || b_mcand_q[SramW-1];
      mplier_q  <= mplier_q >> 1;
    end
  end
  assign acc_b = sat_b(33'(m_acc_word));

  logic [7:0]  rng_code;
  info_e       rng_kind;
  logic [2:0]  rng_word;
  // The window ends at WIN_BASE + WIN_SIZE or at the end of the core's address space
  // (2^AddrW), whichever comes first: the DMA's addresses are AddrW bits and must not wrap.
  logic [32:0] win_end, win_sum;
  assign win_sum = 33'(win_base_i) + 33'(win_size_i);
  assign win_end = ks_gt_const(64'(win_sum), SpaceEnd) ? 33'(SpaceEnd) : win_sum;
  logic host_past, sram_past;
  // (An end past min(WIN_BASE + WIN_SIZE, 2^AddrW) is past either: no multiplexer for the min.)
  assign host_past = a_big_q || 34'(a_acc_q) > 34'(win_sum) || ks_gt_const(64'(a_acc_q), SpaceEnd);
  // HOST_ADDR (word 3 for LOAD, STORE and COMPLETE) below WIN_BASE, which holds AddrW + 1 bits
  // (ks_ctrl_regs): an address with a bit set above them is not below it.
  localparam int unsigned WinW = AddrW < 32 ? AddrW + 1 : 32;
  logic host_below;
  assign host_below = (64'(w3) >> WinW) == '0 && WinW'(w3) < WinW'(win_base_i);
  assign sram_past = b_big_q || 33'(b_acc_q) > 33'(x_bank_bytes);
  always_comb begin
    rng_code = ks_desc_pkg::ErrNone;
    rng_kind = IZero;
    rng_word = '0;
    if (is_load || is_store || is_cpl) begin
      if (host_below || host_past) begin
        rng_code = ks_desc_pkg::ErrHostRange;
        rng_kind = IWord; rng_word = 3'd3;             // HOST_ADDR
      end else if (!is_cpl && sram_past) begin
        rng_code = ks_desc_pkg::ErrSramRange;
        rng_kind = IWord; rng_word = 3'd2;             // SRAM_ADDR
      end
    end else if (is_mat) begin
      if (wgt_bad_q) begin
        rng_code = ks_desc_pkg::ErrSramRange; rng_kind = IWord; rng_word = 3'd5;
      end else if (a_big_q || ks_gt_const(64'(a_acc_q), 64'(ActDepth))) begin
        rng_code = ks_desc_pkg::ErrSramRange; rng_kind = IWord; rng_word = 3'd6;
      end else if (b_big_q || ks_gt_const(64'(b_acc_q), 64'(AccDepthW))) begin
        rng_code = ks_desc_pkg::ErrSramRange; rng_kind = IWord; rng_word = 3'd7;
      end
    end else if (is_vec) begin
      if (v_bad) begin
        rng_code = ks_desc_pkg::ErrBadVector; rng_kind = IWord; rng_word = 3'd1;
      end
    end else if (is_vrun) begin
      if (17'(vr_start) + 17'(vr_count) > 17'(VecProgDepth)) begin
        rng_code = ks_desc_pkg::ErrSramRange; rng_kind = ILow16; rng_word = 3'd1;   // START
      end
    end else if (is_vmove) begin
      if (vm_dir == 4'd0) begin
        if (vm_rem_q != '0) begin
          rng_code = ks_desc_pkg::ErrMisaligned; rng_kind = IWord; rng_word = 3'd4;   // COUNT
        end else if (64'(vm_acc_words_q) + 64'(vm_count) > 64'(AccDepthW)) begin
          rng_code = ks_desc_pkg::ErrSramRange; rng_kind = IWord; rng_word = 3'd3;
        end else if (a_big_q || 64'(vm_elem) + 64'(a_acc_q) + 64'(vm_qrows_q) > 64'(VecElems)) begin
          rng_code = ks_desc_pkg::ErrBadVector; rng_kind = IWord; rng_word = 3'd1;
        end
      end else begin
        if (64'(vm_bank) + 64'(vm_act_pad_q) > 64'(ActBytes)) begin
          rng_code = ks_desc_pkg::ErrSramRange; rng_kind = IWord; rng_word = 3'd3;
        end else if (64'(vm_elem) + 64'(vm_count) > 64'(VecElems)) begin
          rng_code = ks_desc_pkg::ErrBadVector; rng_kind = IWord; rng_word = 3'd1;
        end
      end
    end else if (is_decode) begin
      if (d_prog < win_base_i || 64'(d_prog) + {43'b0, d_prog_len, 5'b0} > 64'(win_end)) begin
        rng_code = ks_desc_pkg::ErrHostRange; rng_kind = IWord; rng_word = 3'd1;
      end else if (d_prompt < win_base_i || 64'(d_prompt) + {46'b0, d_prompt_len, 2'b0} > 64'(win_end)) begin
        rng_code = ks_desc_pkg::ErrHostRange; rng_kind = IWord; rng_word = 3'd3;
      end else if (d_start >= d_seq_len) begin
        rng_code = ks_desc_pkg::ErrDecodeRange; rng_kind = ILow16; rng_word = 3'd5;   // START_POS
      end
    end
  end

  // ---- engine queues with token gates ---------------------------------------------------------
  // Queue entry: {ring index, token flags, payload}
  localparam int unsigned XQW = 16 + 2 + 4 + XferW;   // {index, {POP_VEC, PUSH_VEC}, deps, payload}
  localparam int unsigned MQW = 16 + 4 + MatW;
  localparam int unsigned VQW = 16 + 2 + VecW;         // {index, {PUSH_PREV, POP_PREV}, payload}
  logic lq_push, sq_push, mq_push, vq_push, lq_ready, sq_ready, mq_ready, vq_ready;
  logic lq_valid, sq_valid, mq_valid, vq_valid, lq_pop, sq_pop, mq_pop, vq_pop;
  logic [XQW-1:0] lq_head, sq_head;
  logic [MQW-1:0] mq_head;
  logic [VQW-1:0] vq_head;
  logic [XferW-1:0] xfer_payload;
  logic [MatW-1:0]  mat_payload;
  logic [VecW-1:0]  vec_payload;
  logic flush;

  // The fields as the engines take them: the checks passed, so each fits its width (a stride
  // only matters modulo the bank, ROW_BYTES goes as beats).
  // Host addresses and strides as AddrW bits: every row lies below 2^AddrW (the checks), so
  // the engines' address arithmetic modulo 2^AddrW gives the same addresses.
  assign xfer_payload = {x_bank[2:0], SramW'(x_sram), AddrW'(x_host), x_rows, BeatsW'(x_bytes >> LaneW),
                         AddrW'(x_hstride),
                         SramW'(x_sstride)};
  assign mat_payload  = {m_int4, MW'(m_m), nb_q, kc_q, MW'(kx_q),
                         WgtWordW'(m_wgt_word), ActWordW'(m_act_word), AccWordW'(m_acc_word),
                         rows_last_q, k_last_q, cpg_q, groups_q, nbg_q};
  // VRUN: START in A, COUNT in LEN, the DECODE pos (0 outside one) in IMM.
  assign vec_payload  = is_vrun ? {1'b1, 11'b0, 16'b0, vr_start, 16'b0, vr_count,
                                   16'b0, dec_on ? dec_pos_q : 16'd0}
                                : {1'b0, v_kind, v_op, v_swap_b, v_b_imm, v_hist_a, v_dst, v_a, v_b, v_len, w4};

  if (QueueDepth != 0) begin : g_queues
    ks_fifo #(.Width(XQW), .Depth(QueueDepth)) u_lq (
      .clk_i, .rst_ni(rst_ni && !flush),
      .in_valid_i(lq_push), .in_ready_o(lq_ready), .in_data_i({head16, lvec, deps, xfer_payload}),
      .out_valid_o(lq_valid), .out_ready_i(lq_pop), .out_data_o(lq_head), .count_o());
    ks_fifo #(.Width(XQW), .Depth(QueueDepth)) u_sq (
      .clk_i, .rst_ni(rst_ni && !flush),
      .in_valid_i(sq_push), .in_ready_o(sq_ready), .in_data_i({head16, 2'b00, deps, xfer_payload}),
      .out_valid_o(sq_valid), .out_ready_i(sq_pop), .out_data_o(sq_head), .count_o());
    ks_fifo #(.Width(MQW), .Depth(QueueDepth)) u_mq (
      .clk_i, .rst_ni(rst_ni && !flush),
      .in_valid_i(mq_push), .in_ready_o(mq_ready), .in_data_i({head16, deps, mat_payload}),
      .out_valid_o(mq_valid), .out_ready_i(mq_pop), .out_data_o(mq_head), .count_o());
    // VEC instructions were checked before dispatch and never fail; a VRUN's entries are
    // checked as they run, and the ring index names the VRUN when one fails.
    if (HasVector != 0) begin : g_vq
      ks_fifo #(.Width(VQW), .Depth(QueueDepth)) u_vq (
        .clk_i, .rst_ni(rst_ni && !flush),
        .in_valid_i(vq_push), .in_ready_o(vq_ready), .in_data_i({head16, deps[2], deps[0], vec_payload}),
        .out_valid_o(vq_valid), .out_ready_i(vq_pop), .out_data_o(vq_head), .count_o());
    end else begin : g_no_vq
      assign vq_ready = 1'b0;
      assign vq_valid = 1'b0;
      assign vq_head  = '0;
      logic unused_vq;
      assign unused_vq = ^{vq_push, vq_pop, vec_payload};
    end
  end else begin : g_direct
    // No queues (QueueDepth = 0): the descriptor in dispatch is offered to its engine
    // directly, and the command processor waits there until the engine takes it (tokens
    // included). Nothing runs ahead of an engine, and no command is stored twice.
    logic in_dispatch;
    assign in_dispatch = state_q == SDispatch && !halted_q;
    assign lq_valid = in_dispatch && is_load && !(x_is_vec && vec_pending);
    assign sq_valid = in_dispatch && is_store && !(x_is_vec && vec_pending);
    assign mq_valid = in_dispatch && is_mat;
    assign lq_head  = {head16, lvec, deps, xfer_payload};
    assign sq_head  = {head16, 2'b00, deps, xfer_payload};
    assign mq_head  = {head16, deps, mat_payload};
    assign lq_ready = lq_pop;
    assign sq_ready = sq_pop;
    assign mq_ready = mq_pop;
    if (HasVector != 0) begin : g_vq
      assign vq_valid = in_dispatch && (is_vec || is_vrun) && !vxfer_pending;
      assign vq_head  = {head16, deps[2], deps[0], vec_payload};
      assign vq_ready = vq_pop;
    end else begin : g_no_vq
      assign vq_ready = 1'b0;
      assign vq_valid = 1'b0;
      assign vq_head  = '0;
      logic unused_vq;
      assign unused_vq = ^{vec_payload};
    end
    logic unused_push;
    assign unused_push = ^{lq_push, sq_push, mq_push, vq_push};
  end
  assign vec_cmd_o = vq_head[VecW-1:0];

  // Tokens: l2c (load->compute), c2l, c2s, s2c.
  logic [7:0] l2c_q, c2l_q, c2s_q, s2c_q;
  logic [3:0] l_deps, s_deps, m_deps;
  logic [1:0] l_vec, v_deps;                 // {POP_VEC, PUSH_VEC}; {PUSH_PREV, POP_PREV}
  assign l_deps = lq_head[XferW +: 4];
  assign s_deps = sq_head[XferW +: 4];
  assign l_vec  = HasVector != 0 ? lq_head[XferW + 4 +: 2] : 2'b00;
  assign v_deps = vq_head[VecW +: 2];
  assign m_deps = mq_head[MatW +: 4];
  logic l_tokens_ok, s_tokens_ok, m_tokens_ok;
  logic [7:0] l2v_q, v2l_q;
  logic v_tokens_ok;
  assign l_tokens_ok = (!l_deps[1] || c2l_q != 0) && (!l_vec[1] || v2l_q != 0);
  assign v_tokens_ok = !v_deps[0] || l2v_q != 0;
  assign s_tokens_ok = !s_deps[0] || c2s_q != 0;
  assign m_tokens_ok = (!m_deps[0] || l2c_q != 0) && (!m_deps[1] || s2c_q != 0);

  assign load_valid_o  = lq_valid && l_tokens_ok && !abort_o;
  assign store_valid_o = sq_valid && s_tokens_ok && !abort_o;
  assign mat_valid_o   = mq_valid && m_tokens_ok && !abort_o;
  assign vec_valid_o   = vq_valid && v_tokens_ok && !abort_o;
  assign load_cmd_o    = lq_head[XferW-1:0];
  assign store_cmd_o   = sq_head[XferW-1:0];
  assign mat_cmd_o     = mq_head[MatW-1:0];
  assign lq_pop = load_valid_o && load_ready_i;
  assign sq_pop = store_valid_o && store_ready_i;
  assign mq_pop = mat_valid_o && mat_ready_i;
  assign vq_pop = vec_valid_o && vec_ready_i;
  assign token_wait_o = (lq_valid && !l_tokens_ok) || (sq_valid && !s_tokens_ok) ||
                        (mq_valid && !m_tokens_ok) || (vq_valid && !v_tokens_ok);

  // Order between the vector unit and LOAD/STORE of bank VEC: how many such transfers are
  // queued, and whether the load or store engine runs one.
  localparam int unsigned QCntW = QueueDepth != 0 ? $clog2(QueueDepth + 1) : 1;
  logic [QCntW-1:0] lq_vec_q, sq_vec_q;
  logic l_run_vec_q, s_run_vec_q, vxfer_pending, vec_pending;
  logic lq_head_vec, sq_head_vec;
  assign lq_head_vec = HasVector != 0 && (lq_head[XferW-1 -: 3] == 3'(ks_desc_pkg::BankVec) ||
                                          lq_head[XferW-1 -: 3] == 3'(ks_desc_pkg::BankVprog));
  assign sq_head_vec = HasVector != 0 && sq_head[XferW-1 -: 3] == 3'(ks_desc_pkg::BankVec);
  always_ff @(posedge clk_i) begin
    if (!rst_ni || flush) begin
      lq_vec_q <= '0;
      sq_vec_q <= '0;
    end else begin
      lq_vec_q <= lq_vec_q + $bits(lq_vec_q)'(lq_push && x_is_vec) - $bits(lq_vec_q)'(lq_pop && lq_head_vec);
      sq_vec_q <= sq_vec_q + $bits(sq_vec_q)'(sq_push && x_is_vec) - $bits(sq_vec_q)'(sq_pop && sq_head_vec);
    end
    if (!rst_ni) begin
      l_run_vec_q <= 1'b0;
      s_run_vec_q <= 1'b0;
    end else begin
      if (lq_pop) l_run_vec_q <= lq_head_vec; else if (load_done_i) l_run_vec_q <= 1'b0;
      if (sq_pop) s_run_vec_q <= sq_head_vec; else if (store_done_i) s_run_vec_q <= 1'b0;
    end
  end
  assign vxfer_pending = lq_vec_q != '0 || sq_vec_q != '0 || l_run_vec_q || s_run_vec_q;

  // LOADs VMOVE waits for (banks ACT, VEC, VPROG): how many are queued, whether one runs.
  logic [QCntW-1:0] lq_blk_q;
  logic l_run_blk_q, x_blk, lq_head_blk;
  assign x_blk       = HasVector != 0 && is_load && (x_is_vec || x_bank == ks_desc_pkg::BankAct);
  assign lq_head_blk = HasVector != 0 && (lq_head_vec || lq_head[XferW-1 -: 3] == 3'(ks_desc_pkg::BankAct));
  always_ff @(posedge clk_i) begin
    if (!rst_ni || flush) begin
      lq_blk_q <= '0;
    end else begin
      lq_blk_q <= lq_blk_q + $bits(lq_blk_q)'(lq_push && x_blk) - $bits(lq_blk_q)'(lq_pop && lq_head_blk);
    end
    if (!rst_ni) begin
      l_run_blk_q <= 1'b0;
    end else if (lq_pop) begin
      l_run_blk_q <= lq_head_blk;
    end else if (load_done_i) begin
      l_run_blk_q <= 1'b0;
    end
  end
  assign vec_pending   = vq_valid || vec_busy_i;

  // What each engine is running: its ring index and push flags.
  logic [15:0] l_idx_q, s_idx_q, m_idx_q, v_idx_q;
  logic [1:0]  l_push_q, s_push_q, m_push_q;  // {PUSH_NEXT, PUSH_PREV}
  logic        l_pushvec_q;
  always_ff @(posedge clk_i) begin
    if (lq_pop) begin l_idx_q <= lq_head[XQW-1 -: 16]; l_push_q <= l_deps[3:2]; l_pushvec_q <= l_vec[0]; end
    if (sq_pop) begin s_idx_q <= sq_head[XQW-1 -: 16]; s_push_q <= s_deps[3:2]; end
    if (mq_pop) begin m_idx_q <= mq_head[MQW-1 -: 16]; m_push_q <= m_deps[3:2]; end
    if (vq_pop) v_idx_q <= vq_head[VQW-1 -: 16];
  end

  // Token arithmetic: pops when an engine starts, pushes when it finishes without error.
  logic l_push_ok, s_push_ok, m_push_ok;
  // Work that finishes while the engines are being aborted does not count: it neither
  // pushes tokens nor counts as executed.
  assign l_push_ok = load_done_i && !load_err_i && !flush;
  assign s_push_ok = store_done_i && !store_err_i && !flush;
  assign m_push_ok = mat_done_i && !flush;
  logic l2c_inc, c2l_inc, c2s_inc, s2c_inc, l2c_dec, c2l_dec, c2s_dec, s2c_dec;
  logic l2v_inc, v2l_inc, l2v_dec, v2l_dec;
  // The vector engine's PUSH_PREV: its instruction (or run) is done once the unit is idle
  // again after taking it (busy rises the cycle after, or never for a one-cycle one).
  logic v_pend_q, v_done;
  assign v_done = v_pend_q && !vec_busy_i;
  always_ff @(posedge clk_i) begin
    if (!rst_ni || flush) begin
      v_pend_q <= 1'b0;
    end else if (vq_pop) begin
      v_pend_q <= v_deps[1];
    end else if (v_done) begin
      v_pend_q <= 1'b0;
    end
  end
  assign l2v_inc = HasVector != 0 && l_push_ok && l_pushvec_q;
  assign v2l_inc = HasVector != 0 && v_done && !flush;
  assign l2v_dec = vq_pop && v_deps[0];
  assign v2l_dec = lq_pop && l_vec[1];
  assign l2c_inc = l_push_ok && l_push_q[1];
  assign c2l_inc = m_push_ok && m_push_q[0];
  assign c2s_inc = m_push_ok && m_push_q[1];
  assign s2c_inc = s_push_ok && s_push_q[0];
  assign l2c_dec = mq_pop && m_deps[0];
  assign s2c_dec = mq_pop && m_deps[1];
  assign c2l_dec = lq_pop && l_deps[1];
  assign c2s_dec = sq_pop && s_deps[0];
  logic tok_overflow;
  logic [15:0] tok_overflow_idx;
  always_comb begin
    tok_overflow = 1'b0;
    tok_overflow_idx = '0;
    if (l2c_inc && !l2c_dec && l2c_q == 8'hff) begin tok_overflow = 1'b1; tok_overflow_idx = l_idx_q; end
    if (s2c_inc && !s2c_dec && s2c_q == 8'hff) begin tok_overflow = 1'b1; tok_overflow_idx = s_idx_q; end
    if ((c2l_inc && !c2l_dec && c2l_q == 8'hff) || (c2s_inc && !c2s_dec && c2s_q == 8'hff)) begin
      tok_overflow = 1'b1; tok_overflow_idx = m_idx_q;
    end
    if (l2v_inc && !l2v_dec && l2v_q == 8'hff) begin tok_overflow = 1'b1; tok_overflow_idx = l_idx_q; end
    if (v2l_inc && !v2l_dec && v2l_q == 8'hff) begin tok_overflow = 1'b1; tok_overflow_idx = v_idx_q; end
  end
  // (One adder per counter: +1, -1 or nothing; a push onto 255 is the overflow above.)
  function automatic logic [7:0] tok_next(input logic [7:0] v, input logic inc, input logic dec);
    logic up, down;
    up   = inc && !dec && v != 8'hff;
    down = dec && !(inc && v != 8'hff);
    tok_next = (up || down) ? v + (down ? 8'hff : 8'h01) : v;
  endfunction
  always_ff @(posedge clk_i) begin
    if (!rst_ni || state_q == SReset) begin
      l2c_q <= '0; c2l_q <= '0; c2s_q <= '0; s2c_q <= '0; l2v_q <= '0; v2l_q <= '0;
    end else begin
      l2v_q <= tok_next(l2v_q, l2v_inc, l2v_dec);
      v2l_q <= tok_next(v2l_q, v2l_inc, v2l_dec);
      l2c_q <= tok_next(l2c_q, l2c_inc, l2c_dec);
      c2l_q <= tok_next(c2l_q, c2l_inc, c2l_dec);
      c2s_q <= tok_next(c2s_q, c2s_inc, c2s_dec);
      s2c_q <= tok_next(s2c_q, s2c_inc, s2c_dec);
    end
  end

  // Execution errors, in a fixed priority when several happen at once.
  logic        exec_err;
  logic [7:0]  exec_code;
  info_e       exec_kind;
  logic [31:0] exec_idx;
  always_comb begin
    exec_err = 1'b1;
    exec_code = ks_desc_pkg::ErrNone;
    exec_kind = IZero;
    exec_idx = '0;
    if (load_done_i && load_err_i) begin
      exec_code = ks_desc_pkg::ErrReadBusError; exec_kind = IExecLoad; exec_idx = 32'(l_idx_q);
    end else if (store_done_i && store_err_i) begin
      exec_code = ks_desc_pkg::ErrWriteBusError; exec_kind = IExecStore; exec_idx = 32'(s_idx_q);
    end else if (tok_overflow) begin
      exec_code = ks_desc_pkg::ErrTokenOverflow; exec_idx = 32'(tok_overflow_idx);
    end else if (vec_run_err_i) begin
      exec_code = ks_desc_pkg::ErrBadVector; exec_kind = IZero; exec_idx = 32'(v_idx_q);   // ERR_INFO: err_now
    end else begin
      exec_err = 1'b0;
    end
  end

  // ---- ring configuration checks --------------------------------------------------------------
  logic        ring_ok;
  logic        ring_bad_base;   // 0: RING_SIZE is the bad value, 1: RING_BASE
  // RING_SIZE must be one of 2^1 .. 2^16: one bit set among [16:1]. For such a size, an index
  // i (16 bits) is >= RING_SIZE exactly when it has a bit at or above the set one (le_size).
  logic        size_pow2;
  function automatic logic [15:0] prefix_or(input logic [15:0] v);
    prefix_or = v;
    for (int i = 1; i < 16; i++) prefix_or[i] = prefix_or[i-1] || v[i];
  endfunction
  logic [15:0] le_size;            // bit i: RING_SIZE has a bit at or below i
  assign le_size = prefix_or(ring_size_i[15:0]);
  assign size_pow2 = ring_size_i[31:17] == '0 && ring_size_i[0] == 1'b0 && $onehot(ring_size_i[16:1]);
  logic [33:0] ring_end;
  assign ring_end = 34'(ring_base_i) + {12'b0, ring_size_i[16:0], 5'b0};
  always_comb begin
    ring_ok  = 1'b1;
    ring_bad_base = 1'b0;
    if (!size_pow2 || (head16 & le_size) != '0 || (tail16 & le_size) != '0) begin
      // Also a ring shrunk below the current head or tail while disabled.
      ring_ok = 1'b0;
    end else if (ring_base_i[4:0] != '0 || ring_base_i < win_base_i || ring_end > 34'(win_sum) ||
                 ks_gt_const(64'(ring_end), SpaceEnd)) begin
      ring_ok = 1'b0; ring_bad_base = 1'b1;
    end
  end

  // ---- DECODE: patching, the next token, stop conditions -------------------------------------
  // POS_ADDR / TOKEN_ADDR: HOST_ADDR + (pos + token) x ROW_BYTES by shift-add (accumulator A), then the
  // field checks see the patched descriptor. Past 32 bits: HOST_RANGE; ROWS + pos or LEN + pos
  // past 16 bits: SRAM_RANGE / BAD_VECTOR (the model's order).
  logic        p_addr, p_token, p_rows, p_len, patch_run_q;
  logic [16:0] patch_rows, patch_len;
  assign p_addr     = (is_load || is_store) &&
                      desc_q[ks_desc_pkg::LoadPosAddrWord * 32 + ks_desc_pkg::LoadPosAddrLsb];
  assign p_token    = (is_load || is_store) &&
                      desc_q[ks_desc_pkg::LoadTokenAddrWord * 32 + ks_desc_pkg::LoadTokenAddrLsb];
  assign p_rows     = (is_load || is_store) &&
                      desc_q[ks_desc_pkg::LoadPosRowsWord * 32 + ks_desc_pkg::LoadPosRowsLsb];
  assign p_len      = is_vec && desc_q[ks_desc_pkg::VecPosLenWord * 32 + ks_desc_pkg::VecPosLenLsb];
  assign patch_rows = 17'(x_rows) + 17'(dec_pos_q);
  assign patch_len  = 17'(v_len) + 17'(dec_pos_q);

  logic [7:0]  patch_code;
  info_e       patch_kind;
  logic [2:0]  patch_word;
  always_comb begin
    patch_code = ks_desc_pkg::ErrNone;
    patch_kind = IZero;
    patch_word = '0;
    if (a_big_q || a_acc_q[AW-1]) begin  // HOST_ADDR + (pos + token) x ROW_BYTES in accumulator A
      patch_code = ks_desc_pkg::ErrHostRange; patch_kind = IPatch;
    end else if (p_rows && patch_rows[16]) begin
      patch_code = ks_desc_pkg::ErrSramRange; patch_kind = IWord; patch_word = 3'd2;   // SRAM_ADDR
    end else if (p_len && patch_len[16]) begin
      patch_code = ks_desc_pkg::ErrBadVector; patch_kind = IWord; patch_word = 3'd1;
    end
  end

  // The prompt token being read: PROMPT[0] to start, PROMPT[i + 1] at the end of step i.
  logic        prompt_first_q, next_forced_q;
  logic [31:0] prompt_addr, next_q;
  logic [15:0] prompt_idx;
  logic [LaneW-3:0] prompt_lane;
  assign prompt_idx  = prompt_first_q ? 16'd0 : dec_step_q + 16'd1;
  assign prompt_addr = dec_prompt_q + {14'b0, prompt_idx, 2'b0};
  assign prompt_lane = prompt_addr[LaneW-1:2];

  // Stop conditions of the token going out, in priority order (DEC_STATUS.REASON).
  logic        forced;
  logic [3:0]  reason;
  assign forced = 17'(dec_step_q) + 17'd1 < 17'(dec_prompt_len_q);
  always_comb begin
    if (dec_stop_q != 16'hFFFF && next_q == 32'(dec_stop_q)) begin
      reason = 4'd3;                                      // STOP_TOKEN
    end else if (17'(dec_step_q) + 17'd1 == 17'(dec_steps_q)) begin
      reason = 4'd1;                                      // STEPS
    end else if (17'(dec_pos_q) + 17'd1 == 17'(dec_seq_len_q)) begin
      reason = 4'd2;                                      // SEQ_LEN
    end else if (dec_abort_q) begin
      reason = 4'd4;                                      // ABORT
    end else begin
      reason = 4'd0;
    end
  end

  // ---- the state machine -----------------------------------------------------------------
  // The index wraps below RING_SIZE's lowest set bit: RING_SIZE - 1 for the powers of two the
  // ring runs with (a RING_SIZE of 2^16 has no bit set in [15:0]: all 16 bits), with no adder.
  logic [IdxW-1:0] size_mask;
  assign size_mask = IdxW'(~le_size);
  logic engines_idle, vmove_free;
  assign engines_idle = !engines_busy_i && !lq_valid && !sq_valid && !mq_valid && !vq_valid;
  // VMOVE waits for the vector unit, the matrix unit, the store engine and the LOADs into its
  // banks (ACT) or the vector unit's (VEC, VPROG); not for LOADs of WGT, KV or HIST.
  assign vmove_free = !vec_busy_i && !vq_valid && !mat_busy_i && !mq_valid && !store_busy_i && !sq_valid &&
                      lq_blk_q == '0 && !(l_run_blk_q && load_busy_i);

  logic        raise;
  logic [7:0]  raise_code;
  info_e       raise_kind;
  logic [2:0]  raise_word;
  logic [31:0] raise_idx;
  logic        advance, consumed, cpl_ok, dec_start, tok_fire, dec_end;
  logic        vm_calc_done;
  logic [4:0]  vm_cnt_q;
  assign vm_calc_done = vm_cnt_q == 5'd16;
  assign tok_fire     = tok_valid_o && tok_ready_i;
  assign dec_end      = tok_fire && reason != 4'd0;

  always_comb begin
    state_d    = state_q;
    raise      = 1'b0;
    raise_code = '0;
    raise_kind = IZero;
    raise_word = '0;
    raise_idx  = 32'(head_q);
    consumed   = 1'b0;
    cpl_ok     = 1'b0;
    dec_start  = 1'b0;
    lq_push    = 1'b0;
    sq_push    = 1'b0;
    mq_push    = 1'b0;
    vq_push    = 1'b0;
    unique case (state_q)
      SIdle: begin
        if (dec_on && enable_i && !halted_q && dec_pc_q == dec_prog_len_q) begin
          state_d = SStepFence;                        // the step program has been handed out
        end else if (enable_i && !halted_q && (dec_on || head_q != tail_q)) begin
          state_d = SFetch;
        end
      end
      SFetch: if (cache_hit || fetch_ready_i) state_d = SRecv;
      SRecv: begin
        if (dc_hit_q) begin
          state_d = SPatch;                            // from the step-program cache
        end else if (fetch_rsp_valid_i && fetch_rsp_last_i) begin
          if (fetch_err_q || fetch_rsp_err_i) begin
            raise = 1'b1;
            raise_code = ks_desc_pkg::ErrFetchBusError;
            raise_kind = IFetch;
            state_d = SIdle;
          end else begin
            state_d = dec_on ? SPatch : SCheck;
          end
        end
      end
      SPatch: begin
        if (halted_q) begin
          state_d = SIdle;
        end else if (HasVector != 0 && patch_run_q && mul_done) begin
          if (patch_code != ks_desc_pkg::ErrNone) begin
            raise = 1'b1; raise_code = patch_code; raise_kind = patch_kind; raise_word = patch_word;
            state_d = SIdle;
          end else begin
            state_d = SCheck;
          end
        end
      end
      SCheck: begin
        if (halted_q) begin
          state_d = SIdle;
        end else if (chk_code != ks_desc_pkg::ErrNone) begin
          raise = 1'b1; raise_code = chk_code; raise_kind = chk_kind; raise_word = chk_word;
          state_d = SIdle;
        end else if (is_vmove && vm_dir == 4'd0) begin
          state_d = SVmCalc;
        end else if (is_mat || ((is_load || is_store) && x_rows[15:1] != '0)) begin
          state_d = SCalc;                             // the extents' products
        end else begin
          state_d = SRange;
        end
      end
      SCalc: if (mul_done && !(is_mat && !mat_phase_q)) state_d = SRange;
      SVmCalc: if (vm_calc_done) state_d = SRange;
      SRange: begin
        if (rng_code != ks_desc_pkg::ErrNone) begin
          raise = 1'b1; raise_code = rng_code; raise_kind = rng_kind; raise_word = rng_word;
          state_d = SIdle;
        end else begin
          state_d = (is_nop || is_cpl || is_vmove || is_decode) ? SFence : SDispatch;
        end
      end
      SDispatch: begin
        if (halted_q) begin
          state_d = SIdle;
        end else if (is_load && lq_ready && !(x_is_vec && vec_pending)) begin
          lq_push = 1'b1; consumed = 1'b1; state_d = SIdle;
        end else if (is_store && sq_ready && !(x_is_vec && vec_pending)) begin
          sq_push = 1'b1; consumed = 1'b1; state_d = SIdle;
        end else if (is_mat && mq_ready) begin
          mq_push = 1'b1; consumed = 1'b1; state_d = SIdle;
        end else if ((is_vec || is_vrun) && vq_ready && !vxfer_pending) begin
          vq_push = 1'b1; consumed = 1'b1; state_d = SIdle;
        end
      end
      SFence: begin
        if (halted_q) begin
          state_d = SIdle;
        end else if (is_vmove) begin
          if (vmove_free) state_d = SVmove;
        end else if (engines_idle) begin
          if (is_cpl) begin
            state_d = SCplReq;
          end else if (is_decode) begin
            state_d = SPrompt;
          end else begin
            consumed = 1'b1;
            state_d = SIdle;
          end
        end
      end
      SCplReq: if (cpl_ready_i) state_d = SCplData;
      SCplData: if (cpl_dat_ready_i) state_d = SCplWait;
      SCplWait: begin
        if (cpl_done_i) begin
          if (cpl_err_i) begin
            raise = 1'b1;
            raise_code = ks_desc_pkg::ErrWriteBusError;
            raise_kind = IWord; raise_word = 3'd3;       // COMPLETE's HOST_ADDR
          end else begin
            cpl_ok = 1'b1;
            consumed = 1'b1;
          end
          state_d = SIdle;
        end
      end
      SVmove: if (vmove_ready_i) state_d = SVmoveWait;
      SVmoveWait: begin
        if (vmove_done_i) begin
          consumed = 1'b1;
          state_d = SIdle;
        end
      end
      SPrompt: if (fetch_ready_i) state_d = SPromptRecv;
      SPromptRecv: begin
        if (HasVector != 0 && fetch_rsp_valid_i && fetch_rsp_last_i) begin
          if (fetch_rsp_err_i) begin
            raise = 1'b1;
            raise_code = ks_desc_pkg::ErrFetchBusError;
            raise_kind = IPrompt;
            state_d = SIdle;
          end else if (halted_q) begin
            state_d = SIdle;                           // halted meanwhile (a register error)
          end else if (prompt_first_q) begin
            dec_start = 1'b1;
            state_d = SIdle;
          end else begin
            state_d = SEmit;
          end
        end
      end
      SStepFence: begin
        // The step's fence; then the next token: forced from the prompt, or S7.
        if (halted_q || !dec_on) begin
          state_d = SIdle;
        end else if (engines_idle) begin
          state_d = forced ? SPrompt : SEmit;
        end
      end
      SEmit: begin
        if (halted_q || !dec_on) begin
          state_d = SIdle;
        end else if (tok_ready_i) begin
          state_d = SIdle;
        end
      end
      SReset: begin
        if (engines_idle && !dma_busy_i) state_d = SIdle;
      end
      default: state_d = SIdle;
    endcase
    // A queue reset overrides everything (the DMA finishes what it started meanwhile).
    if (queue_reset_i) state_d = SReset;
  end

  // A consumed descriptor moves RING_HEAD, or DEC_PC inside a step program; the DECODE itself
  // is consumed when its last token goes out.
  assign advance = (consumed && !dec_on) || dec_end;

  assign flush = state_q == SReset || exec_abort_q;

  // Which error, if any, is recorded this cycle (the first wins while halted), and whether a
  // CTRL.ENABLE write resumes. After an execution error the work queued behind it is gone:
  // only QUEUE_RESET recovers, and a CTRL.ENABLE write is ignored until then.
  // ERR_INFO is filled in two steps: the error records which value is its detail (err_kind_d,
  // err_word_d) and the value is picked in the next cycle, from sources that hold still while
  // the queue is halted (the descriptor, the ring registers, the engines' error addresses).
  // Values that do not hold (the written doorbell, a VRUN entry's index, a step program's
  // fetch address) go in at once (err_now).
  // A doorbell past RING_SIZE (which holds 18 bits: ks_ctrl_regs).
  logic        tail_big;
  assign tail_big = (tail_value_i >> 18) != '0 || 18'(tail_value_i) >= 18'(ring_size_i);
  logic        err_set, resume;
  logic [7:0]  err_code_d;
  logic [31:0] err_index_d, err_now;
  info_e       err_kind_d;
  logic [2:0]  err_word_d;
  always_comb begin
    err_set     = 1'b0;
    resume      = 1'b0;
    err_code_d  = '0;
    err_kind_d  = IZero;
    err_word_d  = '0;
    err_now     = '0;
    err_index_d = 32'(head_q);
    if (!halted_q) begin
      if (exec_err) begin
        err_set = 1'b1; err_code_d = exec_code; err_kind_d = exec_kind; err_index_d = exec_idx;
        if (exec_code == ks_desc_pkg::ErrBadVector) err_now = 32'(vec_run_err_idx_i);
      end else if (raise) begin
        err_set = 1'b1; err_code_d = raise_code; err_kind_d = raise_kind; err_word_d = raise_word;
        err_index_d = raise_idx;
        if (HasVector != 0 && raise_kind == IFetch) begin
          err_kind_d = IZero; err_now = 32'(fetch_addr_o);   // a step program's: dec_on ends now
        end
      end else if (tail_write_i && tail_big) begin
        err_set = 1'b1; err_code_d = ks_desc_pkg::ErrDoorbellRange; err_now = tail_value_i;
      end else if (enable_write_i && !ring_ok) begin
        err_set = 1'b1; err_code_d = ks_desc_pkg::ErrRingConfig; err_kind_d = ring_bad_base ? IRingBase : IRingSize;
      end
    end else if (enable_write_i && state_q == SIdle && !exec_abort_q && !exec_error_q) begin
      if (ring_ok) begin
        resume = 1'b1;
      end else begin
        err_set = 1'b1; err_code_d = ks_desc_pkg::ErrRingConfig; err_kind_d = ring_bad_base ? IRingBase : IRingSize;
      end
    end
    if (ErrDetail == 0) err_kind_d = IZero;
  end

  // The recorded detail's value. A descriptor word is taken from the low fetch beat of desc_q:
  // a word of a later beat is first shifted down there (err_shift, a beat per cycle, in SIdle:
  // the descriptor that failed is fetched again on resume, and nothing reads it meanwhile;
  // errors that name a word go to SIdle at once), so a Wpb-to-1 multiplexer picks it, not
  // one over the whole descriptor. Register reads wait meanwhile (err_busy_o).
  localparam int unsigned Wpb = AxiBytes / 4;                          // words per fetch beat
  localparam int unsigned ShW = DescBeats > 1 ? $clog2(DescBeats) : 1;
  info_e       err_kind_q;
  logic [2:0]  err_word_q;
  logic        err_fill_q, err_shift;
  logic [ShW-1:0] err_shift_q;   // beats to shift down before the word is in the low one
  logic [31:0] err_word_val, err_fill;
  assign err_shift    = err_fill_q && err_shift_q != '0 && state_q == SIdle;
  assign err_word_val = word(desc_q, 32'(err_word_q) % Wpb);
  always_comb begin
    unique case (err_kind_q)
      IWord:      err_fill = err_word_val;
      ILow16:     err_fill = {16'b0, err_word_val[15:0]};
      IOp:        err_fill = 32'(op);
      IIndex:     err_fill = 32'(err_word_q);
      IFetch:     err_fill = 32'(fetch_addr_o);
      IPatch:     err_fill = HasVector != 0 ? 32'(a_acc_q) : '0;
      IPrompt:    err_fill = HasVector != 0 ? prompt_addr : '0;
      IExecLoad:  err_fill = 32'(load_err_addr_i);
      IExecStore: err_fill = 32'(store_err_addr_i);
      IRingSize:  err_fill = ring_size_i;
      IRingBase:  err_fill = ring_base_i;
      default:    err_fill = '0;
    endcase
  end
  assign abort_o = flush;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q       <= SIdle;
      head_q        <= '0;
      tail_q        <= '0;
      halted_q      <= 1'b0;
      exec_abort_q  <= 1'b0;
      exec_error_q  <= 1'b0;
      err_code_q    <= '0;
      err_index_q   <= '0;
      err_info_q    <= '0;
      err_fill_q    <= 1'b0;
      completions_q <= '0;
      last_seq_q    <= '0;
    end else begin
      state_q <= state_d;
      if (state_q == SReset) begin
        head_q        <= '0;
        tail_q        <= '0;
        halted_q      <= 1'b0;
        exec_abort_q  <= 1'b0;
        exec_error_q  <= 1'b0;
        err_code_q    <= '0;
        err_index_q   <= '0;
        err_info_q    <= '0;
        err_fill_q    <= 1'b0;
        completions_q <= '0;
        last_seq_q    <= '0;
      end else begin
        if (advance) head_q <= (head_q + 1'b1) & size_mask;
        if (cpl_ok) begin
          completions_q <= completions_q + 1'b1;
          last_seq_q    <= w1;
        end
        // Errors: the first one sticks until resume or reset. An execution error always
        // aborts the engines, even when the queue had already halted on something else.
        if (exec_err) begin
          exec_abort_q <= 1'b1;
          exec_error_q <= 1'b1;
        end
        if (err_set) begin
          halted_q    <= 1'b1;
          err_code_q  <= err_code_d;
          err_info_q  <= ErrDetail != 0 ? err_now : '0;
          err_index_q <= err_index_d;
          err_kind_q  <= err_kind_d;
          err_word_q  <= err_word_d;
          err_fill_q  <= err_kind_d != IZero;
          err_shift_q <= (err_kind_d == IWord || err_kind_d == ILow16) ? ShW'(32'(err_word_d) / Wpb) : '0;
        end else if (resume) begin
          halted_q    <= 1'b0;
          err_code_q  <= '0;
          err_info_q  <= '0;
          err_index_q <= '0;
          err_fill_q  <= 1'b0;
        end else if (err_fill_q) begin
          if (err_shift_q != '0) begin
            if (err_shift) err_shift_q <= err_shift_q - 1'b1;
          end else begin
            err_info_q <= err_fill;
            err_fill_q <= 1'b0;
          end
        end
        if (exec_abort_q && engines_idle) exec_abort_q <= 1'b0;
        if (tail_write_i && !tail_big) tail_q <= tail_value_i[IdxW-1:0];
      end
    end
  end

  // ---- the DECODE's registers -------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      dec_active_q   <= 1'b0;
      dec_abort_q    <= 1'b0;
      dec_reason_q   <= '0;
      dec_pos_q      <= '0;
      dec_pc_q       <= '0;
      dec_step_q     <= '0;
      dec_tokens_q   <= '0;
      dec_last_q     <= '0;
      prompt_first_q <= 1'b0;
    end else begin
      if (state_q == SFence && state_d == SPrompt) prompt_first_q <= 1'b1;
      if (in_step_fence && state_d == SPrompt) prompt_first_q <= 1'b0;
      if (dec_start) begin
        // desc_q still holds the DECODE: nothing has been fetched since its fence.
        dec_active_q     <= 1'b1;
        dec_abort_q      <= 1'b0;
        dec_reason_q     <= '0;
        dec_prog_q       <= d_prog;
        dec_prog_len_q   <= d_prog_len;
        dec_stop_q       <= d_stop;
        dec_prompt_len_q <= d_prompt_len;
        dec_steps_q      <= d_steps;
        dec_seq_len_q    <= d_seq_len;
        dec_pos_q        <= d_start;
        dec_token_q      <= fetch_rsp_data_i[32'(prompt_lane)*32 +: 32];
        dec_pc_q         <= '0;
        dec_step_q       <= '0;
        dec_tokens_q     <= '0;
      end
      if (consumed && dec_on) dec_pc_q <= dec_pc_q + 1'b1;
      if (dec_abort_i && dec_on) dec_abort_q <= 1'b1;
      if (tok_fire) begin
        dec_tokens_q <= dec_tokens_q + 1'b1;
        dec_last_q   <= next_q;
        if (reason != 4'd0) begin
          dec_active_q <= 1'b0;
          dec_reason_q <= reason;
        end else begin
          dec_pos_q   <= dec_pos_q + 1'b1;
          dec_step_q  <= dec_step_q + 1'b1;
          dec_token_q <= next_q;
          dec_pc_q    <= '0;
        end
      end
      // An error (or a queue reset) ends the DECODE; resuming runs it again from its start.
      if (err_set || state_q == SReset) begin
        dec_active_q <= 1'b0;
        dec_abort_q  <= 1'b0;
      end
    end
  end
  // The prompt address and the step's next token.
  always_ff @(posedge clk_i) begin
    if (state_q == SFence && state_d == SPrompt) dec_prompt_q <= d_prompt;
    if (in_step_fence && state_d == SEmit) begin
      next_q        <= vec_s7_i;
      next_forced_q <= 1'b0;
    end
    if (in_prompt_recv && state_d == SEmit) begin
      next_q        <= fetch_rsp_data_i[32'(prompt_lane)*32 +: 32];
      next_forced_q <= 1'b1;
    end
  end

  assign tok_valid_o  = in_emit && dec_on && !halted_q;
  assign tok_data_o   = HasVector != 0 ? next_q : '0;
  assign tok_forced_o = HasVector != 0 && next_forced_q;
  assign tok_last_o   = HasVector != 0 && reason != 4'd0;

  // ---- the DECODE patch's multiplicand and VMOVE's division --------------------------------
  // SPatch: accumulator A = HOST_ADDR + (pos + token) x ROW_BYTES (stage 2's multiplier).
  // SVmCalc: 16 steps of restoring division COUNT / GROUPS (remainder, and the quotient times
  // Rows, MSB first) next to (GROUPS - 1) x GSTRIDE in accumulator A.
  logic [32:0] patch_mcand;
  logic [15:0] vm_groups_m1;
  assign patch_mcand    = (p_addr ? 33'(dec_pos_q) : 33'd0) + (p_token ? 33'(dec_token_q) : 33'd0);
  assign vm_groups_m1   = vm_groups - 16'd1;
  logic [17:0] div_try;
  assign div_try = {1'b0, vm_rem_q, vm_count[15 - vm_cnt_q[3:0]]} - {2'b0, vm_groups};
  always_ff @(posedge clk_i) begin
    if (state_q != SPatch) patch_run_q <= 1'b0;
    if (in_patch && !patch_run_q) patch_run_q <= 1'b1;
    if (state_q == SCheck && is_vmove) begin
      vm_cnt_q   <= '0;
      vm_rem_q   <= '0;
      vm_qrows_q <= '0;
    end else if (in_vmcalc && !vm_calc_done) begin
      vm_cnt_q <= vm_cnt_q + 1'b1;
      if (!div_try[17]) begin
        vm_rem_q   <= div_try[15:0];
        vm_qrows_q <= (vm_qrows_q << 1) + 32'(Rows);
      end else begin
        vm_rem_q   <= {vm_rem_q[14:0], vm_count[15 - vm_cnt_q[3:0]]};
        vm_qrows_q <= vm_qrows_q << 1;
      end
    end
  end

  // ---- the step-program cache ------------------------------------------------------------
  // The first step of a DECODE writes each descriptor it fetched (before its patch), at its
  // program index; the later steps read them back (a cycle) instead of fetching them. The
  // program must not change while a DECODE runs.
  logic                cache_hit, dc_hit_q;
  logic [DescBits-1:0] dc_rd_q;
  if (DecCache > 0) begin : g_dcache
    logic [DescBits-1:0] dcache [DecCache];
    assign cache_hit = dec_on && dec_step_q != 16'd0 && 32'(dec_prog_len_q) <= DecCache;
    always_ff @(posedge clk_i) begin
      if (state_q == SFetch && cache_hit) dc_rd_q <= dcache[$clog2(DecCache)'(dec_pc_q)];
      if (in_patch && !patch_run_q && !dc_hit_q && dec_step_q == 16'd0 && 32'(dec_pc_q) < DecCache) begin
        dcache[$clog2(DecCache)'(dec_pc_q)] <= desc_q;
      end
    end
  end else begin : g_no_dcache
    assign cache_hit = 1'b0;
    assign dc_rd_q   = '0;
  end
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      dc_hit_q <= 1'b0;
    end else if (state_q == SFetch) begin
      dc_hit_q <= cache_hit;
    end
  end

  // Descriptor beats arrive in order: beat k is bytes [k*AxiBytes, (k+1)*AxiBytes). A step
  // program's descriptor is patched in place before its checks.
  //
  // Compact (no vector unit, no ERR_INFO detail: nothing needs a whole word back): word w
  // keeps its bits below compact_lsb(w) and, at that bit, whether any bit above was set (the
  // value as every check and payload sees it: the bits the fields use exactly, and "past
  // 2^compact_lsb(w)" where that already means out of range or a reserved bit set), written
  // where it belongs as its beat arrives (no shift register): the command processor's
  // flip-flops 632 to 533 on up5k.
  localparam bit Compact = ErrDetail == 0 && HasVector == 0;
  function automatic int unsigned max2(input int unsigned a, input int unsigned b);
    max2 = a > b ? a : b;
  endfunction
  function automatic int unsigned compact_lsb(input int unsigned w);
    unique case (w)
      0: compact_lsb = 17;                          // opcode, tokens, LOAD's flags up to POP_VEC
      2: compact_lsb = max2(16, SramW);             // SRAM_ADDR; M; COMPLETE's IRQ
      3: compact_lsb = max2(16, AW);                // HOST_ADDR (accumulator A's width); K
      4: compact_lsb = 16;                          // ROWS; N
      5: compact_lsb = max2(24, AW + $clog2(WgtWordBytes));   // ROW_BYTES; WGT_ADDR's word
      6: compact_lsb = AW + $clog2(ActWordBytes);   // HOST_STRIDE; ACT_ADDR's word
      7: compact_lsb = max2(24, SramW + $clog2(AccWordBytes));  // SRAM_STRIDE; ACC_ADDR's word
      default: compact_lsb = 32;                    // word 1: COMPLETE's SEQ
    endcase
    if (compact_lsb > 32) compact_lsb = 32;
  endfunction
  function automatic logic [31:0] compact_word(input int unsigned w, input logic [31:0] v);
    int unsigned l;
    l = compact_lsb(w);
    compact_word = v;
    if (l < 32) compact_word = (v & ((32'd1 << l) - 1)) | (32'((v >> l) != '0) << l);
  endfunction
  // Sound only where, in each word, every opcode's reserved bits at and above CompactLsb are
  // all reserved or none is (the flag then stands for reserved bits, or for a field's
  // out-of-range part): checked here against the generated descriptor format.
  function automatic bit compact_ok(input logic [255:0] mask);
    logic [31:0] hi, ones;
    compact_ok = 1'b1;
    for (int w = 0; w < 8; w++) begin
      if (compact_lsb(w) < 32) begin
        hi   = mask[w*32 +: 32] >> compact_lsb(w);
        ones = 32'hFFFF_FFFF >> compact_lsb(w);
        if (hi != 32'd0 && hi != ones) compact_ok = 1'b0;
      end
    end
  endfunction
  if (Compact && !(compact_ok(ks_desc_pkg::NopReserved) && compact_ok(ks_desc_pkg::LoadReserved) &&
                   compact_ok(ks_desc_pkg::StoreReserved) && compact_ok(ks_desc_pkg::MatmulReserved) &&
                   compact_ok(ks_desc_pkg::CompleteReserved))) begin : g_compact_bad
    $error("ks_cmdproc: the compact descriptor does not fit the descriptor format (compact_lsb)");
  end
  logic [ShW-1:0] rbeat_q;   // the fetch beat arriving (Compact)
  always_ff @(posedge clk_i) begin
    if (state_q == SFetch) begin
      rbeat_q <= '0;
    end else if (state_q == SRecv && fetch_rsp_valid_i) begin
      rbeat_q <= rbeat_q + 1'b1;
    end
  end

  always_ff @(posedge clk_i) begin
    if (state_q == SFetch) begin
      fetch_err_q <= 1'b0;
    end else if (state_q == SRecv && fetch_rsp_valid_i && fetch_rsp_err_i) begin
      fetch_err_q <= 1'b1;
    end
  end
  // (Two forms, not one with dead branches: Yosys keeps the shift register's multiplexers
  // in front of flip-flops the compact form leaves constant.)
  if (Compact) begin : g_desc_compact
    always_ff @(posedge clk_i) begin
      if (state_q == SRecv && fetch_rsp_valid_i) begin
        for (int w = 0; w < ks_desc_pkg::DescWords; w++) begin
          if (32'(rbeat_q) == 32'(w / Wpb)) desc_q[w*32 +: 32] <= compact_word(w, fetch_rsp_data_i[(w % Wpb)*32 +: 32]);
        end
      end
    end
    logic unused_desc;
    assign unused_desc = ^{dc_rd_q, patch_rows, patch_len, err_shift};
  end else begin : g_desc_shift
    always_ff @(posedge clk_i) begin
      if (state_q == SRecv && dc_hit_q) begin
        desc_q <= dc_rd_q;
      end else if ((state_q == SRecv && fetch_rsp_valid_i) || err_shift) begin
        // Shifted in from the top: after the DescBeats beats of the fetch, beat k sits at k.
        // (err_shift: shifted down for ERR_INFO; what comes in is not used.)
        desc_q <= (desc_q >> (AxiBytes * 8)) | (DescBits'(fetch_rsp_data_i) << (DescBits - AxiBytes * 8));
      end else if (in_patch && state_d == SCheck) begin
        if (p_addr || p_token) desc_q[3*32 +: 32] <= 32'(a_acc_q);
        if (p_rows) desc_q[4*32 +: 16] <= patch_rows[15:0];
        if (p_len) desc_q[3*32 + 16 +: 16] <= patch_len[15:0];
      end
    end
    logic [ShW-1:0] unused_rbeat;
    assign unused_rbeat = rbeat_q;
  end

  logic fetch_desc;
  assign fetch_desc    = !in_prompt && !in_prompt_recv;
  assign fetch_valid_o = (state_q == SFetch && !cache_hit) || in_prompt;
  assign fetch_addr_o  = !fetch_desc ? {prompt_addr[AddrW-1:LaneW], {LaneW{1'b0}}} :
                         dec_on ? AddrW'(dec_prog_q + 32'({dec_pc_q, 5'b0})) : AddrW'(ring_base_i + 32'({head_q, 5'b0}));
  assign fetch_beats_o = fetch_desc ? BeatsW'(DescBeats) : BeatsW'(1);

  // VMOVE: the checked descriptor in hand.
  assign vmove_valid_o   = in_vmove;
  assign vmove_dir_o     = vm_dir[0];
  assign vmove_elem_o    = vm_elem;
  assign vmove_bank_o    = vm_bank;
  assign vmove_count_o   = vm_count;
  assign vmove_groups_o  = vm_groups;
  assign vmove_gstride_o = vm_gstride;

  // Completion: one beat at the aligned address, the sequence number in its 4-byte lane.
  logic [LaneW-1:0] cpl_lane;
  assign cpl_lane        = w3[LaneW-1:0];
  assign cpl_valid_o     = state_q == SCplReq;
  assign cpl_addr_o      = {w3[AddrW-1:LaneW], {LaneW{1'b0}}};
  assign cpl_beats_o     = BeatsW'(1);
  assign cpl_dat_valid_o = state_q == SCplData;
  assign cpl_dat_data_o  = {(AxiBytes / 4){w1}};
  assign cpl_dat_strb_o  = AxiBytes'(4'hf) << cpl_lane;

  assign enable_clear_o   = state_q == SReset && state_d == SIdle;
  assign busy_o           = state_q != SIdle || !engines_idle || dec_on ||
                            (enable_i && !halted_q && head_q != tail_q);
  assign halted_o         = halted_q;
  assign resetting_o      = state_q == SReset;
  assign err_code_o       = err_code_q;
  assign err_index_o      = err_index_q;
  assign err_info_o       = err_info_q;
  assign err_busy_o       = err_fill_q;
  assign head_o           = 32'(head_q);
  assign tail_o           = 32'(tail_q);
  assign completions_o    = completions_q;
  assign last_seq_o       = last_seq_q;
  assign irq_completion_o = cpl_ok && w2[0];
  assign irq_error_o      = err_set;
  assign wait_o = {state_q == SDispatch, state_q == SFence || in_step_fence,
                   state_q == SFetch || state_q == SRecv};
  assign desc_done_o      = 3'(consumed && (is_nop || is_cpl || is_vmove)) + 3'(dec_end) + 3'(l_push_ok) + 3'(s_push_ok) + 3'(m_push_ok) +
                            3'(vq_pop && !flush);
  assign dec_running_o    = dec_on;
  // Without the vector unit there is no DECODE: its registers read 0 (and are left out).
  assign dec_reason_o     = HasVector != 0 ? dec_reason_q : '0;
  assign dec_pos_o        = HasVector != 0 ? dec_pos_q : '0;
  assign dec_tokens_o     = HasVector != 0 ? dec_tokens_q : '0;
  assign dec_last_o       = HasVector != 0 ? dec_last_q : '0;
  assign dec_pc_o         = HasVector != 0 ? dec_pc_q : '0;
  assign dec_step_o       = tok_fire;

  // Flags an engine cannot have are rejected before dispatch; w4[31:16] is reserved everywhere.
  logic unused;
  assign unused = ^{l_deps[0], s_deps[1], l_push_q[0], s_push_q[1], sq_head[XferW + 4 +: 2], w4[31:16], vm_dir[3:1], div_try[16]};

  `KS_ASSERT(fetch_only_when_waiting_a, !fetch_rsp_valid_i || state_q == SRecv || state_q == SReset ||
                                        state_q == SIdle || state_q == SPromptRecv)
  `KS_ASSERT(vec_only_when_no_vec_xfer_a, !vq_pop || !(l_run_vec_q || s_run_vec_q))
endmodule

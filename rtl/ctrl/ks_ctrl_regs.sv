/// Control and status registers on an AXI4-Lite slave (map: rtl/cfg/registers.json,
/// offsets from the generated ks_regs_pkg).
///
/// One transaction at a time: a write needs AW and W (taken together), a read needs AR;
/// the response is registered. Unmapped offsets, writes to read-only registers and writes
/// to RING_BASE/RING_SIZE while the queue is enabled answer SLVERR and change nothing.
/// The register file holds configuration (ring base and size, window, interrupt enables,
/// CTRL.ENABLE), the interrupt status and the performance counters (CtrBits wide: 64, or 32
/// with every _HI word reading 0; counters not in CtrUsed stay 0 and cost nothing; CtrRam
/// keeps them in block RAM, ks_perf_ram, where a _LO read is answered when the RAM's sweep
/// next brings that counter up to date, up to NumCounters + 2 cycles later); the queue's
/// live state (head, tail, errors, completions) comes from the command processor, which
/// receives doorbell, enable and queue-reset writes as pulses.
`include "ks_assert.svh"

module ks_ctrl_regs #(
  parameter int unsigned Rows        = 8,
  parameter int unsigned Cols        = 16,
  parameter int unsigned AxiBytes    = 16,
  parameter int unsigned AccAddrBits = 9,
  parameter int unsigned WgtBytes    = 4096,
  parameter int unsigned ActBytes    = 1024,
  parameter int unsigned AccBytes    = 1024,
  parameter int unsigned KvBytes     = 1024,
  parameter int unsigned VecLanes    = 8,
  parameter int unsigned VecRows     = 256,
  parameter int unsigned VecProgDepth = 64,
  parameter int unsigned VecHistRows = 64,
  parameter int unsigned CtrBits     = 64,
  parameter int unsigned CtrRam      = 0,
  parameter int unsigned AddrW       = ks_regs_pkg::AddrBits,
  // The core's address width (ks_core AddrW): below 32, RING_BASE, WIN_BASE and WIN_SIZE hold
  // SpaceW + 1 bits, a written value of 2^SpaceW or more kept as 2^SpaceW.
  parameter int unsigned SpaceW      = 32,
  parameter int unsigned NumCounters = ks_regs_pkg::NumCounters,
  parameter logic [NumCounters-1:0] CtrUsed = '1,
  parameter logic [NumCounters*16-1:0] CtrMaxInc = '1   // each counter's largest increment
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  // AXI4-Lite slave
  input  logic                      s_awvalid_i,
  output logic                      s_awready_o,
  input  logic [AddrW-1:0]          s_awaddr_i,
  input  logic                      s_wvalid_i,
  output logic                      s_wready_o,
  input  logic [31:0]               s_wdata_i,
  input  logic [3:0]                s_wstrb_i,
  output logic                      s_bvalid_o,
  input  logic                      s_bready_i,
  output logic [1:0]                s_bresp_o,
  input  logic                      s_arvalid_i,
  output logic                      s_arready_o,
  input  logic [AddrW-1:0]          s_araddr_i,
  output logic                      s_rvalid_o,
  input  logic                      s_rready_i,
  output logic [31:0]               s_rdata_o,
  output logic [1:0]                s_rresp_o,
  // Configuration to the command processor
  output logic                      enable_o,
  output logic [31:0]               ring_base_o,
  output logic [31:0]               ring_size_o,
  output logic [31:0]               win_base_o,
  output logic [31:0]               win_size_o,
  // Events to the command processor
  output logic                      enable_write_o,   // CTRL written with ENABLE = 1
  output logic                      queue_reset_o,    // CTRL.QUEUE_RESET written with 1
  output logic                      dec_abort_o,      // CTRL.ABORT written with 1
  output logic                      tail_write_o,     // RING_TAIL written
  output logic [31:0]               tail_value_o,
  // Live state from the command processor
  input  logic                      enable_clear_i,   // queue reset clears CTRL.ENABLE
  input  logic                      busy_i,
  input  logic                      halted_i,
  input  logic                      resetting_i,
  input  logic [7:0]                err_code_i,
  input  logic [31:0]               err_index_i,
  input  logic [31:0]               err_info_i,
  input  logic                      err_busy_i,       // ERR_INFO not filled yet: reads wait
  input  logic [31:0]               head_i,
  input  logic [31:0]               tail_i,
  input  logic [31:0]               completions_i,
  input  logic [31:0]               last_seq_i,
  input  logic                      dec_running_i,
  input  logic [3:0]                dec_reason_i,
  input  logic [15:0]               dec_pos_i,
  input  logic [31:0]               dec_tokens_i,
  input  logic [31:0]               dec_last_i,
  input  logic [15:0]               dec_pc_i,
  // Interrupts
  input  logic                      irq_completion_i, // pulse
  input  logic                      irq_error_i,      // pulse
  output logic                      irq_o,
  // Performance counter increments (per counter, added every cycle unless frozen)
  input  logic [NumCounters*16-1:0] ctr_inc_i
);
  `include "ks_cmp.svh"
  // ---- AXI4-Lite handshakes -------------------------------------------------------------------
  logic wr_fire, rd_fire;
  logic bvalid_q, rvalid_q;
  logic [1:0] bresp_q, rresp_q;
  logic [31:0] rdata_q;

  // Take a write when both AW and W are present and no response is pending; reads only when
  // no write is being taken (writes first: simple and starvation-free for a single host).
  assign s_awready_o = s_awvalid_i && s_wvalid_i && !bvalid_q;
  assign s_wready_o  = s_awready_o;
  assign wr_fire     = s_awready_o;
  logic ctr_wait_q;   // a counter read waits for the counter RAM's answer
  assign s_arready_o = s_arvalid_i && !rvalid_q && !wr_fire && !ctr_wait_q && !err_busy_i;
  assign rd_fire     = s_arready_o;

  assign s_bvalid_o = bvalid_q;
  assign s_bresp_o  = bresp_q;
  assign s_rvalid_o = rvalid_q;
  assign s_rresp_o  = rresp_q;
  assign s_rdata_o  = rdata_q;

  localparam logic [1:0] RespOkay   = 2'b00;
  localparam logic [1:0] RespSlvErr = 2'b10;

  // ---- registers ------------------------------------------------------------------------------
  logic        enable_q, freeze_q;
  // RING_SIZE holds 18 bits, a value of 2^17 or more kept as 2^17; RING_BASE, WIN_BASE and
  // WIN_SIZE past the address space are kept as its end. The ring and range checks on them
  // (ks_cmdproc) decide as on the value written (a doorbell of 2^17 or more is out of range
  // whatever was written), and the registers and the comparisons on them are no wider than
  // the address space.
  localparam int unsigned SatW = SpaceW < 32 ? SpaceW + 1 : 32;
  logic [SatW-1:0] ring_base_q, win_base_q, win_size_q;
  logic [17:0]     ring_size_q;
  function automatic logic [SatW-1:0] sat_space(input logic [31:0] v);
    sat_space = (SpaceW < 32 && (64'(v) >> SpaceW) != '0) ? SatW'(64'd1 << SpaceW) : SatW'(v);
  endfunction
  logic [1:0]  irq_en_q, irq_status_q;
  logic [31:0] hi_shadow;

  // Write decode
  logic [AddrW-1:0] waddr;
  logic [31:0]      wdata;
  logic             w_ok, w_ctrl, w_irq_status, w_irq_enable, w_ring_base, w_ring_size, w_ring_tail,
                    w_win_base, w_win_size, w_perf_ctrl;
  assign waddr = {s_awaddr_i[AddrW-1:2], 2'b00};
  assign wdata = s_wdata_i;
  assign w_ctrl       = waddr == ks_regs_pkg::CtrlOffset;
  assign w_irq_status = waddr == ks_regs_pkg::IrqStatusOffset;
  assign w_irq_enable = waddr == ks_regs_pkg::IrqEnableOffset;
  assign w_ring_base  = waddr == ks_regs_pkg::RingBaseOffset;
  assign w_ring_size  = waddr == ks_regs_pkg::RingSizeOffset;
  assign w_ring_tail  = waddr == ks_regs_pkg::RingTailOffset;
  assign w_win_base   = waddr == ks_regs_pkg::WinBaseOffset;
  assign w_win_size   = waddr == ks_regs_pkg::WinSizeOffset;
  assign w_perf_ctrl  = waddr == ks_regs_pkg::PerfCtrlOffset;
  // Ring geometry is frozen while the queue runs.
  assign w_ok = w_ctrl || w_irq_status || w_irq_enable || w_ring_tail || w_win_base || w_win_size ||
                w_perf_ctrl || ((w_ring_base || w_ring_size) && !enable_q);

  logic perf_clear;
  assign enable_write_o = wr_fire && w_ctrl && wdata[ks_regs_pkg::CtrlEnableLsb];
  assign queue_reset_o  = wr_fire && w_ctrl && wdata[ks_regs_pkg::CtrlQueueResetLsb];
  assign dec_abort_o    = wr_fire && w_ctrl && wdata[ks_regs_pkg::CtrlAbortLsb];
  assign tail_write_o   = wr_fire && w_ring_tail;
  assign tail_value_o   = wdata;
  assign perf_clear     = wr_fire && w_perf_ctrl && wdata[ks_regs_pkg::PerfCtrlClearLsb];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      enable_q     <= 1'b0;
      freeze_q     <= 1'b0;
      ring_base_q  <= '0;
      ring_size_q  <= '0;
      win_base_q   <= '0;
      win_size_q   <= '0;
      irq_en_q     <= '0;
      irq_status_q <= '0;
    end else begin
      if (wr_fire && w_ctrl) begin
        enable_q <= wdata[ks_regs_pkg::CtrlEnableLsb];
      end else if (enable_clear_i) begin
        enable_q <= 1'b0;
      end
      if (wr_fire && w_perf_ctrl) freeze_q <= wdata[ks_regs_pkg::PerfCtrlFreezeLsb];
      if (wr_fire && w_ring_base && !enable_q) ring_base_q <= sat_space(wdata);
      if (wr_fire && w_ring_size && !enable_q) ring_size_q <= (wdata >> 17) != '0 ? 18'h2_0000 : 18'(wdata);
      if (wr_fire && w_win_base) win_base_q <= sat_space(wdata);
      if (wr_fire && w_win_size) win_size_q <= sat_space(wdata);
      if (wr_fire && w_irq_enable) irq_en_q <= wdata[1:0];
      // Set wins over clear in the same cycle: an event is never lost.
      irq_status_q <= (irq_status_q & ~((wr_fire && w_irq_status) ? wdata[1:0] : 2'b00)) |
                      {irq_error_i, irq_completion_i};
    end
  end

  assign enable_o    = enable_q;
  assign ring_base_o = 32'(ring_base_q);
  assign ring_size_o = 32'(ring_size_q);
  assign win_base_o  = 32'(win_base_q);
  assign win_size_o  = 32'(win_size_q);
  assign irq_o       = |(irq_status_q & irq_en_q);

  // ---- performance counters --------------------------------------------------------------------
  // ctr_val: the counter a read addresses (flip-flops: at once; RAM: with ctr_rsp, later).
  logic [$clog2(NumCounters)-1:0] ctr_idx;
  logic               ctr_req, ctr_rsp;
  logic [CtrBits-1:0] ctr_val;
  // Unused counters have no accumulator in the RAM form; the widest accumulator sets its adder.
  function automatic logic [NumCounters*16-1:0] used_incs();
    used_incs = CtrMaxInc;
    for (int c = 0; c < NumCounters; c++) begin
      if (!CtrUsed[c]) used_incs[c*16 +: 16] = 16'd0;
    end
  endfunction
  function automatic int unsigned max_inc();
    max_inc = 1;
    for (int c = 0; c < NumCounters; c++) begin
      if (CtrUsed[c] && 32'(CtrMaxInc[c*16 +: 16]) > max_inc) max_inc = 32'(CtrMaxInc[c*16 +: 16]);
    end
  endfunction
  if (CtrRam != 0) begin : g_ctr_ram
    localparam int unsigned AccW = $clog2(NumCounters * max_inc() + 1);
    ks_perf_ram #(.N(NumCounters), .W(CtrBits), .MaxInc(used_incs()), .AccW(AccW)) u_ram (
      .clk_i, .rst_ni, .inc_i(ctr_inc_i), .freeze_i(freeze_q), .clear_i(perf_clear),
      .rd_req_i(ctr_req), .rd_idx_i(ctr_idx), .rd_valid_o(ctr_rsp), .rd_data_o(ctr_val)
    );
  end else begin : g_ctr_ff
    logic [NumCounters*CtrBits-1:0] ctr_q;
    for (genvar c = 0; c < NumCounters; c++) begin : g_ctr
      if (CtrUsed[c]) begin : g_used
        logic [CtrBits-1:0] q;
        always_ff @(posedge clk_i) begin
          if (!rst_ni || perf_clear) begin
            q <= '0;
          end else if (!freeze_q) begin
            q <= q + CtrBits'(ctr_inc_i[c*16 +: 16]);
          end
        end
        assign ctr_q[c*CtrBits +: CtrBits] = q;
      end else begin : g_unused
        logic [15:0] unused_inc;
        assign unused_inc = ctr_inc_i[c*16 +: 16];
        assign ctr_q[c*CtrBits +: CtrBits] = '0;
      end
    end
    assign ctr_val = ctr_q[32'(ctr_idx)*CtrBits +: CtrBits];
    assign ctr_rsp = 1'b0;
    logic unused_ctr_req;
    assign unused_ctr_req = ctr_req;
  end

  // ---- read decode -----------------------------------------------------------------------------
  logic [AddrW-1:0] raddr;
  logic [31:0]      rdata;
  logic             r_ok, r_counter, r_counter_hi;
  logic [AddrW-1:0] ctr_off;
  assign raddr        = {s_araddr_i[AddrW-1:2], 2'b00};
  assign ctr_off      = raddr - ks_regs_pkg::CounterBase;
  // (Comparisons with constants, bit by bit: no carry chains.)
  assign r_counter    = ks_gt_const(64'(raddr), 64'(ks_regs_pkg::CounterBase) - 64'd1) &&
                        !ks_gt_const(64'(raddr), 64'(ks_regs_pkg::CounterBase) + 64'(8 * NumCounters) - 64'd1);
  assign ctr_idx      = ctr_off[3 +: $clog2(NumCounters)];
  assign r_counter_hi = ctr_off[2];

  always_comb begin
    r_ok  = 1'b1;
    rdata = '0;
    unique case (raddr)
      ks_regs_pkg::IdOffset:         rdata = ks_regs_pkg::IdValueValue;
      ks_regs_pkg::VersionOffset:    rdata = {ks_regs_pkg::VersionMajorValue, ks_regs_pkg::VersionMinorValue};
      ks_regs_pkg::HwArrayOffset:    rdata = {8'(AccAddrBits), 8'(AxiBytes), 8'(Cols), 8'(Rows)};
      ks_regs_pkg::HwVecOffset:      rdata = {16'(VecRows), 3'd0, 5'($clog2(VecProgDepth)), 8'(VecLanes)};
      ks_regs_pkg::HwVecHistOffset:  rdata = 32'(VecHistRows);
      ks_regs_pkg::HwPerfOffset:     rdata = 32'(CtrBits);
      ks_regs_pkg::HwWgtBytesOffset: rdata = 32'(WgtBytes);
      ks_regs_pkg::HwActBytesOffset: rdata = 32'(ActBytes);
      ks_regs_pkg::HwAccBytesOffset: rdata = 32'(AccBytes);
      ks_regs_pkg::HwKvBytesOffset:  rdata = 32'(KvBytes);
      ks_regs_pkg::CtrlOffset:       rdata = 32'(enable_q);
      ks_regs_pkg::StatusOffset:     rdata = 32'({enable_q, resetting_i, halted_i, busy_i});
      ks_regs_pkg::ErrCodeOffset:    rdata = 32'(err_code_i);
      ks_regs_pkg::ErrIndexOffset:   rdata = err_index_i;
      ks_regs_pkg::ErrInfoOffset:    rdata = err_info_i;
      ks_regs_pkg::IrqStatusOffset:  rdata = 32'(irq_status_q);
      ks_regs_pkg::IrqEnableOffset:  rdata = 32'(irq_en_q);
      ks_regs_pkg::RingBaseOffset:   rdata = 32'(ring_base_q);
      ks_regs_pkg::RingSizeOffset:   rdata = 32'(ring_size_q);
      ks_regs_pkg::RingHeadOffset:   rdata = head_i;
      ks_regs_pkg::RingTailOffset:   rdata = tail_i;
      ks_regs_pkg::WinBaseOffset:    rdata = 32'(win_base_q);
      ks_regs_pkg::WinSizeOffset:    rdata = 32'(win_size_q);
      ks_regs_pkg::CompletionsOffset: rdata = completions_i;
      ks_regs_pkg::LastSeqOffset:    rdata = last_seq_i;
      ks_regs_pkg::PerfCtrlOffset:   rdata = {30'b0, freeze_q, 1'b0};
      ks_regs_pkg::DecStatusOffset:  rdata = {24'b0, dec_reason_i, 3'b0, dec_running_i};
      ks_regs_pkg::DecPosOffset:     rdata = 32'(dec_pos_i);
      ks_regs_pkg::DecTokensOffset:  rdata = dec_tokens_i;
      ks_regs_pkg::DecLastTokenOffset: rdata = dec_last_i;
      ks_regs_pkg::DecPcOffset:      rdata = 32'(dec_pc_i);
      default: begin
        if (r_counter) begin
          rdata = r_counter_hi ? hi_shadow : ctr_val[31:0];
        end else begin
          r_ok = 1'b0;
        end
      end
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      bvalid_q   <= 1'b0;
      rvalid_q   <= 1'b0;
      ctr_wait_q <= 1'b0;
    end else begin
      if (wr_fire) begin
        bvalid_q <= 1'b1;
      end else if (s_bready_i) begin
        bvalid_q <= 1'b0;
      end
      if ((rd_fire && !ctr_req) || ctr_rsp) begin
        rvalid_q <= 1'b1;
      end else if (s_rready_i) begin
        rvalid_q <= 1'b0;
      end
      if (ctr_req) begin
        ctr_wait_q <= 1'b1;
      end else if (ctr_rsp) begin
        ctr_wait_q <= 1'b0;
      end
    end
    if (wr_fire) begin
      bresp_q <= w_ok ? RespOkay : RespSlvErr;
    end
    if (rd_fire) begin
      rresp_q <= r_ok ? RespOkay : RespSlvErr;
      rdata_q <= r_ok ? rdata : 32'h0;
    end
    if (ctr_rsp) begin
      rresp_q <= RespOkay;
      rdata_q <= ctr_val[31:0];
    end
  end
  // A _LO read of a counter in RAM is answered later (the RAM's sweep; no other read meanwhile).
  assign ctr_req = CtrRam != 0 && rd_fire && r_counter && !r_counter_hi;

  // A 64-bit counter's _HI comes from the latch its _LO read filled; 32-bit ones have none.
  if (CtrBits == 64) begin : g_hi
    logic [31:0] hi_shadow_q;
    always_ff @(posedge clk_i) begin
      if ((rd_fire && r_counter && !r_counter_hi && CtrRam == 0) || ctr_rsp) hi_shadow_q <= ctr_val[CtrBits-1 -: 32];
    end
    assign hi_shadow = hi_shadow_q;
  end else begin : g_no_hi
    assign hi_shadow = '0;
  end

  // Registers are whole words: byte strobes and the address's byte offset are ignored.
  logic unused_wstrb;
  assign unused_wstrb = ^{s_wstrb_i, s_awaddr_i[1:0], s_araddr_i[1:0], ctr_off[1:0],
                         ctr_off >> (3 + $clog2(NumCounters))};

  `KS_ASSERT_STABLE(b_stable_a, s_bvalid_o, s_bready_i, s_bresp_o)
  `KS_ASSERT_STABLE(r_stable_a, s_rvalid_o, s_rready_i, {s_rdata_o, s_rresp_o})
endmodule

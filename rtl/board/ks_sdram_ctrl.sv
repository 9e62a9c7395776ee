/// SDR SDRAM controller for one 16-bit device (4 banks; ULX3S: 32 MiB, 8192 rows of 512
/// columns per bank): power-up initialisation, periodic refresh, open-row tracking per bank and
/// one programmed burst of Burst words per access. docs/fpga.md describes the scheduling.
///
/// Requests (req_valid_i/req_ready_o): an access of Burst 16-bit words at access index
/// req_addr_i = {row, bank, column / Burst}; a write carries its words (word 0 in the low bits)
/// and a byte enable per byte (req_wstrb_i: 0 masks the byte through DQM). Requests are served
/// strictly in order, reads and writes alike, so a request sees every earlier write. A read
/// answers with one rsp_valid_o pulse carrying the Burst words and the request's tag; there is
/// no backpressure on responses (the user reserves room before it asks). The request queue is
/// two entries deep; req_ready_o depends on registered state only.
///
/// Scheduling: the head request needs at most PRECHARGE (its bank open on another row),
/// ACTIVE (its bank closed) and READ/WRITE; rows stay open after an access (open-page policy),
/// so a request to an open row issues its READ/WRITE at once. The next request's PRECHARGE and
/// ACTIVE overlap the previous burst's data on the bus, so sequential accesses keep the data
/// bus busy (one READ or WRITE every Burst cycles). Per-bank and bus counters enforce tRCD,
/// tRP, tRAS, tRC, tRRD, tWR, tRFC, tMRD and the read-to-write bus turnaround (one idle clock);
/// timings are given in ns and converted with ClkKhz (rounded up).
///
/// Refresh: an AUTO REFRESH every tREFI at the latest. Once the interval counter reaches its
/// threshold (tREFI minus the longest wait for PRECHARGE ALL and tRP), no new ACTIVE, READ or
/// WRITE is issued: the open banks are precharged together and the refresh follows, so it is
/// never starved. Initialisation after reset: TInitUs of NOP with CKE high, PRECHARGE ALL, two
/// AUTO REFRESH, LOAD MODE (burst length Burst, sequential, CAS latency CasLatency).
///
/// Pins (sd_*): registered here, meant to pass one more register each in the I/O cells
/// (ks_sdram_phy, ks_sdram_phy_ecp5) with the SDRAM clocked on the falling edge of clk_i. Read
/// data is taken from sd_dq_i (the I/O cells' input register) CasLatency + 3 cycles after the
/// READ leaves this block's decision logic: one cycle in each output register, CasLatency
/// SDRAM clocks, one cycle in the input register.
`include "ks_assert.svh"

module ks_sdram_ctrl #(
  parameter int unsigned ClkKhz     = 150000,  // clk_i in kHz (at most 500 MHz: 32-bit products)
  parameter int unsigned CasLatency = 3,       // 2 or 3
  parameter int unsigned Burst      = 8,       // words per access: 1, 2, 4 or 8
  parameter int unsigned RowBits    = 13,
  parameter int unsigned ColBits    = 9,       // column address bits used (A9 stays 0 if < 10)
  parameter int unsigned TagW       = 2,
  parameter int unsigned TRcdNs     = 21,      // ACTIVE to READ/WRITE
  parameter int unsigned TRpNs      = 21,      // PRECHARGE to ACTIVE/REFRESH
  parameter int unsigned TRasNs     = 42,      // ACTIVE to PRECHARGE (min; the max, 100 us, is
                                               // kept by the refresh, which closes every row)
  parameter int unsigned TRcNs      = 63,      // ACTIVE to ACTIVE, same bank
  parameter int unsigned TRfcNs     = 70,      // REFRESH to any command
  parameter int unsigned TWrNs      = 15,      // last write data to PRECHARGE
  parameter int unsigned TRrdNs     = 14,      // ACTIVE to ACTIVE, other bank
  parameter int unsigned TMrdClk    = 2,       // LOAD MODE to any command, in clocks
  parameter int unsigned TRefiNs    = 7800,    // longest time between AUTO REFRESH commands
  parameter int unsigned TInitUs    = 200,     // power-up wait
  parameter int unsigned BankBits   = 2,
  parameter int unsigned BurstW     = $clog2(Burst),
  parameter int unsigned AddrW      = RowBits + BankBits + ColBits - BurstW
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // requests
  input  logic                  req_valid_i,
  output logic                  req_ready_o,
  input  logic                  req_we_i,
  input  logic [AddrW-1:0]      req_addr_i,
  input  logic [Burst*16-1:0]   req_wdata_i,
  input  logic [Burst*2-1:0]    req_wstrb_i,
  input  logic [TagW-1:0]       req_tag_i,
  // read responses
  output logic                  rsp_valid_o,
  output logic [Burst*16-1:0]   rsp_data_o,
  output logic [TagW-1:0]       rsp_tag_o,
  output logic                  init_done_o,
  // SDRAM pins (registered)
  output logic                  sd_cke_o,
  output logic                  sd_cs_n_o,
  output logic                  sd_ras_n_o,
  output logic                  sd_cas_n_o,
  output logic                  sd_we_n_o,
  output logic [BankBits-1:0]   sd_ba_o,
  output logic [12:0]           sd_a_o,
  output logic [1:0]            sd_dqm_o,
  output logic [15:0]           sd_dq_o,
  output logic                  sd_dq_oe_o,
  input  logic [15:0]           sd_dq_i
);
  localparam int unsigned Banks  = 1 << BankBits;
  localparam int unsigned BlockW = ColBits - BurstW;   // column block (one access) bits

  // ---- timing in clocks (rounded up, at least 1) ----------------------------------------------
  localparam int unsigned TRcdR = (TRcdNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TRpR  = (TRpNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TRasR = (TRasNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TRcR  = (TRcNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TRfcR = (TRfcNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TWrR  = (TWrNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TRrdR = (TRrdNs * ClkKhz + 999999) / 1000000;
  localparam int unsigned TRcd  = TRcdR < 1 ? 1 : TRcdR;
  localparam int unsigned TRp   = TRpR < 1 ? 1 : TRpR;
  localparam int unsigned TRas  = TRasR < 1 ? 1 : TRasR;
  localparam int unsigned TRc   = TRcR < 1 ? 1 : TRcR;
  localparam int unsigned TRfc  = TRfcR < 1 ? 1 : TRfcR;
  localparam int unsigned TWr   = TWrR < 1 ? 1 : TWrR;
  localparam int unsigned TRrd  = TRrdR < 1 ? 1 : TRrdR;
  localparam int unsigned TMrd  = TMrdClk < 1 ? 1 : TMrdClk;
  // Refresh: the interval in whole clocks (rounded down), and the threshold at which the
  // refresh takes over: the interval minus the longest wait for the REFRESH once no new
  // access starts (a write's recovery or tRAS after an ACTIVE, then tRP; or tRC), and a margin
  // for the decision and counter stages.
  localparam int unsigned RefInterval = TRefiNs * ClkKhz / 1000000;
  localparam int unsigned WrToPre     = Burst - 1 + TWr;
  localparam int unsigned PreWaitMax  = WrToPre > TRas ? WrToPre : TRas;
  localparam int unsigned PreRef      = PreWaitMax + TRp;
  localparam int unsigned RefSlack    = (PreRef > TRc ? PreRef : TRc) + 4;
  localparam int unsigned RefThresh   = RefInterval - RefSlack;
  localparam int unsigned RefW        = $clog2(RefInterval + 1);
  localparam int unsigned InitCycles  = TInitUs * (ClkKhz / 1000) + (TInitUs * (ClkKhz % 1000) + 999) / 1000;
  localparam int unsigned InitW       = $clog2(InitCycles + 1);
  // Read data: the first word is on sd_dq_i RdTap + 1 cycles after the READ's decision cycle.
  localparam int unsigned RdTap = CasLatency + 2;

  // SDRAM commands: {cs_n, ras_n, cas_n, we_n}
  localparam logic [3:0] CmdNop  = 4'b0111;
  localparam logic [3:0] CmdAct  = 4'b0011;
  localparam logic [3:0] CmdRd   = 4'b0101;
  localparam logic [3:0] CmdWr   = 4'b0100;
  localparam logic [3:0] CmdPre  = 4'b0010;
  localparam logic [3:0] CmdRef  = 4'b0001;
  localparam logic [3:0] CmdLmr  = 4'b0000;
  localparam logic [3:0] CmdInh  = 4'b1111;
  // Mode register: write burst = programmed burst (A9 = 0), CAS latency, sequential, burst length.
  localparam logic [2:0]  BlCode = Burst == 1 ? 3'd0 : Burst == 2 ? 3'd1 : Burst == 4 ? 3'd2 : 3'd3;
  localparam logic [12:0] ModeReg = {6'd0, 3'(CasLatency), 1'b0, BlCode};

  // ---- request queue, then the next request in registers ------------------------------------
  localparam int unsigned ReqW = 1 + AddrW + Burst * 18 + TagW;
  logic            q_valid, q_pop;
  logic [ReqW-1:0] q_data;
  logic [AddrW-1:0] q_addr;
  assign q_addr = q_data[ReqW-2 -: AddrW];
  ks_fifo #(.Width(ReqW), .Depth(2)) u_req (
    .clk_i, .rst_ni,
    .in_valid_i (req_valid_i),
    .in_ready_o (req_ready_o),
    .in_data_i  ({req_we_i, req_addr_i, req_wdata_i, req_wstrb_i, req_tag_i}),
    .out_valid_o(q_valid),
    .out_ready_i(q_pop),
    .out_data_o (q_data),
    .count_o    ()
  );

  // The next request (n_*): registered, so the head's row comparison starts from flops.
  logic                n_valid_q, n_we_q;
  logic [Banks-1:0]    n_oh_q;          // its bank, one-hot
  logic [BankBits-1:0] n_bank_q;
  logic [RowBits-1:0]  n_row_q;
  logic [BlockW-1:0]   n_blk_q;
  logic [Burst*16-1:0] n_wdata_q;
  logic [Burst*2-1:0]  n_wstrb_q;
  logic [TagW-1:0]     n_tag_q;
  logic                n_load, h_load;
  assign n_load = q_valid && (!n_valid_q || h_load);
  assign q_pop  = n_load;

  // ---- state ----------------------------------------------------------------------------------
  typedef enum logic [2:0] {SInitWait, SInitPre, SInitRef, SInitLmr, SRun} state_e;
  // The head request's bank: open on its row, closed, or open on another row.
  typedef enum logic [1:0] {HIdle, HHit, HConflict} head_e;

  state_e                   state_q, state_d;
  logic [InitW-1:0]         init_cnt_q;
  logic                     init_done_q;               // the power-up wait is over
  logic                     init_ref_q, init_ref_d;    // the first of the two init refreshes is done
  logic [RefW-1:0]          ref_cnt_q;
  logic                     ref_due_q;
  logic [Banks-1:0]         open_q, open_d;
  logic [Banks*RowBits-1:0] row_q;
  // What may issue next cycle, per bank and for the bus: each a register, the AND of the
  // timing rules' timers (below), so a decision reads one flop per command kind.
  logic [Banks-1:0]         act_z_q, act_z_d;          // ACTIVE: tRC, tRP, tRFC, tMRD
  logic [Banks-1:0]         rw_z_q, rw_z_d;            // READ/WRITE: tRCD
  logic [Banks-1:0]         pre_z_q, pre_z_d;          // PRECHARGE: tRAS, read burst, tWR
  logic                     rrd_z_q, rd_z_q, wr_z_q, wr_z_d;  // ACTIVE (tRRD); READ, WRITE (bus)

  // Head request: registered fields and the state of its bank.
  logic                 h_valid_q, h_valid_d, h_we_q;
  head_e                h_st_q, h_st_d;
  logic [Banks-1:0]     h_oh_q;
  logic [BankBits-1:0]  h_bank_q;
  logic [RowBits-1:0]   h_row_q;
  logic [BlockW-1:0]    h_blk_q;
  logic [Burst*16-1:0]  h_wdata_q;
  logic [Burst*2-1:0]   h_wstrb_q;
  logic [TagW-1:0]      h_tag_q;

  logic h_act_ok, h_rw_ok, h_pre_ok, all_act_ok, open_pre_ok;
  assign h_act_ok    = (act_z_q & h_oh_q) != '0;
  assign h_rw_ok     = (rw_z_q & h_oh_q) != '0;
  assign h_pre_ok    = (pre_z_q & h_oh_q) != '0;
  assign all_act_ok  = &act_z_q;
  assign open_pre_ok = &(pre_z_q | ~open_q);

  // ---- command decision -----------------------------------------------------------------------
  logic [3:0]          cmd;
  logic [BankBits-1:0] cmd_ba;
  logic [12:0]         cmd_a;
  logic                is_act, is_rd, is_wr, is_pre, is_preall, is_ref, is_lmr;
  always_comb begin
    state_d    = state_q;
    init_ref_d = init_ref_q;
    is_act     = 1'b0;
    is_rd      = 1'b0;
    is_wr      = 1'b0;
    is_pre     = 1'b0;
    is_preall  = 1'b0;
    is_ref     = 1'b0;
    is_lmr     = 1'b0;
    unique case (state_q)
      SInitWait: if (init_done_q) state_d = SInitPre;
      SInitPre: begin
        is_preall = 1'b1;
        state_d   = SInitRef;
      end
      SInitRef: if (all_act_ok) begin
        is_ref     = 1'b1;
        init_ref_d = 1'b1;
        if (init_ref_q) state_d = SInitLmr;
      end
      SInitLmr: if (all_act_ok) begin
        is_lmr  = 1'b1;
        state_d = SRun;
      end
      default: begin   // SRun
        if (ref_due_q) begin
          // Close every bank, then refresh; nothing new starts meanwhile.
          if (open_q != '0) begin
            if (open_pre_ok) is_preall = 1'b1;
          end else if (all_act_ok) begin
            is_ref = 1'b1;
          end
        end else if (h_valid_q) begin
          unique case (h_st_q)
            HHit: begin
              if (h_rw_ok && (h_we_q ? wr_z_q : rd_z_q)) begin
                is_rd = !h_we_q;
                is_wr = h_we_q;
              end
            end
            HIdle: if (h_act_ok && rrd_z_q) is_act = 1'b1;
            default: if (h_pre_ok) is_pre = 1'b1;   // HConflict
          endcase
        end
      end
    endcase
  end

  // The command and its address: commands exclude one another.
  always_comb begin
    cmd    = state_q == SInitWait ? CmdInh : CmdNop;
    cmd_ba = h_bank_q;
    cmd_a  = 13'(h_row_q);                      // ACTIVE: the row
    if (is_act) cmd = CmdAct;
    if (is_rd) cmd = CmdRd;
    if (is_wr) cmd = CmdWr;
    if (is_rd || is_wr) cmd_a = 13'({h_blk_q, BurstW'(0)});   // A10 = 0: no auto precharge
    if (is_pre) begin
      cmd   = CmdPre;
      cmd_a = '0;                               // A10 = 0: this bank
    end
    if (is_preall) begin
      cmd   = CmdPre;
      cmd_a = 13'(1) << 10;                     // A10 = 1: all banks
    end
    if (is_ref) cmd = CmdRef;
    if (is_lmr) begin
      cmd    = CmdLmr;
      cmd_ba = '0;
      cmd_a  = ModeReg;
    end
  end

  // ---- bank state and timing rules -----------------------------------------------------------
  // One ks_wait_timer per rule: the command that starts the rule starts it, and the command the
  // rule spaces out waits for it. tRP restarts on every PRECHARGE of the bank (the refresh's
  // PRECHARGE ALL included), tWR counts from the last write word.
  logic [Banks-1:0] act_b, pre_b, rd_b, wr_b;    // this cycle's command, per bank
  assign act_b  = is_act ? h_oh_q : '0;
  assign pre_b  = is_preall ? '1 : (is_pre ? h_oh_q : '0);
  assign rd_b   = is_rd ? h_oh_q : '0;
  assign wr_b   = is_wr ? h_oh_q : '0;
  assign open_d = (open_q | act_b) & ~pre_b;

  logic rfc_n, mrd_n, rd_wr_n, wr_rd_n;
  ks_wait_timer #(.Cycles(TRfc)) u_trfc (.clk_i, .rst_ni, .start_i(is_ref), .done_o(), .done_next_o(rfc_n));
  ks_wait_timer #(.Cycles(TMrd)) u_tmrd (.clk_i, .rst_ni, .start_i(is_lmr), .done_o(), .done_next_o(mrd_n));
  ks_wait_timer #(.Cycles(TRrd)) u_trrd (.clk_i, .rst_ni, .start_i(is_act), .done_o(rrd_z_q), .done_next_o());
  // The data bus: a READ or WRITE burst after the last; a WRITE one idle clock after read data.
  ks_wait_timer #(.Cycles(Burst)) u_bus_rd (.clk_i, .rst_ni, .start_i(is_rd || is_wr), .done_o(rd_z_q),
                                            .done_next_o());
  ks_wait_timer #(.Cycles(Burst)) u_bus_wr (.clk_i, .rst_ni, .start_i(is_wr), .done_o(), .done_next_o(wr_rd_n));
  ks_wait_timer #(.Cycles(CasLatency + Burst + 1)) u_bus_turn (
    .clk_i, .rst_ni, .start_i(is_rd), .done_o(), .done_next_o(rd_wr_n)
  );
  assign wr_z_d = rd_wr_n && wr_rd_n;
  for (genvar b = 0; b < Banks; b++) begin : g_bank
    logic rc_n, rp_n, rcd_n, ras_n, rdb_n, wrr_n;
    ks_wait_timer #(.Cycles(TRc))     u_trc  (.clk_i, .rst_ni, .start_i(act_b[b]), .done_o(), .done_next_o(rc_n));
    ks_wait_timer #(.Cycles(TRp))     u_trp  (.clk_i, .rst_ni, .start_i(pre_b[b]), .done_o(), .done_next_o(rp_n));
    ks_wait_timer #(.Cycles(TRcd))    u_trcd (.clk_i, .rst_ni, .start_i(act_b[b]), .done_o(), .done_next_o(rcd_n));
    ks_wait_timer #(.Cycles(TRas))    u_tras (.clk_i, .rst_ni, .start_i(act_b[b]), .done_o(), .done_next_o(ras_n));
    ks_wait_timer #(.Cycles(Burst))   u_rdb  (.clk_i, .rst_ni, .start_i(rd_b[b]), .done_o(), .done_next_o(rdb_n));
    ks_wait_timer #(.Cycles(WrToPre)) u_twr  (.clk_i, .rst_ni, .start_i(wr_b[b]), .done_o(), .done_next_o(wrr_n));
    assign act_z_d[b] = rc_n && rp_n && rfc_n && mrd_n;
    assign rw_z_d[b]  = rcd_n;
    assign pre_z_d[b] = ras_n && rdb_n && wrr_n;
  end

  // ---- head request ---------------------------------------------------------------------------
  // The next request's bank state, from registers: open on its row, open on another.
  logic [Banks-1:0] n_row_eq;
  for (genvar b = 0; b < Banks; b++) begin : g_row_eq
    assign n_row_eq[b] = row_q[b*RowBits +: RowBits] == n_row_q;
  end
  logic n_open, n_hit;
  assign n_open = (open_q & n_oh_q) != '0;
  assign n_hit  = (open_q & n_oh_q & n_row_eq) != '0;

  assign h_load = n_valid_q && (!h_valid_q || is_rd || is_wr);
  always_comb begin
    h_valid_d = h_valid_q;
    h_st_d    = h_st_q;
    if (is_rd || is_wr) h_valid_d = 1'b0;
    if (is_act) h_st_d = HHit;
    if (is_pre || is_preall) h_st_d = HIdle;
    if (h_load) begin
      h_valid_d = 1'b1;
      // No ACTIVE or PRECHARGE of a bank issues in a cycle a new head is loaded, except the
      // refresh's PRECHARGE ALL: the registered bank state is the state the head starts from.
      h_st_d = (is_preall || !n_open) ? HIdle : n_hit ? HHit : HConflict;
    end
  end

  // ---- write data out -------------------------------------------------------------------------
  logic [Burst*16-1:0] wd_q, wd_d;       // words still to drive, next one in the low bits
  logic [Burst*2-1:0]  wm_q, wm_d;
  logic [BurstW:0]     wd_left_q, wd_left_d;
  logic [15:0]         dq_d;
  logic [1:0]          dqm_d;
  logic                oe_d;
  always_comb begin
    wd_d      = wd_q >> 16;
    wm_d      = wm_q >> 2;
    wd_left_d = wd_left_q;
    dq_d      = wd_q[15:0];
    dqm_d     = ~wm_q[1:0];
    oe_d      = 1'b0;
    if (is_wr) begin
      dq_d      = h_wdata_q[15:0];
      dqm_d     = ~h_wstrb_q[1:0];
      oe_d      = 1'b1;
      wd_d      = h_wdata_q >> 16;
      wm_d      = h_wstrb_q >> 2;
      wd_left_d = (BurstW + 1)'(Burst - 1);
    end else if (wd_left_q != '0) begin
      oe_d      = 1'b1;
      wd_left_d = wd_left_q - 1'b1;
    end else begin
      dqm_d = state_q == SRun ? 2'b00 : 2'b11;   // masked until the mode is set
    end
  end

  // ---- read data in ---------------------------------------------------------------------------
  logic [RdTap:0]        rd_pipe_q;            // a READ's first word is RdTap + 1 cycles away
  logic [(RdTap+1)*TagW-1:0] rd_tag_pipe_q;
  logic [BurstW:0]       cap_left_q;           // words still to capture of the current burst
  logic [TagW-1:0]       cap_tag_q;
  logic [Burst*16-1:0]   cap_data_q;
  logic                  rsp_valid_q;
  logic [TagW-1:0]       rsp_tag_q;
  logic                  cap_start, cap_on;
  assign cap_start = rd_pipe_q[RdTap];
  assign cap_on    = cap_start || cap_left_q != '0;

  // ---- registers ------------------------------------------------------------------------------
  logic [3:0] cmd_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q     <= SInitWait;
      init_cnt_q  <= InitW'(InitCycles);
      init_done_q <= 1'b0;
      init_ref_q  <= 1'b0;
      ref_cnt_q   <= '0;
      ref_due_q   <= 1'b0;
      open_q      <= '0;
      act_z_q     <= '1;
      rw_z_q      <= '1;
      pre_z_q     <= '1;
      wr_z_q      <= 1'b1;
      n_valid_q   <= 1'b0;
      h_valid_q   <= 1'b0;
      h_st_q      <= HIdle;
      wd_left_q   <= '0;
      rd_pipe_q   <= '0;
      cap_left_q  <= '0;
      rsp_valid_q <= 1'b0;
      cmd_q       <= CmdInh;
      sd_cke_o    <= 1'b1;
      sd_dqm_o    <= 2'b11;
      sd_dq_oe_o  <= 1'b0;
    end else begin
      state_q     <= state_d;
      init_ref_q  <= init_ref_d;
      if (init_cnt_q != '0) init_cnt_q <= init_cnt_q - 1'b1;
      init_done_q <= init_cnt_q == '0;
      if (is_ref) ref_cnt_q <= '0;
      else if (ref_cnt_q != RefW'(RefInterval)) ref_cnt_q <= ref_cnt_q + 1'b1;
      ref_due_q   <= !is_ref && ref_cnt_q >= RefW'(RefThresh);
      open_q      <= open_d;
      act_z_q     <= act_z_d;
      rw_z_q      <= rw_z_d;
      pre_z_q     <= pre_z_d;
      wr_z_q      <= wr_z_d;
      if (n_load) n_valid_q <= 1'b1;
      else if (h_load) n_valid_q <= 1'b0;
      h_valid_q   <= h_valid_d;
      h_st_q      <= h_st_d;
      wd_left_q   <= wd_left_d;
      rd_pipe_q   <= {rd_pipe_q[RdTap-1:0], is_rd};
      if (cap_start) cap_left_q <= (BurstW + 1)'(Burst - 1);
      else if (cap_left_q != '0) cap_left_q <= cap_left_q - 1'b1;
      rsp_valid_q <= cap_on && (cap_start ? Burst == 1 : cap_left_q == (BurstW + 1)'(1));
      cmd_q       <= cmd;
      sd_cke_o    <= 1'b1;
      sd_dqm_o    <= dqm_d;
      sd_dq_oe_o  <= oe_d;
    end
  end

  always_ff @(posedge clk_i) begin
    for (int b = 0; b < Banks; b++) begin
      if (act_b[b]) row_q[b*RowBits +: RowBits] <= h_row_q;
    end
    if (n_load) begin
      n_we_q    <= q_data[ReqW-1];
      n_blk_q   <= q_addr[BlockW-1:0];
      n_bank_q  <= q_addr[BlockW +: BankBits];
      n_oh_q    <= Banks'(1) << q_addr[BlockW +: BankBits];
      n_row_q   <= q_addr[BlockW + BankBits +: RowBits];
      n_wdata_q <= q_data[Burst*2 + TagW +: Burst*16];
      n_wstrb_q <= q_data[TagW +: Burst*2];
      n_tag_q   <= q_data[TagW-1:0];
    end
    if (h_load) begin
      h_we_q    <= n_we_q;
      h_bank_q  <= n_bank_q;
      h_oh_q    <= n_oh_q;
      h_row_q   <= n_row_q;
      h_blk_q   <= n_blk_q;
      h_wdata_q <= n_wdata_q;
      h_wstrb_q <= n_wstrb_q;
      h_tag_q   <= n_tag_q;
    end
    wd_q          <= wd_d;
    wm_q          <= wm_d;
    rd_tag_pipe_q <= {rd_tag_pipe_q[RdTap*TagW-1:0], h_tag_q};
    if (cap_start) cap_tag_q <= rd_tag_pipe_q[RdTap*TagW +: TagW];
    if (cap_on) cap_data_q <= (Burst * 16)'({sd_dq_i, cap_data_q} >> 16);   // word 0 ends lowest
    if (cap_on) rsp_tag_q <= cap_start ? rd_tag_pipe_q[RdTap*TagW +: TagW] : cap_tag_q;
    sd_ba_o <= cmd_ba;
    sd_a_o  <= cmd_a;
    sd_dq_o <= dq_d;
  end

  assign {sd_cs_n_o, sd_ras_n_o, sd_cas_n_o, sd_we_n_o} = cmd_q;
  assign rsp_valid_o = rsp_valid_q;
  assign rsp_data_o  = cap_data_q;
  assign rsp_tag_o   = rsp_tag_q;
  assign init_done_o = state_q == SRun;

  // ---- checks ---------------------------------------------------------------------------------
`ifndef SYNTHESIS
  initial begin
    if (!(Burst == 1 || Burst == 2 || Burst == 4 || Burst == 8)) $fatal(1, "ks_sdram_ctrl: Burst must be 1, 2, 4 or 8");
    if (CasLatency != 2 && CasLatency != 3) $fatal(1, "ks_sdram_ctrl: CasLatency must be 2 or 3");
    if (RowBits > 13 || ColBits > 10 || ColBits < BurstW + 1) $fatal(1, "ks_sdram_ctrl: bad geometry");
    if (RefInterval <= 2 * RefSlack) $fatal(1, "ks_sdram_ctrl: clock too slow for the refresh interval");
  end
`endif
  `KS_ASSERT(refresh_interval_kept, (state_q == SRun) |-> (ref_cnt_q != RefW'(RefInterval)))
  `KS_ASSERT(access_only_to_open_row, (is_rd || is_wr) |-> (open_q[h_bank_q] &&
             row_q[h_bank_q*RowBits +: RowBits] == h_row_q))
  `KS_ASSERT(activate_only_closed_bank, is_act |-> !open_q[h_bank_q])
  `KS_ASSERT(reads_do_not_overlap, cap_start |-> (cap_left_q == '0))
  `KS_ASSERT(one_command_at_a_time, $onehot0({is_act, is_rd, is_wr, is_pre, is_preall, is_ref, is_lmr}))
endmodule

/// The Kestrel core: control registers (AXI4-Lite slave), command processor, DMA (AXI4
/// master), SRAM banks and the load, compute and store engines around the matrix unit, the
/// vector unit with its memory (bank VEC) and VMOVE between it and the ACC/ACT banks.
/// HasVector = 0 leaves the vector unit, VMOVE and the DECODE token streamer out (the Vec*
/// and DecCache parameters are then 0): a matrix-product accelerator whose command processor
/// rejects VEC, VMOVE, VRUN, DECODE and banks VEC, VPROG, HIST with UNSUPPORTED.
///
/// The host programs the ring and the memory window, writes descriptors into memory and
/// rings the doorbell; the core does the rest and raises irq_o (docs/programmers_guide.md).
/// AXI4 master: single ID (0), INCR bursts, no narrow transfers except the strobed
/// completion write. rready and bready are always 1. AXI4-Stream master: the DECODE's
/// tokens (tdata = token, tuser = forced by the prompt, tlast = the DECODE's last), from a
/// one-entry output register.
module ks_core #(
  parameter int unsigned Rows          = 8,
  parameter int unsigned Cols          = 16,
  parameter int unsigned AccDepth      = 512,
  parameter int unsigned FifoDepth     = 32,
  parameter int unsigned Int4Native    = 1,
  parameter int unsigned AxiBytes      = 16,
  parameter int unsigned DmaMaxReads   = 8,
  parameter int unsigned DmaMaxWrites  = 4,
  parameter int unsigned MaxBurst      = 64,
  parameter int unsigned QueueDepth    = 2,
  parameter int unsigned WgtBytes      = 262144,
  parameter int unsigned ActBytes      = 16384,
  parameter int unsigned AccBytes      = 32768,
  parameter int unsigned KvBytes       = 65536,
  parameter int unsigned HasVector     = 1,
  parameter int unsigned VecLanes      = 8,
  parameter int unsigned VecRows       = 1024,
  parameter int unsigned VecProgDepth  = 1024,
  parameter int unsigned VecHistRows   = 1024,
  parameter int unsigned DecCache      = 256,
  parameter int unsigned CtrBits       = 64,
  parameter int unsigned CtrRam        = 0,
  parameter int unsigned CtrMask       = 32'hFFFF_FFFF,   // the counters the build has
  parameter int unsigned WgtWordBytes  = 128,
  parameter int unsigned ActWordBytes  = 32,
  parameter int unsigned AccWordBytes  = 32,
  // Width of the addresses the core issues (the configuration's addr_bits): device memory and
  // rings lie below 2^AddrW (the command processor's checks), the AXI address's upper bits are 0.
  parameter int unsigned AddrW         = 32,
  // 1: ERR_INFO holds each error's detail; 0: it reads 0 (the configuration's err_info_detail:
  // the driver works the detail out from the failing descriptor).
  parameter int unsigned ErrDetail     = 1,
  parameter int unsigned RegAddrW      = ks_regs_pkg::AddrBits
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  // AXI4-Lite slave: registers
  input  logic                  s_axil_awvalid_i,
  output logic                  s_axil_awready_o,
  input  logic [RegAddrW-1:0]   s_axil_awaddr_i,
  input  logic                  s_axil_wvalid_i,
  output logic                  s_axil_wready_o,
  input  logic [31:0]           s_axil_wdata_i,
  input  logic [3:0]            s_axil_wstrb_i,
  output logic                  s_axil_bvalid_o,
  input  logic                  s_axil_bready_i,
  output logic [1:0]            s_axil_bresp_o,
  input  logic                  s_axil_arvalid_i,
  output logic                  s_axil_arready_o,
  input  logic [RegAddrW-1:0]   s_axil_araddr_i,
  output logic                  s_axil_rvalid_o,
  input  logic                  s_axil_rready_i,
  output logic [31:0]           s_axil_rdata_o,
  output logic [1:0]            s_axil_rresp_o,
  // AXI4 master: memory
  output logic                  m_axi_arvalid_o,
  input  logic                  m_axi_arready_i,
  output logic [31:0]           m_axi_araddr_o,
  output logic [7:0]            m_axi_arlen_o,
  output logic [2:0]            m_axi_arsize_o,
  output logic [1:0]            m_axi_arburst_o,
  input  logic                  m_axi_rvalid_i,
  output logic                  m_axi_rready_o,
  input  logic [AxiBytes*8-1:0] m_axi_rdata_i,
  input  logic [1:0]            m_axi_rresp_i,
  input  logic                  m_axi_rlast_i,
  output logic                  m_axi_awvalid_o,
  input  logic                  m_axi_awready_i,
  output logic [31:0]           m_axi_awaddr_o,
  output logic [7:0]            m_axi_awlen_o,
  output logic [2:0]            m_axi_awsize_o,
  output logic [1:0]            m_axi_awburst_o,
  output logic                  m_axi_wvalid_o,
  input  logic                  m_axi_wready_i,
  output logic [AxiBytes*8-1:0] m_axi_wdata_o,
  output logic [AxiBytes-1:0]   m_axi_wstrb_o,
  output logic                  m_axi_wlast_o,
  input  logic                  m_axi_bvalid_i,
  output logic                  m_axi_bready_o,
  input  logic [1:0]            m_axi_bresp_i,
  // AXI4-Stream master: tokens
  output logic                  m_axis_tvalid_o,
  input  logic                  m_axis_tready_i,
  output logic [31:0]           m_axis_tdata_o,
  output logic                  m_axis_tuser_o,
  output logic                  m_axis_tlast_o,
  // Interrupt
  output logic                  irq_o
);
  localparam int unsigned DataW     = AxiBytes * 8;
  localparam int unsigned LaneW     = $clog2(AxiBytes);
  // Widths of what the command processor hands the engines, bounded by the banks its checks
  // hold every transfer and product to: bank offsets and extents (SramW: 2^SramW is past every
  // bank), DMA beats (a row of a bank, or a 4 KiB page), M and KX (ACT words), NB, KC and G
  // (WGT words), NB x G (ACC words).
  localparam int unsigned WgtDepth  = WgtBytes / WgtWordBytes;
  localparam int unsigned ActDepth  = ActBytes / ActWordBytes;
  localparam int unsigned AccDepthW = AccBytes / AccWordBytes;
  localparam int unsigned VecBank   = HasVector == 0 ? 0 :
                                      (VecLanes * VecRows * 4 > VecProgDepth * 16 ? VecLanes * VecRows * 4 : VecProgDepth * 16) >
                                      VecLanes * VecHistRows * 4 ?
                                      (VecLanes * VecRows * 4 > VecProgDepth * 16 ? VecLanes * VecRows * 4 : VecProgDepth * 16) :
                                      VecLanes * VecHistRows * 4;
  localparam int unsigned MainBank  = (WgtBytes > ActBytes ? WgtBytes : ActBytes) > (AccBytes > KvBytes ? AccBytes : KvBytes) ?
                                      (WgtBytes > ActBytes ? WgtBytes : ActBytes) : (AccBytes > KvBytes ? AccBytes : KvBytes);
  localparam int unsigned SramW     = $clog2((MainBank > VecBank ? MainBank : VecBank) + 1);
  localparam int unsigned PageBeatW = $clog2(4096 / AxiBytes + 1);
  localparam int unsigned BeatsW    = SramW - LaneW > PageBeatW ? SramW - LaneW : PageBeatW;
  localparam int unsigned MW        = $clog2(ActDepth + 1);
  localparam int unsigned NbW       = $clog2(WgtDepth + 1);
  localparam int unsigned NbgW      = $clog2(AccDepthW + 1);
  localparam int unsigned RowsW     = $clog2(Rows + 1);
  localparam int unsigned KW        = $clog2(2 * Cols + 1);
  localparam int unsigned WgtWordW  = $clog2(WgtDepth);
  localparam int unsigned ActWordW  = $clog2(ActDepth);
  localparam int unsigned AccWordW  = $clog2(AccDepthW);
  // The load/store command, LSB first: SRAM_STRIDE, HOST_STRIDE, beats, ROWS, HOST_ADDR,
  // SRAM_ADDR, bank.
  localparam int unsigned XHsOff    = SramW;
  localparam int unsigned XBeatsOff = XHsOff + AddrW;
  localparam int unsigned XRowsOff  = XBeatsOff + BeatsW;
  localparam int unsigned XHostOff  = XRowsOff + 16;
  localparam int unsigned XSramOff  = XHostOff + AddrW;
  localparam int unsigned XBankOff  = XSramOff + SramW;
  localparam int unsigned XferW     = XBankOff + 3;
  // The MATMUL command, LSB first: NB x G, G, cpg, k_last, rows_last, ACC, ACT and WGT word
  // addresses, KX, KC, NB, M, INT4.
  localparam int unsigned MGOff     = NbgW;
  localparam int unsigned MCpgOff   = MGOff + NbW;
  localparam int unsigned MKlOff    = MCpgOff + NbW + 1;
  localparam int unsigned MRlOff    = MKlOff + KW;
  localparam int unsigned MAccOff   = MRlOff + RowsW;
  localparam int unsigned MActOff   = MAccOff + AccWordW;
  localparam int unsigned MWgtOff   = MActOff + ActWordW;
  localparam int unsigned MKxOff    = MWgtOff + WgtWordW;
  localparam int unsigned MKcOff    = MKxOff + MW;
  localparam int unsigned MNbOff    = MKcOff + NbW;
  localparam int unsigned MMOff     = MNbOff + NbW;
  localparam int unsigned MInt4Off  = MMOff + MW;
  localparam int unsigned MatW      = MInt4Off + 1;
  localparam int unsigned VecW      = 1 + 4 + 4 + 1 + 1 + 1 + 16 * 4 + 32;
  // Without the vector unit its sizes are 0; the widths of its (tied-off) ports stay legal.
  localparam int unsigned ProgAddrW = HasVector != 0 ? $clog2(VecProgDepth * 16) : 1;
  localparam int unsigned HistAddrW = HasVector != 0 ? $clog2(VecLanes * VecHistRows * 4) : 1;
  localparam int unsigned VecAddrW  = HasVector != 0 ? $clog2(VecLanes * VecRows * 4) : 1;
  localparam int unsigned Elems     = AxiBytes / 4;
  localparam int unsigned NumCtr    = ks_regs_pkg::NumCounters;
  // Counters that only the vector unit and the DECODE token streamer move.
  localparam logic [NumCtr-1:0] VecCtrs = NumCtr'(1) << ks_regs_pkg::CtrVecBusy |
                                          NumCtr'(1) << ks_regs_pkg::CtrDecSteps |
                                          NumCtr'(1) << ks_regs_pkg::CtrStreamWait;
  localparam logic [NumCtr-1:0] CtrUsed = NumCtr'(CtrMask) & (HasVector != 0 ? '1 : ~VecCtrs);
  // The largest increment of each counter in one cycle (ctr_inc below): MACS the array's peak,
  // the byte counts a beat, DESC_EXECUTED a finished descriptor per engine and queue; 1 else.
  function automatic logic [NumCtr*16-1:0] max_incs();
    max_incs = '0;
    for (int c = 0; c < NumCtr; c++) max_incs[c*16 +: 16] = 16'd1;
    max_incs[ks_regs_pkg::CtrMacs*16 +: 16]         = 16'(2 * Rows * Cols);
    max_incs[ks_regs_pkg::CtrBytesRead*16 +: 16]    = 16'(AxiBytes);
    max_incs[ks_regs_pkg::CtrBytesWritten*16 +: 16] = 16'(AxiBytes);
    max_incs[ks_regs_pkg::CtrDescExecuted*16 +: 16] = 16'd6;
  endfunction
  localparam logic [NumCtr*16-1:0] CtrMaxInc = max_incs();

  // ---- registers ------------------------------------------------------------------------------
  logic        enable, enable_write, queue_reset, tail_write, enable_clear;
  logic [31:0] ring_base, ring_size, win_base, win_size, tail_value;
  logic        cp_busy, cp_halted, cp_resetting, irq_cpl, irq_err;
  logic [7:0]  err_code;
  logic [31:0] err_index, err_info, head, tail, completions, last_seq;
  logic        err_busy;
  logic [NumCtr*16-1:0] ctr_inc;
  logic        dec_abort, dec_running, dec_step;
  logic [3:0]  dec_reason;
  logic [15:0] dec_pos, dec_pc;
  logic [31:0] dec_tokens, dec_last;

  ks_ctrl_regs #(
    .Rows(Rows), .Cols(Cols), .AxiBytes(AxiBytes), .AccAddrBits($clog2(AccDepth)),
    .WgtBytes(WgtBytes), .ActBytes(ActBytes), .AccBytes(AccBytes), .KvBytes(KvBytes),
    .VecLanes(VecLanes), .VecRows(VecRows), .VecProgDepth(VecProgDepth), .VecHistRows(VecHistRows),
    .CtrBits(CtrBits), .CtrRam(CtrRam), .CtrUsed(CtrUsed), .CtrMaxInc(CtrMaxInc), .SpaceW(AddrW)
  ) u_regs (
    .clk_i, .rst_ni,
    .s_awvalid_i(s_axil_awvalid_i), .s_awready_o(s_axil_awready_o), .s_awaddr_i(s_axil_awaddr_i),
    .s_wvalid_i(s_axil_wvalid_i), .s_wready_o(s_axil_wready_o), .s_wdata_i(s_axil_wdata_i),
    .s_wstrb_i(s_axil_wstrb_i), .s_bvalid_o(s_axil_bvalid_o), .s_bready_i(s_axil_bready_i),
    .s_bresp_o(s_axil_bresp_o), .s_arvalid_i(s_axil_arvalid_i), .s_arready_o(s_axil_arready_o),
    .s_araddr_i(s_axil_araddr_i), .s_rvalid_o(s_axil_rvalid_o), .s_rready_i(s_axil_rready_i),
    .s_rdata_o(s_axil_rdata_o), .s_rresp_o(s_axil_rresp_o),
    .enable_o(enable), .ring_base_o(ring_base), .ring_size_o(ring_size), .win_base_o(win_base),
    .win_size_o(win_size), .enable_write_o(enable_write), .queue_reset_o(queue_reset),
    .dec_abort_o(dec_abort), .dec_running_i(dec_running), .dec_reason_i(dec_reason), .dec_pos_i(dec_pos),
    .dec_tokens_i(dec_tokens), .dec_last_i(dec_last), .dec_pc_i(dec_pc),
    .tail_write_o(tail_write), .tail_value_o(tail_value), .enable_clear_i(enable_clear),
    .busy_i(cp_busy), .halted_i(cp_halted), .resetting_i(cp_resetting), .err_code_i(err_code),
    .err_index_i(err_index), .err_info_i(err_info), .err_busy_i(err_busy), .head_i(head), .tail_i(tail),
    .completions_i(completions), .last_seq_i(last_seq), .irq_completion_i(irq_cpl),
    .irq_error_i(irq_err), .irq_o, .ctr_inc_i(ctr_inc)
  );

  // ---- DMA ------------------------------------------------------------------------------------
  // Read clients: 0 descriptor fetch, 1 load engine. Write clients: 0 store engine, 1 completion.
  logic [1:0]          rd_req_valid, rd_req_ready, wr_req_valid, wr_req_ready;
  logic [2*AddrW-1:0]  rd_req_addr, wr_req_addr;
  logic [2*BeatsW-1:0] rd_req_beats, wr_req_beats;
  logic                rd_rsp_valid, rd_rsp_last, rd_rsp_err, rd_busy, rd_wait;
  logic                rd_rsp_client;
  logic [DataW-1:0]    rd_rsp_data;
  logic [1:0]          wr_dat_valid, wr_dat_ready, wr_done;
  logic [2*DataW-1:0]  wr_dat_data;
  logic [2*AxiBytes-1:0] wr_dat_strb;
  logic                wr_err, wr_busy, wr_wait, abort;
  logic [AddrW-1:0]    wr_err_addr;

  logic [AddrW-1:0] dma_araddr, dma_awaddr;
  assign m_axi_araddr_o = 32'(dma_araddr);
  assign m_axi_awaddr_o = 32'(dma_awaddr);

  ks_dma_rd #(
    .NumClients(2), .DataBytes(AxiBytes), .AddrW(AddrW), .BeatsW(BeatsW), .MaxBurst(MaxBurst),
    .MaxOutstanding(DmaMaxReads)
  ) u_dma_rd (
    .clk_i, .rst_ni,
    .req_valid_i(rd_req_valid), .req_ready_o(rd_req_ready), .req_addr_i(rd_req_addr),
    .req_beats_i(rd_req_beats), .rsp_valid_o(rd_rsp_valid), .rsp_client_o(rd_rsp_client),
    .rsp_data_o(rd_rsp_data), .rsp_last_o(rd_rsp_last), .rsp_err_o(rd_rsp_err),
    .arvalid_o(m_axi_arvalid_o), .arready_i(m_axi_arready_i), .araddr_o(dma_araddr),
    .arlen_o(m_axi_arlen_o), .arsize_o(m_axi_arsize_o), .arburst_o(m_axi_arburst_o),
    .rvalid_i(m_axi_rvalid_i), .rready_o(m_axi_rready_o), .rdata_i(m_axi_rdata_i),
    .rresp_i(m_axi_rresp_i), .rlast_i(m_axi_rlast_i), .busy_o(rd_busy), .wait_o(rd_wait)
  );

  ks_dma_wr #(
    .NumClients(2), .DataBytes(AxiBytes), .AddrW(AddrW), .BeatsW(BeatsW), .MaxBurst(MaxBurst),
    .MaxOutstanding(DmaMaxWrites)
  ) u_dma_wr (
    .clk_i, .rst_ni, .abort_i(abort),
    .req_valid_i(wr_req_valid), .req_ready_o(wr_req_ready), .req_addr_i(wr_req_addr),
    .req_beats_i(wr_req_beats), .dat_valid_i(wr_dat_valid), .dat_ready_o(wr_dat_ready),
    .dat_data_i(wr_dat_data), .dat_strb_i(wr_dat_strb), .done_o(wr_done), .err_o(wr_err),
    .err_addr_o(wr_err_addr),
    .awvalid_o(m_axi_awvalid_o), .awready_i(m_axi_awready_i), .awaddr_o(dma_awaddr),
    .awlen_o(m_axi_awlen_o), .awsize_o(m_axi_awsize_o), .awburst_o(m_axi_awburst_o),
    .wvalid_o(m_axi_wvalid_o), .wready_i(m_axi_wready_i), .wdata_o(m_axi_wdata_o),
    .wstrb_o(m_axi_wstrb_o), .wlast_o(m_axi_wlast_o), .bvalid_i(m_axi_bvalid_i),
    .bready_o(m_axi_bready_o), .bresp_i(m_axi_bresp_i), .busy_o(wr_busy), .wait_o(wr_wait)
  );

  // ---- command processor ----------------------------------------------------------------------
  logic             load_valid, load_ready, load_done, load_err, store_valid, store_ready,
                    store_done, store_err, mat_valid, mat_ready, mat_done, token_wait;
  logic [2:0]       desc_done, cp_wait;
  logic [XferW-1:0] load_cmd, store_cmd;
  logic [MatW-1:0]  mat_cmd;
  logic [AddrW-1:0] load_err_addr, store_err_addr;
  logic             load_busy, store_busy, mat_busy;
  logic             vec_valid, vec_ready, vec_busy, vm_valid, vm_ready, vm_dir, vm_done, vm_busy;
  logic [VecW-1:0]  vec_cmd;
  logic [31:0]      vec_s7, vm_elem, vm_bank;
  logic [15:0]      vm_count, vm_groups, vm_gstride;
  logic             tok_valid, tok_ready, tok_forced, tok_last, vec_bad, vec_run_err;
  logic [15:0]      vec_run_err_idx;
  logic [31:0]      tok_data;

  ks_cmdproc #(
    .AxiBytes(AxiBytes), .AddrW(AddrW), .BeatsW(BeatsW), .Rows(Rows), .Cols(Cols),
    .WgtBytes(WgtBytes), .ActBytes(ActBytes), .AccBytes(AccBytes), .KvBytes(KvBytes),
    .WgtWordBytes(WgtWordBytes), .ActWordBytes(ActWordBytes), .AccWordBytes(AccWordBytes),
    .QueueDepth(QueueDepth), .HasVector(HasVector), .VecLanes(VecLanes), .VecRows(VecRows), .VecProgDepth(VecProgDepth),
    .VecHistRows(VecHistRows), .DecCache(DecCache), .SramW(SramW), .MW(MW), .NbW(NbW), .NbgW(NbgW),
    .RowsW(RowsW), .KW(KW), .WgtWordW(WgtWordW), .ActWordW(ActWordW), .AccWordW(AccWordW), .XferW(XferW), .MatW(MatW),
    .VecW(VecW), .ErrDetail(ErrDetail)
  ) u_cmdproc (
    .clk_i, .rst_ni,
    .enable_i(enable), .ring_base_i(ring_base), .ring_size_i(ring_size), .win_base_i(win_base),
    .win_size_i(win_size), .enable_write_i(enable_write), .queue_reset_i(queue_reset),
    .tail_write_i(tail_write), .tail_value_i(tail_value), .enable_clear_o(enable_clear),
    .busy_o(cp_busy), .halted_o(cp_halted), .resetting_o(cp_resetting), .err_code_o(err_code),
    .err_index_o(err_index), .err_info_o(err_info), .err_busy_o(err_busy), .head_o(head), .tail_o(tail),
    .completions_o(completions), .last_seq_o(last_seq), .irq_completion_o(irq_cpl),
    .irq_error_o(irq_err), .token_wait_o(token_wait), .desc_done_o(desc_done), .wait_o(cp_wait),
    .dec_abort_i(dec_abort), .dec_running_o(dec_running), .dec_reason_o(dec_reason), .dec_pos_o(dec_pos),
    .dec_tokens_o(dec_tokens), .dec_last_o(dec_last), .dec_pc_o(dec_pc), .dec_step_o(dec_step),
    .tok_valid_o(tok_valid), .tok_ready_i(tok_ready), .tok_data_o(tok_data), .tok_forced_o(tok_forced),
    .tok_last_o(tok_last),
    .fetch_valid_o(rd_req_valid[0]), .fetch_ready_i(rd_req_ready[0]),
    .fetch_addr_o(rd_req_addr[0 +: AddrW]), .fetch_beats_o(rd_req_beats[0 +: BeatsW]),
    .fetch_rsp_valid_i(rd_rsp_valid && rd_rsp_client == 1'b0), .fetch_rsp_data_i(rd_rsp_data),
    .fetch_rsp_last_i(rd_rsp_last), .fetch_rsp_err_i(rd_rsp_err),
    .cpl_valid_o(wr_req_valid[1]), .cpl_ready_i(wr_req_ready[1]),
    .cpl_addr_o(wr_req_addr[AddrW +: AddrW]), .cpl_beats_o(wr_req_beats[BeatsW +: BeatsW]),
    .cpl_dat_valid_o(wr_dat_valid[1]), .cpl_dat_ready_i(wr_dat_ready[1]),
    .cpl_dat_data_o(wr_dat_data[DataW +: DataW]), .cpl_dat_strb_o(wr_dat_strb[AxiBytes +: AxiBytes]),
    .cpl_done_i(wr_done[1]), .cpl_err_i(wr_err),
    .abort_o(abort),
    .load_valid_o(load_valid), .load_ready_i(load_ready), .load_cmd_o(load_cmd),
    .load_done_i(load_done), .load_err_i(load_err), .load_err_addr_i(load_err_addr),
    .store_valid_o(store_valid), .store_ready_i(store_ready), .store_cmd_o(store_cmd),
    .store_done_i(store_done), .store_err_i(store_err), .store_err_addr_i(store_err_addr),
    .mat_valid_o(mat_valid), .mat_ready_i(mat_ready), .mat_cmd_o(mat_cmd), .mat_done_i(mat_done),
    .vec_valid_o(vec_valid), .vec_ready_i(vec_ready), .vec_cmd_o(vec_cmd), .vec_busy_i(vec_busy),
    .vec_run_err_i(vec_run_err), .vec_run_err_idx_i(vec_run_err_idx), .vec_s7_i(vec_s7),
    .vmove_valid_o(vm_valid), .vmove_ready_i(vm_ready), .vmove_dir_o(vm_dir), .vmove_elem_o(vm_elem),
    .vmove_bank_o(vm_bank), .vmove_count_o(vm_count), .vmove_groups_o(vm_groups),
    .vmove_gstride_o(vm_gstride), .vmove_done_i(vm_done),
    .engines_busy_i(load_busy || store_busy || mat_busy || vec_busy || vm_busy),
    .dma_busy_i(rd_busy || wr_busy),
    .load_busy_i(load_busy), .store_busy_i(store_busy), .mat_busy_i(mat_busy)
  );

  // ---- SRAM banks -----------------------------------------------------------------------------
  // Narrow ports: the load engine writes WGT, ACT, KV and VEC; the store engine reads ACC, KV
  // and VEC. VMOVE reads ACC and writes ACT through the same ports (it runs at a fence, so
  // the engines are idle) and uses the vector unit's memory port like the DMA.
  logic [6:0]       ld_we;
  logic [4:0]       st_re;
  logic [SramW-1:0] ld_addr, st_addr;
  logic [DataW-1:0] ld_data, st_data, acc_nr_data, kv_nr_data, vec_rdata;
  logic [1:0]       st_src_q;                  // 0 ACC, 1 KV, 2 VEC: the read in flight
  logic             wgt_re, act_re, acc_we;
  logic [WgtWordW-1:0] wgt_addr;
  logic [ActWordW-1:0] act_addr;
  logic [AccWordW-1:0] acc_waddr;
  logic [WgtWordBytes*8-1:0] wgt_data;
  logic [ActWordBytes*8-1:0] act_data;
  logic [AccWordBytes*8-1:0] acc_wdata;
  logic [DataW-1:0]          unused_nr_wgt, unused_nr_act;
  logic [AxiBytes*8-1:0]     unused_wr_kv;
  logic [AccWordBytes*8-1:0] unused_wr_acc;
  // VMOVE's bank and vector-memory ports
  logic                       vm_acc_re, vm_act_we;
  logic [$clog2(AccBytes)-1:0] vm_acc_addr;
  logic [$clog2(ActBytes)-1:0] vm_act_addr;
  logic [DataW-1:0]           vm_act_wdata;

  ks_sram_bank #(.Bytes(WgtBytes), .WideBytes(WgtWordBytes), .NarrowBytes(AxiBytes)) u_wgt (
    .clk_i, .rst_ni,
    .nw_en_i(ld_we[0]), .nw_addr_i(ld_addr[$clog2(WgtBytes)-1:0]), .nw_data_i(ld_data),
    .nr_en_i(1'b0), .nr_addr_i('0), .nr_data_o(unused_nr_wgt),
    .ww_en_i(1'b0), .ww_addr_i('0), .ww_data_i('0),
    .wr_en_i(wgt_re), .wr_addr_i(wgt_addr), .wr_data_o(wgt_data));
  ks_sram_bank #(.Bytes(ActBytes), .WideBytes(ActWordBytes), .NarrowBytes(AxiBytes)) u_act (
    .clk_i, .rst_ni,
    .nw_en_i(ld_we[1] || vm_act_we),
    .nw_addr_i(vm_act_we ? vm_act_addr : ld_addr[$clog2(ActBytes)-1:0]),
    .nw_data_i(vm_act_we ? vm_act_wdata : ld_data),
    .nr_en_i(1'b0), .nr_addr_i('0), .nr_data_o(unused_nr_act),
    .ww_en_i(1'b0), .ww_addr_i('0), .ww_data_i('0),
    .wr_en_i(act_re), .wr_addr_i(act_addr), .wr_data_o(act_data));
  ks_sram_bank #(.Bytes(AccBytes), .WideBytes(AccWordBytes), .NarrowBytes(AxiBytes)) u_acc (
    .clk_i, .rst_ni,
    .nw_en_i(1'b0), .nw_addr_i('0), .nw_data_i('0),
    .nr_en_i(st_re[2] || vm_acc_re), .nr_addr_i(vm_acc_re ? vm_acc_addr : st_addr[$clog2(AccBytes)-1:0]),
    .nr_data_o(acc_nr_data),
    .ww_en_i(acc_we), .ww_addr_i(acc_waddr), .ww_data_i(acc_wdata),
    .wr_en_i(1'b0), .wr_addr_i('0), .wr_data_o(unused_wr_acc));
  ks_sram_bank #(.Bytes(KvBytes), .WideBytes(AxiBytes), .NarrowBytes(AxiBytes)) u_kv (
    .clk_i, .rst_ni,
    .nw_en_i(ld_we[3]), .nw_addr_i(ld_addr[$clog2(KvBytes)-1:0]), .nw_data_i(ld_data),
    .nr_en_i(st_re[3]), .nr_addr_i(st_addr[$clog2(KvBytes)-1:0]), .nr_data_o(kv_nr_data),
    .ww_en_i(1'b0), .ww_addr_i('0), .ww_data_i('0),
    .wr_en_i(1'b0), .wr_addr_i('0), .wr_data_o(unused_wr_kv));

  always_ff @(posedge clk_i) begin
    if (st_re[2] || st_re[3] || st_re[4]) st_src_q <= st_re[4] ? 2'd2 : st_re[3] ? 2'd1 : 2'd0;
  end
  assign st_data = (st_src_q == 2'd2) ? vec_rdata : (st_src_q == 2'd1) ? kv_nr_data : acc_nr_data;

  // ---- vector unit and VMOVE ------------------------------------------------------------------
  if (HasVector != 0) begin : g_vec
    // VMOVE's port of the vector memory
    logic                vm_vec_we, vm_vec_re;
    logic [VecAddrW-1:0] vm_vec_waddr, vm_vec_raddr;
    logic [Elems-1:0]    vm_vec_wmask;
    logic [DataW-1:0]    vm_vec_wdata;

    ks_vector_unit #(.Lanes(VecLanes), .Rows(VecRows), .AxiBytes(AxiBytes), .ProgDepth(VecProgDepth),
                     .HistRows(VecHistRows)) u_vec (
      .clk_i, .rst_ni, .abort_i(abort),
      .in_valid_i(vec_valid), .in_ready_o(vec_ready), .in_run_i(vec_cmd[107]),
      .in_kind_i(vec_cmd[103 +: 4]), .in_op_i(vec_cmd[99 +: 4]), .in_swap_b_i(vec_cmd[98]),
      .in_b_imm_i(vec_cmd[97]), .in_hist_a_i(vec_cmd[96]), .in_dst_i(vec_cmd[80 +: 16]), .in_a_i(vec_cmd[64 +: 16]),
      .in_b_i(vec_cmd[48 +: 16]), .in_len_i(vec_cmd[32 +: 16]), .in_imm_i(vec_cmd[0 +: 32]),
      .in_bad_o(vec_bad), .busy_o(vec_busy), .run_err_o(vec_run_err), .run_err_idx_o(vec_run_err_idx),
      .prog_we_i(ld_we[5]), .prog_waddr_i(ld_addr[ProgAddrW-1:0]), .prog_wdata_i(ld_data),
      .hist_we_i(ld_we[6]), .hist_waddr_i(ld_addr[HistAddrW-1:0]), .hist_wdata_i(ld_data),
      .mem_we_i(ld_we[4] || vm_vec_we), .mem_wmask_i(ld_we[4] ? '1 : vm_vec_wmask),
      .mem_waddr_i(ld_we[4] ? ld_addr[VecAddrW-1:0] : vm_vec_waddr),
      .mem_wdata_i(ld_we[4] ? ld_data : vm_vec_wdata),
      .mem_re_i(st_re[4] || vm_vec_re), .mem_raddr_i(st_re[4] ? st_addr[VecAddrW-1:0] : vm_vec_raddr),
      .mem_rdata_o(vec_rdata),
      .s_sel_i(3'd7), .s_o(vec_s7)
    );

    ks_vmove #(
      .Rows(Rows), .AxiBytes(AxiBytes), .AccWordBytes(AccWordBytes), .ActWordBytes(ActWordBytes),
      .AccAddrW($clog2(AccBytes)), .ActAddrW($clog2(ActBytes)), .VecAddrW(VecAddrW)
    ) u_vmove (
      .clk_i, .rst_ni, .abort_i(abort),
      .cmd_valid_i(vm_valid), .cmd_ready_o(vm_ready), .cmd_dir_i(vm_dir), .cmd_elem_i(vm_elem),
      .cmd_bank_i(vm_bank), .cmd_count_i(vm_count), .cmd_groups_i(vm_groups), .cmd_gstride_i(vm_gstride),
      .done_o(vm_done), .busy_o(vm_busy),
      .acc_re_o(vm_acc_re), .acc_addr_o(vm_acc_addr), .acc_rdata_i(acc_nr_data),
      .act_we_o(vm_act_we), .act_addr_o(vm_act_addr), .act_wdata_o(vm_act_wdata),
      .vec_we_o(vm_vec_we), .vec_wmask_o(vm_vec_wmask), .vec_waddr_o(vm_vec_waddr), .vec_wdata_o(vm_vec_wdata),
      .vec_re_o(vm_vec_re), .vec_raddr_o(vm_vec_raddr), .vec_rdata_i(vec_rdata)
    );
  end else begin : g_no_vec
    // Nothing reaches them: the command processor rejects what would (UNSUPPORTED).
    assign vec_ready       = 1'b0;
    assign vec_bad         = 1'b0;
    assign vec_busy        = 1'b0;
    assign vec_run_err     = 1'b0;
    assign vec_run_err_idx = '0;
    assign vec_rdata       = '0;
    assign vec_s7          = '0;
    assign vm_ready        = 1'b0;
    assign vm_done         = 1'b0;
    assign vm_busy         = 1'b0;
    assign vm_acc_re       = 1'b0;
    assign vm_acc_addr     = '0;
    assign vm_act_we       = 1'b0;
    assign vm_act_addr     = '0;
    assign vm_act_wdata    = '0;
    logic unused_no_vec;
    assign unused_no_vec = ^{vec_valid, vec_cmd, vm_valid, vm_dir, vm_elem, vm_bank, vm_count, vm_groups,
                             vm_gstride, ld_we[6:4], st_re[4]};
  end

  // The token stream's output register: the command processor sends a token when it is empty.
  ks_fifo #(.Width(34), .Depth(1)) u_tok (
    .clk_i, .rst_ni,
    .in_valid_i(tok_valid), .in_ready_o(tok_ready), .in_data_i({tok_last, tok_forced, tok_data}),
    .out_valid_o(m_axis_tvalid_o), .out_ready_i(m_axis_tready_i),
    .out_data_o({m_axis_tlast_o, m_axis_tuser_o, m_axis_tdata_o}), .count_o());

  // ---- engines --------------------------------------------------------------------------------
  ks_load_engine #(.DataBytes(AxiBytes), .AddrW(AddrW), .BeatsW(BeatsW), .SramW(SramW)) u_load (
    .clk_i, .rst_ni, .abort_i(abort),
    .cmd_valid_i(load_valid), .cmd_ready_o(load_ready),
    .cmd_bank_i(load_cmd[XBankOff +: 3]), .cmd_sram_addr_i(load_cmd[XSramOff +: SramW]),
    .cmd_host_addr_i(load_cmd[XHostOff +: AddrW]), .cmd_rows_i(load_cmd[XRowsOff +: 16]),
    .cmd_beats_i(load_cmd[XBeatsOff +: BeatsW]), .cmd_host_stride_i(load_cmd[XHsOff +: AddrW]),
    .cmd_sram_stride_i(load_cmd[0 +: SramW]),
    .done_o(load_done), .err_o(load_err), .err_addr_o(load_err_addr),
    .req_valid_o(rd_req_valid[1]), .req_ready_i(rd_req_ready[1]),
    .req_addr_o(rd_req_addr[AddrW +: AddrW]), .req_beats_o(rd_req_beats[BeatsW +: BeatsW]),
    .rsp_valid_i(rd_rsp_valid && rd_rsp_client == 1'b1), .rsp_data_i(rd_rsp_data),
    .rsp_last_i(rd_rsp_last), .rsp_err_i(rd_rsp_err),
    .bank_we_o(ld_we), .bank_addr_o(ld_addr), .bank_data_o(ld_data), .busy_o(load_busy)
  );

  ks_store_engine #(.DataBytes(AxiBytes), .AddrW(AddrW), .BeatsW(BeatsW), .SramW(SramW)) u_store (
    .clk_i, .rst_ni, .abort_i(abort),
    .cmd_valid_i(store_valid), .cmd_ready_o(store_ready),
    .cmd_bank_i(store_cmd[XBankOff +: 3]), .cmd_sram_addr_i(store_cmd[XSramOff +: SramW]),
    .cmd_host_addr_i(store_cmd[XHostOff +: AddrW]), .cmd_rows_i(store_cmd[XRowsOff +: 16]),
    .cmd_beats_i(store_cmd[XBeatsOff +: BeatsW]), .cmd_host_stride_i(store_cmd[XHsOff +: AddrW]),
    .cmd_sram_stride_i(store_cmd[0 +: SramW]),
    .done_o(store_done), .err_o(store_err), .err_addr_o(store_err_addr),
    .req_valid_o(wr_req_valid[0]), .req_ready_i(wr_req_ready[0]),
    .req_addr_o(wr_req_addr[0 +: AddrW]), .req_beats_o(wr_req_beats[0 +: BeatsW]),
    .dat_valid_o(wr_dat_valid[0]), .dat_ready_i(wr_dat_ready[0]),
    .dat_data_o(wr_dat_data[0 +: DataW]), .wr_done_i(wr_done[0]), .wr_err_i(wr_err),
    .wr_err_addr_i(wr_err_addr),
    .bank_re_o(st_re), .bank_addr_o(st_addr), .bank_data_i(st_data), .busy_o(store_busy)
  );
  assign wr_dat_strb[0 +: AxiBytes] = '1;

  logic [15:0] macs;
  logic        mu_beat, stall_operand, stall_result;
  ks_compute_engine #(
    .Rows(Rows), .Cols(Cols), .AccDepth(AccDepth), .FifoDepth(FifoDepth),
    .WgtWordBytes(WgtWordBytes), .ActWordBytes(ActWordBytes), .AccWordBytes(AccWordBytes),
    .WgtWordW(WgtWordW), .ActWordW(ActWordW), .AccWordW(AccWordW), .MW(MW), .NbW(NbW), .NbgW(NbgW),
    .RowsW(RowsW), .KW(KW), .Int4Native(Int4Native)
  ) u_compute (
    .clk_i, .rst_ni, .abort_i(abort),
    .cmd_valid_i(mat_valid), .cmd_ready_o(mat_ready),
    .cmd_int4_i(mat_cmd[MInt4Off]), .cmd_m_i(mat_cmd[MMOff +: MW]), .cmd_nb_i(mat_cmd[MNbOff +: NbW]),
    .cmd_kc_i(mat_cmd[MKcOff +: NbW]), .cmd_kx_i(mat_cmd[MKxOff +: MW]),
    .cmd_wgt_i(mat_cmd[MWgtOff +: WgtWordW]), .cmd_act_i(mat_cmd[MActOff +: ActWordW]),
    .cmd_acc_i(mat_cmd[MAccOff +: AccWordW]), .cmd_rows_last_i(mat_cmd[MRlOff +: RowsW]),
    .cmd_k_last_i(mat_cmd[MKlOff +: KW]), .cmd_cpg_i(mat_cmd[MCpgOff +: NbW + 1]), .cmd_groups_i(mat_cmd[MGOff +: NbW]),
    .cmd_nbg_i(mat_cmd[0 +: NbgW]),
    .done_o(mat_done),
    .wgt_re_o(wgt_re), .wgt_addr_o(wgt_addr), .wgt_data_i(wgt_data),
    .act_re_o(act_re), .act_addr_o(act_addr), .act_data_i(act_data),
    .acc_we_o(acc_we), .acc_addr_o(acc_waddr), .acc_data_o(acc_wdata),
    .busy_o(mat_busy), .macs_o(macs), .beat_o(mu_beat), .stall_operand_o(stall_operand),
    .stall_result_o(stall_result)
  );

  // ---- performance counters -------------------------------------------------------------------
  function automatic logic [15:0] popcount(input logic [AxiBytes-1:0] v);
    popcount = '0;
    for (int i = 0; i < AxiBytes; i++) popcount = popcount + 16'(v[i]);
  endfunction
  always_comb begin
    ctr_inc = '0;
    ctr_inc[ks_regs_pkg::CtrCycles*16 +: 16]         = 16'd1;
    ctr_inc[ks_regs_pkg::CtrDescExecuted*16 +: 16]   = 16'(desc_done);
    ctr_inc[ks_regs_pkg::CtrMacs*16 +: 16]           = macs;
    ctr_inc[ks_regs_pkg::CtrMuBusy*16 +: 16]         = 16'(mu_beat);
    ctr_inc[ks_regs_pkg::CtrMuStallOperand*16 +: 16] = 16'(stall_operand);
    ctr_inc[ks_regs_pkg::CtrMuStallResult*16 +: 16]  = 16'(stall_result);
    ctr_inc[ks_regs_pkg::CtrMuIdle*16 +: 16]         = 16'(!mat_busy);
    ctr_inc[ks_regs_pkg::CtrLoadBusy*16 +: 16]       = 16'(load_busy);
    ctr_inc[ks_regs_pkg::CtrStoreBusy*16 +: 16]      = 16'(store_busy);
    ctr_inc[ks_regs_pkg::CtrTokenWait*16 +: 16]      = 16'(token_wait);
    ctr_inc[ks_regs_pkg::CtrDmaRdBeats*16 +: 16]     = 16'(m_axi_rvalid_i);
    ctr_inc[ks_regs_pkg::CtrDmaWrBeats*16 +: 16]     = 16'(m_axi_wvalid_o && m_axi_wready_i);
    ctr_inc[ks_regs_pkg::CtrBytesRead*16 +: 16]      = m_axi_rvalid_i ? 16'(AxiBytes) : 16'd0;
    ctr_inc[ks_regs_pkg::CtrBytesWritten*16 +: 16]   = (m_axi_wvalid_o && m_axi_wready_i) ?
                                                      popcount(m_axi_wstrb_o) : 16'd0;
    ctr_inc[ks_regs_pkg::CtrDmaRdWait*16 +: 16]      = 16'(rd_wait);
    ctr_inc[ks_regs_pkg::CtrDmaWrWait*16 +: 16]      = 16'(wr_wait);
    ctr_inc[ks_regs_pkg::CtrVecBusy*16 +: 16]        = 16'(vec_busy || vm_busy);
    ctr_inc[ks_regs_pkg::CtrDecSteps*16 +: 16]       = 16'(dec_step);
    ctr_inc[ks_regs_pkg::CtrStreamWait*16 +: 16]     = 16'(m_axis_tvalid_o && !m_axis_tready_i);
    ctr_inc[ks_regs_pkg::CtrCpFetch*16 +: 16]        = 16'(cp_wait[0]);
    ctr_inc[ks_regs_pkg::CtrCpFence*16 +: 16]        = 16'(cp_wait[1]);
    ctr_inc[ks_regs_pkg::CtrCpHeld*16 +: 16]         = 16'(cp_wait[2]);
  end

  logic unused;
  assign unused = ^{unused_nr_wgt, unused_nr_act, unused_wr_kv, unused_wr_acc, ld_addr, st_addr,
                   ld_we[2], st_re[1:0],  // LOAD never writes ACC; STORE never reads WGT/ACT
                   vec_bad};              // VEC instructions were checked before dispatch
endmodule

/// What a board holds around the core, independent of the FPGA family: the core, its device
/// memory (the core's AXI4 master and the host link share it), a FIFO that collects the core's
/// token stream, and the host link (ks_uart_rx/tx at ClkPerBit clocks per bit,
/// ks_uart_bridge). The board tops add clocking, reset and pins. uart_rx_i/uart_tx_o are the
/// UART lines (idle high); irq_o and busy_o are for LEDs.
///
/// Device memory: UseSdram = 0 puts MemBytes in on-chip RAM (ks_dev_mem: block RAM or SPRAM);
/// the sdram_* ports are then idle (outputs inactive, sdram_dq_i unused). UseSdram = 1 puts it
/// in an external 16-bit SDR SDRAM (ks_sdram_mem, up to 32 MiB) clocked by clk_i at
/// SdramClkKhz: sdram_* are the controller's registered pin signals, for the board's I/O
/// registers (ks_sdram_phy, ks_sdram_phy_ecp5), which also forward the SDRAM clock.
///
/// WithCore = 0 builds the host link and the device memory alone, for bringing up a board's
/// link where the core does not fit (the iCEBreaker today): every register access is then
/// answered SLVERR (the bridge's BUS_ERR), no DMA runs, no token comes, irq_o stays low.
module ks_board_soc #(
  parameter int unsigned Rows         = 2,
  parameter int unsigned Cols         = 4,
  parameter int unsigned AccDepth     = 256,
  parameter int unsigned FifoDepth    = 8,
  parameter int unsigned Int4Native   = 0,
  parameter int unsigned AxiBytes     = 8,
  parameter int unsigned DmaMaxReads  = 2,
  parameter int unsigned DmaMaxWrites = 2,
  parameter int unsigned MaxBurst     = 16,
  parameter int unsigned QueueDepth   = 1,
  parameter int unsigned WgtBytes     = 4096,
  parameter int unsigned ActBytes     = 1024,
  parameter int unsigned AccBytes     = 1024,
  parameter int unsigned KvBytes      = 1024,
  parameter int unsigned HasVector    = 0,
  parameter int unsigned VecLanes     = 0,
  parameter int unsigned VecRows      = 0,
  parameter int unsigned VecProgDepth = 0,
  parameter int unsigned VecHistRows  = 0,
  parameter int unsigned DecCache     = 0,
  parameter int unsigned CtrBits      = 32,
  parameter int unsigned CtrRam       = 1,
  parameter int unsigned CtrMask      = 32'hFFFF_FFFF,
  parameter int unsigned WgtWordBytes = 8,
  parameter int unsigned ActWordBytes = 8,
  parameter int unsigned AccWordBytes = 8,
  parameter int unsigned AddrW        = 32,      // the core's address width: MemBase + MemBytes <= 2^AddrW
  parameter int unsigned ErrDetail    = 1,       // ERR_INFO keeps each error's detail (ks_core)
  parameter int unsigned MemBytes     = 131072,      // device memory
  parameter logic [31:0] MemBase      = 32'h1000_0000,
  parameter int unsigned ClkPerBit    = 347,         // 40 MHz / 115200 baud
  parameter int unsigned IdleCycles   = 1 << 21,     // quiet line that ends a bad request
  parameter int unsigned TokDepth     = 4,           // token FIFO entries
  parameter bit          WithCore     = 1'b1,
  parameter bit          UseSdram     = 1'b0,        // device memory: on-chip RAM or SDRAM
  parameter int unsigned SdramClkKhz  = 150000,      // clk_i, for the SDRAM's timings
  parameter int unsigned SdramCl      = 3            // SDRAM CAS latency (2 or 3)
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        uart_rx_i,
  output logic        uart_tx_o,
  output logic        irq_o,
  output logic        busy_o,
  // SDRAM pin signals (UseSdram = 1)
  output logic        sdram_cke_o,
  output logic        sdram_cs_n_o,
  output logic        sdram_ras_n_o,
  output logic        sdram_cas_n_o,
  output logic        sdram_we_n_o,
  output logic [1:0]  sdram_ba_o,
  output logic [12:0] sdram_a_o,
  output logic [1:0]  sdram_dqm_o,
  output logic [15:0] sdram_dq_o,
  output logic        sdram_dq_oe_o,
  input  logic [15:0] sdram_dq_i
);
  localparam int unsigned RegAddrW = ks_regs_pkg::AddrBits;
  localparam int unsigned DataW    = AxiBytes * 8;
  localparam int unsigned WordW    = $clog2(MemBytes / AxiBytes);
  localparam int unsigned TokCntW  = $clog2(TokDepth + 1);

  // ---- core -----------------------------------------------------------------------------------
  logic                awvalid, awready, wvalid, wready, bvalid, bready, arvalid, arready, rvalid, rready;
  logic [RegAddrW-1:0] awaddr, araddr;
  logic [31:0]         wdata, rdata;
  logic [3:0]          wstrb;
  logic [1:0]          bresp, rresp;
  logic                m_arvalid, m_arready, m_rvalid, m_rready, m_rlast, m_awvalid, m_awready;
  logic                m_wvalid, m_wready, m_wlast, m_bvalid, m_bready;
  logic [31:0]         m_araddr, m_awaddr;
  logic [7:0]          m_arlen, m_awlen;
  logic [2:0]          m_arsize, m_awsize;
  logic [1:0]          m_arburst, m_awburst, m_rresp, m_bresp;
  logic [DataW-1:0]    m_rdata, m_wdata;
  logic [AxiBytes-1:0] m_wstrb;
  logic                s_tvalid, s_tready, s_tuser, s_tlast;
  logic [31:0]         s_tdata;

  if (WithCore) begin : g_core
    ks_core #(
      .Rows(Rows), .Cols(Cols), .AccDepth(AccDepth), .FifoDepth(FifoDepth), .Int4Native(Int4Native), .AxiBytes(AxiBytes),
      .DmaMaxReads(DmaMaxReads), .DmaMaxWrites(DmaMaxWrites), .MaxBurst(MaxBurst), .QueueDepth(QueueDepth), .WgtBytes(WgtBytes), .ActBytes(ActBytes),
      .AccBytes(AccBytes), .KvBytes(KvBytes), .HasVector(HasVector), .VecLanes(VecLanes), .VecRows(VecRows),
      .VecProgDepth(VecProgDepth), .VecHistRows(VecHistRows), .DecCache(DecCache), .CtrBits(CtrBits), .CtrRam(CtrRam), .CtrMask(CtrMask),
      .WgtWordBytes(WgtWordBytes), .ActWordBytes(ActWordBytes), .AccWordBytes(AccWordBytes), .AddrW(AddrW),
      .ErrDetail(ErrDetail)
    ) u_core (
      .clk_i, .rst_ni,
      .s_axil_awvalid_i(awvalid), .s_axil_awready_o(awready), .s_axil_awaddr_i(awaddr),
      .s_axil_wvalid_i(wvalid), .s_axil_wready_o(wready), .s_axil_wdata_i(wdata),
      .s_axil_wstrb_i(wstrb), .s_axil_bvalid_o(bvalid), .s_axil_bready_i(bready),
      .s_axil_bresp_o(bresp), .s_axil_arvalid_i(arvalid), .s_axil_arready_o(arready),
      .s_axil_araddr_i(araddr), .s_axil_rvalid_o(rvalid), .s_axil_rready_i(rready),
      .s_axil_rdata_o(rdata), .s_axil_rresp_o(rresp),
      .m_axi_arvalid_o(m_arvalid), .m_axi_arready_i(m_arready), .m_axi_araddr_o(m_araddr),
      .m_axi_arlen_o(m_arlen), .m_axi_arsize_o(m_arsize), .m_axi_arburst_o(m_arburst),
      .m_axi_rvalid_i(m_rvalid), .m_axi_rready_o(m_rready), .m_axi_rdata_i(m_rdata),
      .m_axi_rresp_i(m_rresp), .m_axi_rlast_i(m_rlast),
      .m_axi_awvalid_o(m_awvalid), .m_axi_awready_i(m_awready), .m_axi_awaddr_o(m_awaddr),
      .m_axi_awlen_o(m_awlen), .m_axi_awsize_o(m_awsize), .m_axi_awburst_o(m_awburst),
      .m_axi_wvalid_o(m_wvalid), .m_axi_wready_i(m_wready), .m_axi_wdata_o(m_wdata),
      .m_axi_wstrb_o(m_wstrb), .m_axi_wlast_o(m_wlast), .m_axi_bvalid_i(m_bvalid),
      .m_axi_bready_o(m_bready), .m_axi_bresp_i(m_bresp),
      .m_axis_tvalid_o(s_tvalid), .m_axis_tready_i(s_tready), .m_axis_tdata_o(s_tdata),
      .m_axis_tuser_o(s_tuser), .m_axis_tlast_o(s_tlast),
      .irq_o
    );
  end else begin : g_no_core
    // Registers: one access at a time, each answered SLVERR.
    logic bvalid_q, rvalid_q;
    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        bvalid_q <= 1'b0;
        rvalid_q <= 1'b0;
      end else begin
        if (awvalid && wvalid && !bvalid_q) bvalid_q <= 1'b1;
        else if (bready) bvalid_q <= 1'b0;
        if (arvalid && !rvalid_q) rvalid_q <= 1'b1;
        else if (rready) rvalid_q <= 1'b0;
      end
    end
    assign awready   = awvalid && wvalid && !bvalid_q;
    assign wready    = awready;
    assign bvalid    = bvalid_q;
    assign bresp     = 2'b10;
    assign arready   = arvalid && !rvalid_q;
    assign rvalid    = rvalid_q;
    assign rdata     = '0;
    assign rresp     = 2'b10;
    assign m_arvalid = 1'b0;
    assign m_araddr  = '0;
    assign m_arlen   = '0;
    assign m_arsize  = '0;
    assign m_arburst = '0;
    assign m_rready  = 1'b1;
    assign m_awvalid = 1'b0;
    assign m_awaddr  = '0;
    assign m_awlen   = '0;
    assign m_awsize  = '0;
    assign m_awburst = '0;
    assign m_wvalid  = 1'b0;
    assign m_wdata   = '0;
    assign m_wstrb   = '0;
    assign m_wlast   = 1'b0;
    assign m_bready  = 1'b1;
    assign s_tvalid  = 1'b0;
    assign s_tdata   = '0;
    assign s_tuser   = 1'b0;
    assign s_tlast   = 1'b0;
    assign irq_o     = 1'b0;
    logic unused_no_core;
    assign unused_no_core = ^{awaddr, araddr, wdata, wstrb, m_rdata, m_rresp, m_rlast, m_rvalid,
                              m_arready, m_awready, m_wready, m_bvalid, m_bresp, s_tready};
  end

  // ---- device memory --------------------------------------------------------------------------
  logic             h_req, h_gnt, h_we, h_rvalid;
  logic [WordW-1:0] h_addr;
  logic [DataW-1:0] h_wdata, h_rdata;
  logic [AxiBytes-1:0] h_wstrb;

  if (UseSdram) begin : g_sdram
    ks_sdram_mem #(
      .DataBytes(AxiBytes), .Bytes(MemBytes), .Base(MemBase), .ClkKhz(SdramClkKhz), .CasLatency(SdramCl)
    ) u_mem (
      .clk_i, .rst_ni,
      .arvalid_i(m_arvalid), .arready_o(m_arready), .araddr_i(m_araddr), .arlen_i(m_arlen),
      .rvalid_o(m_rvalid), .rready_i(m_rready), .rdata_o(m_rdata), .rresp_o(m_rresp), .rlast_o(m_rlast),
      .awvalid_i(m_awvalid), .awready_o(m_awready), .awaddr_i(m_awaddr), .awlen_i(m_awlen),
      .wvalid_i(m_wvalid), .wready_o(m_wready), .wdata_i(m_wdata), .wstrb_i(m_wstrb), .wlast_i(m_wlast),
      .bvalid_o(m_bvalid), .bready_i(m_bready), .bresp_o(m_bresp),
      .host_req_i(h_req), .host_gnt_o(h_gnt), .host_we_i(h_we), .host_addr_i(h_addr),
      .host_wdata_i(h_wdata), .host_wstrb_i(h_wstrb), .host_rvalid_o(h_rvalid), .host_rdata_o(h_rdata),
      .sd_cke_o(sdram_cke_o), .sd_cs_n_o(sdram_cs_n_o), .sd_ras_n_o(sdram_ras_n_o),
      .sd_cas_n_o(sdram_cas_n_o), .sd_we_n_o(sdram_we_n_o), .sd_ba_o(sdram_ba_o), .sd_a_o(sdram_a_o),
      .sd_dqm_o(sdram_dqm_o), .sd_dq_o(sdram_dq_o), .sd_dq_oe_o(sdram_dq_oe_o), .sd_dq_i(sdram_dq_i)
    );
  end else begin : g_ram
    // The core's rready (and the stub's) is always 1: no R queue in the device memory.
    ks_dev_mem #(.DataBytes(AxiBytes), .Bytes(MemBytes), .Base(MemBase), .RreadyAlways(1'b1)) u_mem (
      .clk_i, .rst_ni,
      .arvalid_i(m_arvalid), .arready_o(m_arready), .araddr_i(m_araddr), .arlen_i(m_arlen),
      .rvalid_o(m_rvalid), .rready_i(m_rready), .rdata_o(m_rdata), .rresp_o(m_rresp), .rlast_o(m_rlast),
      .awvalid_i(m_awvalid), .awready_o(m_awready), .awaddr_i(m_awaddr), .awlen_i(m_awlen),
      .wvalid_i(m_wvalid), .wready_o(m_wready), .wdata_i(m_wdata), .wstrb_i(m_wstrb), .wlast_i(m_wlast),
      .bvalid_o(m_bvalid), .bready_i(m_bready), .bresp_o(m_bresp),
      .host_req_i(h_req), .host_gnt_o(h_gnt), .host_we_i(h_we), .host_addr_i(h_addr),
      .host_wdata_i(h_wdata), .host_wstrb_i(h_wstrb), .host_rvalid_o(h_rvalid), .host_rdata_o(h_rdata)
    );
    // No SDRAM: the pins stay inactive (INHIBIT, data masked, bus released).
    assign sdram_cke_o   = 1'b0;
    assign sdram_cs_n_o  = 1'b1;
    assign sdram_ras_n_o = 1'b1;
    assign sdram_cas_n_o = 1'b1;
    assign sdram_we_n_o  = 1'b1;
    assign sdram_ba_o    = '0;
    assign sdram_a_o     = '0;
    assign sdram_dqm_o   = 2'b11;
    assign sdram_dq_o    = '0;
    assign sdram_dq_oe_o = 1'b0;
    logic unused_sdram;
    assign unused_sdram = ^{sdram_dq_i};
  end

  // ---- token FIFO -----------------------------------------------------------------------------
  logic               tok_valid, tok_ready;
  logic [33:0]        tok_data;
  logic [TokCntW-1:0] tok_count;
  // Only a core with the vector unit has the DECODE token streamer; without it (or without a
  // core) the bridge finds no token.
  if (WithCore && HasVector != 0) begin : g_tok
    ks_fifo #(.Width(34), .Depth(TokDepth)) u_tok (
      .clk_i, .rst_ni,
      .in_valid_i(s_tvalid), .in_ready_o(s_tready), .in_data_i({s_tlast, s_tuser, s_tdata}),
      .out_valid_o(tok_valid), .out_ready_i(tok_ready), .out_data_o(tok_data), .count_o(tok_count)
    );
  end else begin : g_no_tok
    assign s_tready  = 1'b1;
    assign tok_valid = 1'b0;
    assign tok_data  = '0;
    assign tok_count = '0;
    logic unused_tok;
    assign unused_tok = ^{s_tvalid, s_tlast, s_tuser, s_tdata, tok_ready};
  end

  // ---- host link ------------------------------------------------------------------------------
  logic       rx_valid, rx_ready, rx_frame_err, rx_overrun, tx_valid, tx_ready;
  logic [7:0] rx_data, tx_data;
  // Two bytes of queue behind the receiver (and the bridge's input register): the host sends
  // one request at a time and the bridge takes each byte within a few cycles of a byte time.
  ks_uart_rx #(.ClkPerBit(ClkPerBit), .FifoDepth(2)) u_rx (
    .clk_i, .rst_ni, .rx_i(uart_rx_i), .out_valid_o(rx_valid), .out_ready_i(rx_ready),
    .out_data_o(rx_data), .frame_err_o(rx_frame_err), .overrun_o(rx_overrun)
  );
  // A one-byte queue before the transmitter: the bridge sees a registered ready (and offers
  // a byte at most every other cycle, a transmitter takes one per byte time).
  logic       txq_valid, txq_ready;
  logic [7:0] txq_data;
  ks_fifo #(.Width(8), .Depth(1)) u_txq (
    .clk_i, .rst_ni, .in_valid_i(tx_valid), .in_ready_o(tx_ready), .in_data_i(tx_data),
    .out_valid_o(txq_valid), .out_ready_i(txq_ready), .out_data_o(txq_data), .count_o()
  );
  ks_uart_tx #(.ClkPerBit(ClkPerBit)) u_tx (
    .clk_i, .rst_ni, .in_valid_i(txq_valid), .in_ready_o(txq_ready), .in_data_i(txq_data), .tx_o(uart_tx_o)
  );

  ks_uart_bridge #(
    .DataBytes(AxiBytes), .MemBytes(MemBytes), .MemBase(MemBase), .RegAddrW(RegAddrW),
    .IdleCycles(IdleCycles), .TokCountW(TokCntW)
  ) u_bridge (
    .clk_i, .rst_ni,
    .rx_valid_i(rx_valid), .rx_ready_o(rx_ready), .rx_data_i(rx_data),
    .rx_err_i(rx_frame_err || rx_overrun),
    .tx_valid_o(tx_valid), .tx_ready_i(tx_ready), .tx_data_o(tx_data),
    .m_awvalid_o(awvalid), .m_awready_i(awready), .m_awaddr_o(awaddr), .m_wvalid_o(wvalid),
    .m_wready_i(wready), .m_wdata_o(wdata), .m_wstrb_o(wstrb), .m_bvalid_i(bvalid),
    .m_bready_o(bready), .m_bresp_i(bresp), .m_arvalid_o(arvalid), .m_arready_i(arready),
    .m_araddr_o(araddr), .m_rvalid_i(rvalid), .m_rready_o(rready), .m_rdata_i(rdata),
    .m_rresp_i(rresp),
    .mem_req_o(h_req), .mem_gnt_i(h_gnt), .mem_we_o(h_we), .mem_addr_o(h_addr), .mem_wdata_o(h_wdata),
    .mem_wstrb_o(h_wstrb), .mem_rvalid_i(h_rvalid), .mem_rdata_i(h_rdata),
    .tok_valid_i(tok_valid), .tok_ready_o(tok_ready), .tok_data_i(tok_data), .tok_count_i(tok_count),
    .irq_i(irq_o)
  );

  assign busy_o = m_arvalid || m_awvalid || m_rvalid || m_wvalid;

  logic unused;
  assign unused = ^{m_arsize, m_arburst, m_awsize, m_awburst};
`ifdef VERILATOR
  if (64'(MemBase) + 64'(MemBytes) > (64'd1 << AddrW)) begin : g_bad_mem_base
    $error("ks_board_soc: device memory past the core's address space (MemBase + MemBytes > 2^AddrW)");
  end
`endif
endmodule

/// The board's device memory in SDR SDRAM: the external interface and semantics of ks_dev_mem
/// (an AXI4 slave for the core's memory master, a host port for the UART bridge), served by
/// ks_sdram_ctrl. One AXI beat or host word (DataBytes) is one SDRAM access of DataBytes / 2
/// words, a programmed burst; beat index i lives at {row, bank, column block} = i, so a
/// sequential stream walks a row's columns, then the next bank, then the next row.
///
/// AXI4: one ID, INCR bursts of full-width beats (AxSIZE and AxBURST are not decoded; WSTRB
/// becomes DQM). One read burst and one write burst are served at a time. Their beats take
/// turns a whole burst at a time (after a burst's last beat the other side goes first), but a
/// side with no beat ready never holds the other up. A burst that is not wholly inside
/// [Base, Base + Bytes) answers DECERR on every beat (reads return zeros) and touches nothing.
/// R beats leave through an RqDepth-entry queue; a read beat is asked of the SDRAM only when
/// the queue has room for it and every read beat still in flight, so with rready high a read
/// burst streams at the SDRAM's rate. B follows the last W beat once that beat is taken into
/// the request register before the controller, which serves requests in order: every later
/// read, from either port, sees it.
///
/// Host port: one word per request. host_req_i and its fields are held until host_gnt_o (the
/// host goes ahead of the AXI side); a read's data comes back later with host_rvalid_o (one
/// cycle). host_addr_i is a word index, inside the memory by contract. SDRAM pins (sd_*): the
/// controller's registered outputs, for the I/O cells (ks_sdram_phy / ks_sdram_phy_ecp5).
`include "ks_assert.svh"

module ks_sdram_mem #(
  parameter int unsigned DataBytes  = 16,
  parameter int unsigned Bytes      = 32 * 1024 * 1024,
  parameter logic [31:0] Base       = 32'h1000_0000,
  parameter int unsigned AddrW      = 32,
  parameter int unsigned ClkKhz     = 150000,
  parameter int unsigned CasLatency = 3,
  parameter int unsigned RowBits    = 13,
  parameter int unsigned ColBits    = 9,
  parameter int unsigned RqDepth    = 8,
  parameter int unsigned Words      = Bytes / DataBytes,
  parameter int unsigned WordW      = $clog2(Words)
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // AXI4 slave
  input  logic                   arvalid_i,
  output logic                   arready_o,
  input  logic [AddrW-1:0]       araddr_i,
  input  logic [7:0]             arlen_i,
  output logic                   rvalid_o,
  input  logic                   rready_i,
  output logic [DataBytes*8-1:0] rdata_o,
  output logic [1:0]             rresp_o,
  output logic                   rlast_o,
  input  logic                   awvalid_i,
  output logic                   awready_o,
  input  logic [AddrW-1:0]       awaddr_i,
  input  logic [7:0]             awlen_i,
  input  logic                   wvalid_i,
  output logic                   wready_o,
  input  logic [DataBytes*8-1:0] wdata_i,
  input  logic [DataBytes-1:0]   wstrb_i,
  input  logic                   wlast_i,
  output logic                   bvalid_o,
  input  logic                   bready_i,
  output logic [1:0]             bresp_o,
  // Host port
  input  logic                   host_req_i,
  output logic                   host_gnt_o,
  input  logic                   host_we_i,
  input  logic [WordW-1:0]       host_addr_i,
  input  logic [DataBytes*8-1:0] host_wdata_i,
  input  logic [DataBytes-1:0]   host_wstrb_i,
  output logic                   host_rvalid_o,
  output logic [DataBytes*8-1:0] host_rdata_o,
  // SDRAM pins (registered)
  output logic                   sd_cke_o,
  output logic                   sd_cs_n_o,
  output logic                   sd_ras_n_o,
  output logic                   sd_cas_n_o,
  output logic                   sd_we_n_o,
  output logic [1:0]             sd_ba_o,
  output logic [12:0]            sd_a_o,
  output logic [1:0]             sd_dqm_o,
  output logic [15:0]            sd_dq_o,
  output logic                   sd_dq_oe_o,
  input  logic [15:0]            sd_dq_i
);
  localparam int unsigned DataW      = DataBytes * 8;
  localparam int unsigned OffW       = $clog2(DataBytes);
  localparam int unsigned Burst      = DataBytes / 2;
  localparam int unsigned CtrlAddrW  = RowBits + 2 + ColBits - $clog2(Burst);
  localparam int unsigned RqCntW     = $clog2(RqDepth + 1);
  localparam logic [1:0]  RespOk     = 2'b00;
  localparam logic [1:0]  RespDecErr = 2'b11;

  /// Is the burst [addr, addr + beats * DataBytes) inside the memory? For a power-of-two size
  /// at an aligned base (the boards): the upper address bits name the memory, and the burst's
  /// last byte offset, {len, all ones} past the start, must not carry out of the size (one
  /// short carry chain instead of a subtraction, an addition and a comparison).
  localparam int unsigned SizeW   = $clog2(Bytes);
  localparam bit          Aligned = (Bytes == (1 << SizeW)) && (Base % Bytes == 0) && SizeW < AddrW;
  function automatic logic in_range(input logic [AddrW-1:0] addr, input logic [7:0] len);
    logic [AddrW:0] off, last;
    logic [SizeW:0] end_off;
    if (Aligned) begin
      end_off  = {1'b0, addr[SizeW-1:0]} + (SizeW + 1)'({len, {OffW{1'b1}}});
      in_range = addr[AddrW-1:SizeW] == Base[AddrW-1:SizeW] && !end_off[SizeW];
    end else begin
      off      = {1'b0, addr} - {1'b0, AddrW'(Base)};
      last     = off + (AddrW + 1)'((32'(len) + 1) * DataBytes);
      in_range = addr >= AddrW'(Base) && last <= (AddrW + 1)'(Bytes);
    end
  endfunction

  function automatic logic [WordW-1:0] word_of(input logic [AddrW-1:0] addr);
    word_of = WordW'((addr - AddrW'(Base)) >> OffW);
  endfunction

  // ---- read side ------------------------------------------------------------------------------
  logic              rd_active_q, rd_err_q, rd_want, rd_err_go, rd_space;
  logic [WordW-1:0]  rd_addr_q;
  logic [7:0]        rd_left_q;       // beats still to ask for, minus one
  logic [RqCntW-1:0] inflight_q;      // read beats asked of the controller, not yet back
  logic [RqCntW-1:0] credit_q;        // R queue entries neither filled nor promised
  logic              rq_ready, rq_pop;
  logic [RqCntW-1:0] rq_count;

  assign arready_o = !rd_active_q;
  assign rd_space  = credit_q != '0;
  assign rd_want   = rd_active_q && !rd_err_q && rd_space;
  // An erroneous burst's beats go straight into the R queue, once nothing is in flight ahead.
  assign rd_err_go = rd_active_q && rd_err_q && inflight_q == '0 && rd_space;
  assign rq_pop    = rvalid_o && rready_i;

  // ---- write side -----------------------------------------------------------------------------
  logic             wr_active_q, wr_err_q, b_pending_q, wr_want, wr_err_take;
  logic [WordW-1:0] wr_addr_q;
  logic [1:0]       bresp_q;

  assign awready_o   = !wr_active_q && !b_pending_q;
  assign wr_want     = wr_active_q && !wr_err_q && wvalid_i;
  assign wr_err_take = wr_active_q && wr_err_q && wvalid_i;
  assign bvalid_o    = b_pending_q;
  assign bresp_o     = bresp_q;

  // ---- requests to the controller: host first, then read and write bursts in turns ------------
  // The chosen request goes into a register (c_*_q) first, which the controller's queue takes
  // when it has room: the choice is made from registers and the AXI inputs, and ends in flops.
  logic                 c_ready, c_free, grant_host, grant_rd, grant_wr, prefer_wr_q;
  logic                 c_valid, c_we;
  logic [CtrlAddrW-1:0] c_addr;
  logic [DataW-1:0]     c_wdata;
  logic [DataBytes-1:0] c_wstrb;
  logic [1:0]           c_tag;          // {host, last beat of an AXI read burst}
  logic                 c_valid_q, c_we_q;
  logic [CtrlAddrW-1:0] c_addr_q;
  logic [DataW-1:0]     c_wdata_q;
  logic [DataBytes-1:0] c_wstrb_q;
  logic [1:0]           c_tag_q;
  assign c_free     = !c_valid_q || c_ready;
  assign grant_host = host_req_i && c_free;
  assign grant_wr   = !host_req_i && c_free && wr_want && (prefer_wr_q || !rd_want);
  assign grant_rd   = !host_req_i && c_free && rd_want && (!prefer_wr_q || !wr_want);
  assign host_gnt_o = grant_host;
  assign wready_o   = grant_wr || wr_err_take;

  always_comb begin
    c_valid = grant_host || grant_rd || grant_wr;
    c_we    = grant_wr;
    c_addr  = grant_wr ? CtrlAddrW'(wr_addr_q) : CtrlAddrW'(rd_addr_q);
    c_wdata = wdata_i;
    c_wstrb = wstrb_i;
    c_tag   = {1'b0, rd_left_q == '0};
    if (host_req_i) begin
      c_we    = host_we_i;
      c_addr  = CtrlAddrW'(host_addr_i);
      c_wdata = host_wdata_i;
      c_wstrb = host_wstrb_i;
      c_tag   = 2'b10;
    end
  end

  logic             rsp_valid;
  logic [DataW-1:0] rsp_data;
  logic [1:0]       rsp_tag;
  ks_sdram_ctrl #(
    .ClkKhz(ClkKhz), .CasLatency(CasLatency), .Burst(Burst), .RowBits(RowBits), .ColBits(ColBits),
    .TagW(2)
  ) u_ctrl (
    .clk_i, .rst_ni,
    .req_valid_i(c_valid_q), .req_ready_o(c_ready), .req_we_i(c_we_q), .req_addr_i(c_addr_q),
    .req_wdata_i(c_wdata_q), .req_wstrb_i(c_wstrb_q), .req_tag_i(c_tag_q),
    .rsp_valid_o(rsp_valid), .rsp_data_o(rsp_data), .rsp_tag_o(rsp_tag), .init_done_o(),
    .sd_cke_o, .sd_cs_n_o, .sd_ras_n_o, .sd_cas_n_o, .sd_we_n_o, .sd_ba_o, .sd_a_o, .sd_dqm_o,
    .sd_dq_o, .sd_dq_oe_o, .sd_dq_i
  );

  logic axi_rsp;
  assign axi_rsp = rsp_valid && !rsp_tag[1];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      rd_active_q <= 1'b0;
      inflight_q  <= '0;
      credit_q    <= RqCntW'(RqDepth);
      c_valid_q   <= 1'b0;
      wr_active_q <= 1'b0;
      b_pending_q <= 1'b0;
      prefer_wr_q <= 1'b0;
    end else begin
      inflight_q <= inflight_q + RqCntW'(grant_rd) - RqCntW'(axi_rsp);
      credit_q   <= credit_q - RqCntW'(grant_rd || rd_err_go) + RqCntW'(rq_pop);
      if (c_free) c_valid_q <= c_valid;
      if (grant_rd) prefer_wr_q <= rd_left_q == '0;   // after a read burst, writes first
      if (grant_wr) prefer_wr_q <= !wlast_i;          // after a write burst, reads first
      if (arvalid_i && arready_o) begin
        rd_active_q <= 1'b1;
      end else if ((grant_rd || rd_err_go) && rd_left_q == '0) begin
        rd_active_q <= 1'b0;
      end
      if (awvalid_i && awready_o) begin
        wr_active_q <= 1'b1;
      end else if (wready_o && wlast_i) begin
        wr_active_q <= 1'b0;
        b_pending_q <= 1'b1;
      end else if (b_pending_q && bready_i) begin
        b_pending_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (arvalid_i && arready_o) begin
      rd_addr_q <= word_of(araddr_i);
      rd_left_q <= arlen_i;
      rd_err_q  <= !in_range(araddr_i, arlen_i);
    end else if (grant_rd || rd_err_go) begin
      rd_addr_q <= rd_addr_q + 1'b1;
      rd_left_q <= rd_left_q - 1'b1;
    end
    if (awvalid_i && awready_o) begin
      wr_addr_q <= word_of(awaddr_i);
      wr_err_q  <= !in_range(awaddr_i, awlen_i);
    end else if (grant_wr) begin
      wr_addr_q <= wr_addr_q + 1'b1;
    end
    if (wready_o && wlast_i) bresp_q <= wr_err_q ? RespDecErr : RespOk;
    if (c_free) begin
      c_we_q    <= c_we;
      c_addr_q  <= c_addr;
      c_wdata_q <= c_wdata;
      c_wstrb_q <= c_wstrb;
      c_tag_q   <= c_tag;
    end
  end

  // R queue: {last, err, data}, from the controller's read responses or an erroneous burst.
  logic [DataW+1:0] rq_out;
  ks_fifo #(.Width(DataW + 2), .Depth(RqDepth)) u_rq (
    .clk_i, .rst_ni,
    .in_valid_i (axi_rsp || rd_err_go),
    .in_ready_o (rq_ready),
    .in_data_i  (rd_err_go ? {rd_left_q == '0, 1'b1, DataW'(0)} : {rsp_tag[0], 1'b0, rsp_data}),
    .out_valid_o(rvalid_o),
    .out_ready_i(rready_i),
    .out_data_o (rq_out),
    .count_o    (rq_count)
  );
  assign rlast_o = rq_out[DataW+1];
  assign rresp_o = rq_out[DataW] ? RespDecErr : RespOk;
  assign rdata_o = rq_out[DataW-1:0];

  assign host_rvalid_o = rsp_valid && rsp_tag[1];
  assign host_rdata_o  = rsp_data;

`ifndef SYNTHESIS
  initial begin
    if (DataBytes != 2 && DataBytes != 4 && DataBytes != 8 && DataBytes != 16)
      $fatal(1, "ks_sdram_mem: DataBytes must be 2, 4, 8 or 16 (one SDRAM burst of 1..8 words)");
    if (WordW > CtrlAddrW) $fatal(1, "ks_sdram_mem: %0d bytes do not fit the SDRAM geometry", Bytes);
  end
`endif
  `KS_ASSERT(rq_never_overflows, axi_rsp |-> rq_ready)
  `KS_ASSERT(inflight_bounded, 32'(inflight_q) <= RqDepth)
  `KS_ASSERT(credits_account_for_the_queue, 32'(credit_q) + 32'(inflight_q) + 32'(rq_count) == RqDepth)
  `KS_ASSERT(error_beats_not_behind_reads, rd_err_go |-> !axi_rsp)
  `KS_ASSERT(wlast_ends_burst_only_when_active, (wvalid_i && wready_o) |-> wr_active_q)
  `KS_ASSERT(host_request_held, (host_req_i && !host_gnt_o) |=> host_req_i)
endmodule

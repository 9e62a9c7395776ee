/// DMA read side: an AXI4 master read channel shared by NumClients requesters.
///
/// A client asks for `beats` full-width beats from a byte address aligned to DataBytes
/// (req valid/ready). The request is cut into INCR bursts of at most MaxBurst beats that
/// never cross a 4 KiB boundary, and up to MaxOutstanding bursts are in flight. Data come
/// back in request order on rsp_*: one beat per cycle with no backpressure (rready is
/// always 1, the clients must take every beat), tagged with the client, `last` on the
/// request's final beat, and `err` on beats answered SLVERR or DECERR (the beat's data are
/// then meaningless; the request still completes). Clients are served round robin, one
/// request at a time in the address phase.
`include "ks_assert.svh"

module ks_dma_rd #(
  parameter int unsigned NumClients     = 2,
  parameter int unsigned DataBytes      = 8,
  parameter int unsigned AddrW          = 32,
  parameter int unsigned BeatsW         = 24,
  parameter int unsigned MaxBurst       = 16,
  parameter int unsigned MaxOutstanding = 4,
  parameter int unsigned ClientW        = (NumClients > 1) ? $clog2(NumClients) : 1
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,
  // Requests
  input  logic [NumClients-1:0]         req_valid_i,
  output logic [NumClients-1:0]         req_ready_o,
  input  logic [NumClients*AddrW-1:0]   req_addr_i,
  input  logic [NumClients*BeatsW-1:0]  req_beats_i,
  // Responses (no backpressure)
  output logic                          rsp_valid_o,
  output logic [ClientW-1:0]            rsp_client_o,
  output logic [DataBytes*8-1:0]        rsp_data_o,
  output logic                          rsp_last_o,
  output logic                          rsp_err_o,
  // AXI4 read address and data channels
  output logic                          arvalid_o,
  input  logic                          arready_i,
  output logic [AddrW-1:0]              araddr_o,
  output logic [7:0]                    arlen_o,
  output logic [2:0]                    arsize_o,
  output logic [1:0]                    arburst_o,
  input  logic                          rvalid_i,
  output logic                          rready_o,
  input  logic [DataBytes*8-1:0]        rdata_i,
  input  logic [1:0]                    rresp_i,
  input  logic                          rlast_i,
  // Status
  output logic                          busy_o,
  output logic                          wait_o   // a burst is outstanding but no beat arrives
);
  `include "ks_cmp.svh"
  localparam int unsigned LaneW = $clog2(DataBytes);
  localparam int unsigned OutW  = $clog2(MaxOutstanding + 1);
  localparam int unsigned PageBeats = 4096 / DataBytes;

  // ---- request being cut into bursts ------------------------------------------------------
  logic               active_q;
  logic [ClientW-1:0] client_q;
  logic [AddrW-1:0]   addr_q;
  logic [BeatsW-1:0]  left_q;
  logic [OutW-1:0]    outstanding_q;

  // Clients take turns (round robin), one request at a time.
  logic               pick_valid;
  logic [ClientW-1:0] pick;
  ks_rr_arbiter #(.N(NumClients)) u_arb (
    .clk_i, .rst_ni, .req_i(req_valid_i), .take_i(!active_q), .valid_o(pick_valid), .idx_o(pick)
  );

  always_comb begin
    req_ready_o = '0;
    if (!active_q && pick_valid) begin
      req_ready_o[pick] = 1'b1;
    end
  end

  // Burst length: up to MaxBurst, up to the request's end, up to the 4 KiB boundary.
  logic [BeatsW-1:0] to_page, burst;
  assign to_page = BeatsW'(PageBeats) - BeatsW'(addr_q[11:LaneW]);
  always_comb begin
    burst = left_q;
    if (ks_gt_const(64'(burst), 64'(MaxBurst))) burst = BeatsW'(MaxBurst);
    if (burst > to_page) burst = to_page;
  end

  // Burst bookkeeping for the R channel: client and whether it ends the request.
  logic bq_push, bq_pop, bq_ready, bq_valid;
  logic [ClientW:0] bq_head;
  logic ar_fire, r_fire;

  assign arvalid_o = active_q && (outstanding_q < OutW'(MaxOutstanding)) && bq_ready;
  assign araddr_o  = addr_q;
  assign arlen_o   = 8'(burst - 1'b1);
  assign arsize_o  = 3'(LaneW);
  assign arburst_o = 2'b01;
  assign ar_fire   = arvalid_o && arready_i;
  assign bq_push   = ar_fire;

  ks_fifo #(.Width(ClientW + 1), .Depth(MaxOutstanding)) u_bursts (
    .clk_i, .rst_ni,
    .in_valid_i (bq_push),
    .in_ready_o (bq_ready),
    .in_data_i  ({client_q, burst == left_q}),
    .out_valid_o(bq_valid),
    .out_ready_i(bq_pop),
    .out_data_o (bq_head),
    .count_o    ()
  );

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      active_q <= 1'b0;
    end else if (!active_q) begin
      if (pick_valid) begin
        active_q <= 1'b1;
      end
    end else if (ar_fire && burst == left_q) begin
      active_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (!active_q && pick_valid) begin
      client_q <= pick;
      addr_q   <= req_addr_i[pick*AddrW +: AddrW];
      left_q   <= req_beats_i[pick*BeatsW +: BeatsW];
    end else if (ar_fire) begin
      addr_q <= addr_q + AddrW'({burst, {LaneW{1'b0}}});
      left_q <= left_q - burst;
    end
  end

  // ---- R channel ---------------------------------------------------------------------------
  assign rready_o     = 1'b1;
  assign r_fire       = rvalid_i;
  assign bq_pop       = r_fire && rlast_i;
  assign rsp_valid_o  = r_fire;
  assign rsp_client_o = bq_head[ClientW:1];
  assign rsp_data_o   = rdata_i;
  assign rsp_last_o   = rlast_i && bq_head[0];
  assign rsp_err_o    = rresp_i[1];  // SLVERR or DECERR; OKAY and EXOKAY are success
  logic unused_rresp;
  assign unused_rresp = rresp_i[0];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      outstanding_q <= '0;
    end else begin
      outstanding_q <= outstanding_q + OutW'(ar_fire) - OutW'(bq_pop);
    end
  end

  assign busy_o = active_q || (outstanding_q != '0);
  assign wait_o = (outstanding_q != '0) && !rvalid_i;

  `KS_ASSERT(r_has_burst_a, !rvalid_i || bq_valid)
  `KS_ASSERT(req_aligned_a, !(req_valid_i[pick] && req_ready_o[pick]) ||
                            req_addr_i[pick*AddrW +: LaneW] == '0)
  `KS_ASSERT(req_nonzero_a, !(req_valid_i[pick] && req_ready_o[pick]) ||
                            req_beats_i[pick*BeatsW +: BeatsW] != '0)
  `KS_ASSERT(burst_in_page_a, !arvalid_o || (32'(addr_q[11:0]) + 32'(burst) * DataBytes) <= 4096)
endmodule

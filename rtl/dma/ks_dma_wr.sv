/// DMA write side: an AXI4 master write channel shared by NumClients writers.
///
/// A client asks to write `beats` full-width beats from a byte address aligned to
/// DataBytes (req valid/ready), then streams exactly that many beats with byte strobes on
/// its data channel (valid/ready). The request is cut into INCR bursts of at most MaxBurst
/// beats that never cross a 4 KiB boundary; AW runs ahead of W by up to MaxOutstanding
/// bursts. When every burst of the request has its B response, done_o pulses for the
/// client with err_o set if any response was SLVERR or DECERR. One request at a time is
/// in the address/data phase; responses of earlier requests may still be pending.
///
/// abort_i (queue reset): the current request's remaining W beats are sent with no byte
/// enabled instead of taking client data, so the bus transaction completes harmlessly.
`include "ks_assert.svh"

module ks_dma_wr #(
  parameter int unsigned NumClients     = 2,
  parameter int unsigned DataBytes      = 8,
  parameter int unsigned AddrW          = 32,
  parameter int unsigned BeatsW         = 24,
  parameter int unsigned MaxBurst       = 16,
  parameter int unsigned MaxOutstanding = 4,
  parameter int unsigned ClientW        = (NumClients > 1) ? $clog2(NumClients) : 1
) (
  input  logic                             clk_i,
  input  logic                             rst_ni,
  input  logic                             abort_i,
  // Requests
  input  logic [NumClients-1:0]            req_valid_i,
  output logic [NumClients-1:0]            req_ready_o,
  input  logic [NumClients*AddrW-1:0]      req_addr_i,
  input  logic [NumClients*BeatsW-1:0]     req_beats_i,
  // Data of the active request (from its client)
  input  logic [NumClients-1:0]            dat_valid_i,
  output logic [NumClients-1:0]            dat_ready_o,
  input  logic [NumClients*DataBytes*8-1:0] dat_data_i,
  input  logic [NumClients*DataBytes-1:0]  dat_strb_i,
  // Completion
  output logic [NumClients-1:0]            done_o,
  output logic                             err_o,
  output logic [AddrW-1:0]                 err_addr_o,
  // AXI4 write channels
  output logic                             awvalid_o,
  input  logic                             awready_i,
  output logic [AddrW-1:0]                 awaddr_o,
  output logic [7:0]                       awlen_o,
  output logic [2:0]                       awsize_o,
  output logic [1:0]                       awburst_o,
  output logic                             wvalid_o,
  input  logic                             wready_i,
  output logic [DataBytes*8-1:0]           wdata_o,
  output logic [DataBytes-1:0]             wstrb_o,
  output logic                             wlast_o,
  input  logic                             bvalid_i,
  output logic                             bready_o,
  input  logic [1:0]                       bresp_i,
  // Status
  output logic                             busy_o,
  output logic                             wait_o
);
  `include "ks_cmp.svh"
  localparam int unsigned LaneW = $clog2(DataBytes);
  localparam int unsigned PageBeats = 4096 / DataBytes;
  localparam int unsigned OutW = $clog2(MaxOutstanding + 1);

  // ---- address phase ------------------------------------------------------------------------
  logic               active_q, aw_done_q;
  logic [ClientW-1:0] client_q;
  logic [AddrW-1:0]   addr_q;
  logic [BeatsW-1:0]  left_q;

  // Clients take turns (round robin), one request at a time.
  logic               pick_valid;
  logic [ClientW-1:0] pick;
  ks_rr_arbiter #(.N(NumClients)) u_arb (
    .clk_i, .rst_ni, .req_i(req_valid_i), .take_i(!active_q && !abort_i), .valid_o(pick_valid), .idx_o(pick)
  );

  // The next request may start once the previous one's data have all been sent.
  logic w_idle;
  always_comb begin
    req_ready_o = '0;
    if (!active_q && pick_valid && !abort_i) begin
      req_ready_o[pick] = 1'b1;
    end
  end

  logic [BeatsW-1:0] to_page, burst;
  assign to_page = BeatsW'(PageBeats) - BeatsW'(addr_q[11:LaneW]);
  always_comb begin
    burst = left_q;
    if (ks_gt_const(64'(burst), 64'(MaxBurst))) burst = BeatsW'(MaxBurst);
    if (burst > to_page) burst = to_page;
  end

  // Bursts issued on AW wait here for their W beats ({beats-1, last of request}).
  logic wq_push, wq_ready, wq_valid, wq_pop;
  logic [7:0] wq_len;
  logic wq_last;
  // Bursts whose W beats are all sent wait here for B.
  logic bq_push, bq_ready, bq_valid, bq_pop;
  logic bq_last;
  logic [ClientW-1:0] bq_client;
  // Every burst's address, from AW to B (for the error address): one queue for both, as at
  // most MaxOutstanding bursts are between AW and B (unanswered_q).
  logic [AddrW-1:0] bq_addr;
  logic aq_ready;
  logic [OutW-1:0] unanswered_q;

  // A named signal, not a cast inside the port's concatenation: Yosys 0.23 sizes such a
  // cast by its operand (24 bits here) and then truncates the concatenation.
  logic [7:0] burst_len;
  assign burst_len = 8'(burst - 1'b1);
  assign awvalid_o = active_q && !aw_done_q && wq_ready && (unanswered_q < OutW'(MaxOutstanding));
  assign awaddr_o  = addr_q;
  assign awlen_o   = burst_len;
  assign awsize_o  = 3'(LaneW);
  assign awburst_o = 2'b01;
  assign wq_push   = awvalid_o && awready_i;

  ks_fifo #(.Width(8 + 1), .Depth(MaxOutstanding)) u_wq (
    .clk_i, .rst_ni,
    .in_valid_i (wq_push),
    .in_ready_o (wq_ready),
    .in_data_i  ({burst_len, burst == left_q}),
    .out_valid_o(wq_valid),
    .out_ready_i(wq_pop),
    .out_data_o ({wq_len, wq_last}),
    .count_o    ()
  );
  ks_fifo #(.Width(AddrW), .Depth(MaxOutstanding)) u_aq (
    .clk_i, .rst_ni,
    .in_valid_i (wq_push),
    .in_ready_o (aq_ready),
    .in_data_i  (addr_q),
    .out_valid_o(),
    .out_ready_i(bq_pop),
    .out_data_o (bq_addr),
    .count_o    ()
  );

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      active_q  <= 1'b0;
      aw_done_q <= 1'b0;
    end else if (!active_q) begin
      if (pick_valid && !abort_i) begin
        active_q  <= 1'b1;
        aw_done_q <= 1'b0;
      end
    end else begin
      if (wq_push && burst == left_q) begin
        aw_done_q <= 1'b1;
      end
      // Done with the request once its last burst's data are sent.
      if (wq_pop && wq_last) begin
        active_q <= 1'b0;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!active_q && pick_valid) begin
      client_q <= pick;
      addr_q   <= req_addr_i[pick*AddrW +: AddrW];
      left_q   <= req_beats_i[pick*BeatsW +: BeatsW];
    end else if (wq_push) begin
      addr_q <= addr_q + AddrW'({burst, {LaneW{1'b0}}});
      left_q <= left_q - burst;
    end
  end

  // ---- W channel ----------------------------------------------------------------------------
  logic [7:0] beat_q;
  logic w_fire, flush_q;
  // After an abort the rest of the request goes out with no byte enabled.
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      flush_q <= 1'b0;
    end else if (abort_i && active_q) begin
      flush_q <= 1'b1;
    end else if (!active_q) begin
      flush_q <= 1'b0;
    end
  end

  logic flushing;
  assign flushing = flush_q || abort_i;
  assign wvalid_o = wq_valid && bq_ready && (flushing || dat_valid_i[client_q]);
  assign wdata_o  = dat_data_i[client_q*DataBytes*8 +: DataBytes*8];
  assign wstrb_o  = flushing ? '0 : dat_strb_i[client_q*DataBytes +: DataBytes];
  assign wlast_o  = beat_q == wq_len;
  assign w_fire   = wvalid_o && wready_i;
  assign wq_pop   = w_fire && wlast_o;
  assign w_idle   = !wq_valid;
  always_comb begin
    dat_ready_o = '0;
    dat_ready_o[client_q] = wq_valid && bq_ready && wready_i && !flushing;
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      beat_q <= '0;
    end else if (w_fire) begin
      beat_q <= wlast_o ? '0 : beat_q + 1'b1;
    end
  end

  // ---- B channel ----------------------------------------------------------------------------
  assign bq_push = wq_pop;
  ks_fifo #(.Width(1 + ClientW), .Depth(MaxOutstanding)) u_bq (
    .clk_i, .rst_ni,
    .in_valid_i (bq_push),
    .in_ready_o (bq_ready),
    .in_data_i  ({wq_last, client_q}),
    .out_valid_o(bq_valid),
    .out_ready_i(bq_pop),
    .out_data_o ({bq_last, bq_client}),
    .count_o    ()
  );

  logic err_q;          // an error response in the request being answered
  logic [AddrW-1:0] err_addr_q;
  logic b_err;
  assign bready_o = 1'b1;
  assign bq_pop   = bvalid_i;
  assign b_err    = bvalid_i && bresp_i[1];  // SLVERR or DECERR
  logic unused_bresp;
  assign unused_bresp = bresp_i[0];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      err_q <= 1'b0;
    end else if (bq_pop && bq_last) begin
      err_q <= 1'b0;
    end else if (b_err) begin
      err_q <= 1'b1;
    end
    if (b_err && !err_q) begin
      err_addr_q <= bq_addr;
    end
  end

  always_comb begin
    done_o = '0;
    done_o[bq_client] = bq_pop && bq_last;
  end
  assign err_o      = err_q || b_err;
  assign err_addr_o = (err_q) ? err_addr_q : bq_addr;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      unanswered_q <= '0;
    end else begin
      unanswered_q <= unanswered_q + OutW'(wq_push) - OutW'(bq_pop);
    end
  end

  assign busy_o = active_q || (unanswered_q != '0);
  assign wait_o = (awvalid_o && !awready_i) || (wvalid_o && !wready_i) ||
                  (!w_idle && !wvalid_o) || (bq_valid && !bvalid_i);

  `KS_ASSERT(b_has_burst_a, !bvalid_i || bq_valid)
  `KS_ASSERT(aq_never_full_a, !wq_push || aq_ready)
  `KS_ASSERT(req_aligned_a, !(req_valid_i[pick] && req_ready_o[pick]) ||
                            req_addr_i[pick*AddrW +: LaneW] == '0)
  `KS_ASSERT(burst_in_page_a, !awvalid_o || (32'(addr_q[11:0]) + 32'(burst) * DataBytes) <= 4096)
endmodule

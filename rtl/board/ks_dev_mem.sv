/// The board's device memory: an AXI4 slave (the core's memory master) and a host port (the
/// UART bridge) sharing one single-port RAM (ks_dev_ram).
///
/// AXI4: one ID, INCR bursts of full-width beats (AxSIZE and AxBURST are not decoded; WSTRB
/// selects the bytes written). One read burst and one write burst are served at a time; their
/// beats share the RAM port, alternating when both want it. A burst that is not wholly inside
/// [Base, Base + Bytes) answers DECERR on every beat and touches nothing; a DECERR beat's data
/// is whatever the RAM's output holds (AXI gives it no meaning, and the core drops it: zeroing
/// it took a LUT per data bit).
/// R beats leave through a three-entry queue, so with rready high a read burst streams one beat
/// per cycle; RreadyAlways (for a master whose rready is always 1, as ks_core's) drops the
/// queue and takes R straight from the RAM. B follows the last W beat. With Base a multiple of
/// Bytes (a power of two) the range check and the word index need no arithmetic on the upper
/// address bits.
///
/// Host port: one word per request (host_req_i), taking the RAM port in that cycle ahead of
/// the AXI side (which then waits), so host_gnt_o grants every request at once; a read's data
/// is on host_rdata_o the next cycle (host_rvalid_o). host_addr_i is a word index, inside the
/// memory by contract. ks_sdram_mem has the same ports, with grants and read data that take
/// longer.
`include "ks_assert.svh"

module ks_dev_mem #(
  parameter int unsigned DataBytes = 8,
  parameter int unsigned Bytes     = 131072,
  parameter logic [31:0] Base      = 32'h0,
  parameter int unsigned AddrW     = 32,
  parameter bit          RreadyAlways = 1'b0,
  parameter int unsigned Words     = Bytes / DataBytes,
  parameter int unsigned WordW     = $clog2(Words)
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
  output logic [DataBytes*8-1:0] host_rdata_o
);
  `include "ks_cmp.svh"
  localparam int unsigned DataW  = DataBytes * 8;
  localparam int unsigned OffW   = $clog2(DataBytes);
  localparam logic [1:0]  RespOk = 2'b00;
  localparam logic [1:0]  RespDecErr = 2'b11;

  localparam int unsigned MemW    = $clog2(Bytes);
  localparam bit          Aligned = (Bytes & (Bytes - 1)) == 0 && (Base % Bytes) == 0 && MemW < AddrW;
  // An AXI burst never crosses a 4 KiB boundary, so in a memory of whole aligned 4 KiB pages a
  // burst that starts inside ends inside: only its start is checked (no adder).
  localparam bit          Paged   = Aligned && (Bytes % 4096) == 0;

  /// Is the burst [addr, addr + beats * DataBytes) inside the memory?
  function automatic logic in_range(input logic [AddrW-1:0] addr, input logic [7:0] len);
    logic [AddrW:0] off, last;
    logic [MemW:0]  end_a;
    if (Paged) begin
      in_range = (addr >> MemW) == (AddrW'(Base) >> MemW);
    end else if (Aligned) begin
      end_a    = (MemW + 1)'(addr[MemW-1:0]) + (MemW + 1)'((32'(len) + 1) * DataBytes);
      in_range = (addr >> MemW) == (AddrW'(Base) >> MemW) && !ks_gt_const(64'(end_a), 64'(Bytes));
    end else begin
      off      = {1'b0, addr} - {1'b0, AddrW'(Base)};
      last     = off + (AddrW + 1)'((32'(len) + 1) * DataBytes);
      in_range = addr >= AddrW'(Base) && last <= (AddrW + 1)'(Bytes);
    end
  endfunction

  function automatic logic [WordW-1:0] word_of(input logic [AddrW-1:0] addr);
    word_of = Aligned ? WordW'(addr >> OffW) : WordW'((addr - AddrW'(Base)) >> OffW);
  endfunction

  // ---- read side ------------------------------------------------------------------------------
  logic             rd_active_q, rd_err_q, rd_issue, rd_inflight_q, rd_inflight_err_q, rd_inflight_last_q;
  logic [WordW-1:0] rd_addr_q;
  logic [7:0]       rd_left_q;     // beats still to issue, minus one
  logic [1:0]       rq_count;
  logic             rq_ready, rd_space, rd_want;
  logic [DataW-1:0] ram_rdata;

  assign arready_o = !rd_active_q;
  assign rd_space  = 32'(rq_count) + 32'(rd_inflight_q) < 3;
  assign rd_want   = rd_active_q && rd_space;

  // ---- write side -----------------------------------------------------------------------------
  logic             wr_active_q, wr_err_q, b_pending_q, wr_want, wr_take;
  logic [WordW-1:0] wr_addr_q;
  logic [1:0]       bresp_q;

  assign awready_o = !wr_active_q && !b_pending_q;
  assign wr_want   = wr_active_q && wvalid_i;
  assign bvalid_o  = b_pending_q;
  assign bresp_o   = bresp_q;

  // ---- RAM port arbitration: host first, then reads and writes alternating -------------------
  logic prefer_wr_q, grant_rd, grant_wr;
  always_comb begin
    grant_rd = 1'b0;
    grant_wr = 1'b0;
    if (!host_req_i) begin
      if (rd_want && wr_want) begin
        grant_wr = prefer_wr_q;
        grant_rd = !prefer_wr_q;
      end else begin
        grant_wr = wr_want;
        grant_rd = rd_want;
      end
    end
  end
  // Erroneous bursts need no RAM access, but go through the same grants to stay simple.
  assign rd_issue = grant_rd;
  assign wr_take  = grant_wr;
  assign wready_o = wr_take;

  logic             ram_en;
  logic [DataBytes-1:0] ram_we;
  logic [WordW-1:0] ram_addr;
  logic [DataW-1:0] ram_wdata;
  always_comb begin
    ram_en    = 1'b0;
    ram_we    = '0;
    ram_addr  = rd_addr_q;
    ram_wdata = wdata_i;
    if (host_req_i) begin
      ram_en    = 1'b1;
      ram_we    = host_we_i ? host_wstrb_i : '0;
      ram_addr  = host_addr_i;
      ram_wdata = host_wdata_i;
    end else if (wr_take) begin
      ram_en   = !wr_err_q;
      ram_we   = wr_err_q ? '0 : wstrb_i;
      ram_addr = wr_addr_q;
    end else if (rd_issue) begin
      ram_en   = !rd_err_q;
    end
  end

  ks_dev_ram #(.Words(Words), .DataBytes(DataBytes)) u_ram (
    .clk_i, .en_i(ram_en), .we_i(ram_we), .addr_i(ram_addr), .wdata_i(ram_wdata), .rdata_o(ram_rdata)
  );

  logic host_rd_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      rd_active_q   <= 1'b0;
      rd_inflight_q <= 1'b0;
      wr_active_q   <= 1'b0;
      b_pending_q   <= 1'b0;
      prefer_wr_q   <= 1'b0;
      host_rd_q     <= 1'b0;
    end else begin
      host_rd_q     <= host_req_i && !host_we_i;
      rd_inflight_q <= rd_issue;
      if (grant_rd || grant_wr) prefer_wr_q <= grant_rd;
      if (arvalid_i && arready_o) begin
        rd_active_q <= 1'b1;
      end else if (rd_issue && rd_left_q == '0) begin
        rd_active_q <= 1'b0;
      end
      if (awvalid_i && awready_o) begin
        wr_active_q <= 1'b1;
      end else if (wr_take && wlast_i) begin
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
    end else if (rd_issue) begin
      rd_addr_q <= rd_addr_q + 1'b1;
      rd_left_q <= rd_left_q - 1'b1;
    end
    rd_inflight_err_q  <= rd_err_q;
    rd_inflight_last_q <= rd_left_q == '0;
    if (awvalid_i && awready_o) begin
      wr_addr_q <= word_of(awaddr_i);
      wr_err_q  <= !in_range(awaddr_i, awlen_i);
    end else if (wr_take) begin
      wr_addr_q <= wr_addr_q + 1'b1;
    end
    if (wr_take && wlast_i) bresp_q <= wr_err_q ? RespDecErr : RespOk;
  end

  // R queue: {last, err, data}, pushed the cycle after the RAM read.
  logic [DataW+1:0] rq_out;
  if (!RreadyAlways) begin : g_rq
    ks_fifo #(.Width(DataW + 2), .Depth(3)) u_rq (
      .clk_i, .rst_ni,
      .in_valid_i (rd_inflight_q),
      .in_ready_o (rq_ready),
      .in_data_i  ({rd_inflight_last_q, rd_inflight_err_q, ram_rdata}),
      .out_valid_o(rvalid_o),
      .out_ready_i(rready_i),
      .out_data_o (rq_out),
      .count_o    (rq_count)
    );
  end else begin : g_no_rq
    // The beat goes out the cycle after its RAM read, and the master takes it then.
    assign rq_ready = 1'b1;
    assign rq_count = '0;
    assign rvalid_o = rd_inflight_q;
    assign rq_out   = {rd_inflight_last_q, rd_inflight_err_q, ram_rdata};
    logic unused_rready;
    assign unused_rready = rready_i;
  end
  assign rlast_o = rq_out[DataW+1];
  assign rresp_o = rq_out[DataW] ? RespDecErr : RespOk;
  assign rdata_o = rq_out[DataW-1:0];

  assign host_gnt_o    = host_req_i;
  assign host_rvalid_o = host_rd_q;
  assign host_rdata_o  = ram_rdata;

  `KS_ASSERT(rq_never_overflows, rd_inflight_q |-> rq_ready)
  // AXI: no burst crosses a 4 KiB boundary (what Paged relies on).
  `KS_ASSERT(ar_within_4k, (arvalid_i && arready_o) |->
             (32'(araddr_i[11:0]) + (32'(arlen_i) + 1) * DataBytes) <= 4096)
  `KS_ASSERT(aw_within_4k, (awvalid_i && awready_o) |->
             (32'(awaddr_i[11:0]) + (32'(awlen_i) + 1) * DataBytes) <= 4096)
  `KS_ASSERT(r_taken_at_once, !RreadyAlways || !rvalid_o || rready_i)
  `KS_ASSERT(wlast_ends_burst_only_when_active, (wvalid_i && wready_o) |-> wr_active_q)
endmodule

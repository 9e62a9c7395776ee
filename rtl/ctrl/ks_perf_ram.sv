/// Performance counters in block RAM: N counters of W bits for what would otherwise take
/// N x W flip-flops and an N-to-1 read multiplexer.
///
/// Each counter has a small accumulator of its increments (MaxInc: the largest increment of
/// each in one cycle; 0 leaves a counter out, reading 0). The RAM has a slot per counter kept
/// (NS - 1 of them) and one that stays zero, for the others. A round-robin sweep adds one
/// accumulator per cycle to its slot in the RAM (read in one cycle, written back in the
/// next), so every counter is brought up to date every NS cycles and an accumulator never
/// holds more than NS cycles of increments. A read (rd_req_i with rd_idx_i) is answered when
/// the sweep next writes that counter's slot (rd_valid_o with the written value, at most
/// NS + 1 cycles later): the value as of a cycle after the request. clear_i zeroes every counter
/// (the sweep writes each accumulator alone, without the RAM's old value, once); freeze_i
/// stops the counting. The RAM starts unknown: reset clears it the same way.
module ks_perf_ram #(
  parameter int unsigned N      = 22,
  parameter int unsigned W      = 32,
  parameter logic [N*16-1:0] MaxInc = '1,
  parameter int unsigned AccW   = 16,          // >= every accumulator's width (below)
  parameter int unsigned IdxW   = $clog2(N)
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic [N*16-1:0] inc_i,
  input  logic            freeze_i,
  input  logic            clear_i,
  input  logic            rd_req_i,
  input  logic [IdxW-1:0] rd_idx_i,
  output logic            rd_valid_o,
  output logic [W-1:0]    rd_data_o
);
  // ---- slots ---------------------------------------------------------------------------------
  // The RAM and the sweep hold only the counters the build has (MaxInc != 0), in counter order,
  // and one more slot that stays zero, which a read of any other counter is answered from.
  function automatic int unsigned num_used();
    num_used = 0;
    for (int c = 0; c < N; c++) if (MaxInc[c*16 +: 16] != 16'd0) num_used++;
  endfunction
  localparam int unsigned NS = num_used() + 1;
  localparam int unsigned SW = NS > 1 ? $clog2(NS) : 1;
  function automatic logic [N*SW-1:0] slots();
    int unsigned k;
    k = 0;
    slots = '0;
    for (int c = 0; c < N; c++) begin
      if (MaxInc[c*16 +: 16] != 16'd0) begin
        slots[c*SW +: SW] = SW'(k);
        k++;
      end else begin
        slots[c*SW +: SW] = SW'(NS - 1);
      end
    end
  endfunction
  localparam logic [N*SW-1:0] SlotOf = slots();

  // ---- accumulators ------------------------------------------------------------------------
  logic [SW-1:0] ptr_q;                // the slot the sweep reads this cycle
  logic [NS*AccW-1:0] acc;             // each slot's accumulator, zero-extended
  assign acc[(NS-1)*AccW +: AccW] = '0;
  for (genvar c = 0; c < N; c++) begin : g_acc
    localparam int unsigned Max = 32'(MaxInc[c*16 +: 16]);
    // NS cycles of increments at most (the sweep comes by every NS cycles)
    localparam int unsigned PW  = Max == 0 ? 1 : $clog2(NS * Max + 1);
    if (Max != 0) begin : g_used
      logic [PW-1:0] q;
      always_ff @(posedge clk_i) begin
        if (!rst_ni || clear_i) begin
          q <= '0;
        end else begin
          // The sweep takes the whole accumulator; this cycle's increment starts the next.
          q <= (ptr_q == SlotOf[c*SW +: SW] ? '0 : q) + (freeze_i ? '0 : PW'(inc_i[c*16 +: 16]));
        end
      end
      assign acc[32'(SlotOf[c*SW +: SW])*AccW +: AccW] = AccW'(q);
    end else begin : g_unused
      logic [15:0] unused_inc;
      assign unused_inc = inc_i[c*16 +: 16];
    end
  end

  // ---- the sweep ---------------------------------------------------------------------------
  // Read (the sweep's next counter) and write (its last) never meet: no read-during-write
  // logic around the block RAM.
  (* no_rw_check *)
  logic [W-1:0]    mem [NS];
  logic [W-1:0]    old_q, sum;
  logic [AccW-1:0] snap_q;
  logic [SW-1:0]   wr_idx_q;
  logic            wr_valid_q;
  logic [NS-1:0]   stale_q;            // slots whose RAM word is to be dropped (cleared)
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      ptr_q      <= '0;
      wr_valid_q <= 1'b0;
    end else begin
      ptr_q      <= ptr_q == SW'(NS - 1) ? '0 : ptr_q + 1'b1;
      wr_valid_q <= 1'b1;
    end
    snap_q   <= clear_i ? '0 : acc[32'(ptr_q)*AccW +: AccW];
    wr_idx_q <= ptr_q;
    old_q    <= mem[ptr_q];
    if (wr_valid_q) mem[wr_idx_q] <= sum;
  end
  assign sum = (stale_q[wr_idx_q] ? '0 : old_q) + W'(snap_q);

  always_ff @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      stale_q <= '1;
    end else if (wr_valid_q) begin
      stale_q[wr_idx_q] <= 1'b0;
    end
  end

  // ---- reads -------------------------------------------------------------------------------
  logic            pend_q;
  logic [SW-1:0]   pend_idx_q;         // the slot asked for
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      pend_q <= 1'b0;
    end else if (rd_req_i) begin
      pend_q <= 1'b1;
    end else if (rd_valid_o) begin
      pend_q <= 1'b0;
    end
    if (rd_req_i) pend_idx_q <= SlotOf[32'(rd_idx_i)*SW +: SW];
  end
  // Answered by the sweep's next write of the counter (not one already under way when asked).
  logic armed_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni || rd_req_i) begin
      armed_q <= 1'b0;
    end else if (pend_q && ptr_q == pend_idx_q) begin
      armed_q <= 1'b1;
    end
  end
  assign rd_valid_o = pend_q && armed_q && wr_valid_q && wr_idx_q == pend_idx_q;
  assign rd_data_o  = sum;
endmodule

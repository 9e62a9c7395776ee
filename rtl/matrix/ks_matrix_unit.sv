/// The matrix unit: the systolic array, the INT32 accumulator memory and the result FIFO.
///
/// Input stream (valid/ready): one beat per cycle, each a weight tile (Rows x Cols bytes),
/// an activation vector (2*Cols bytes), the precision (in_int4_i) and where the beat's row
/// sums go: accumulator entry in_addr_i, starting from zero when in_first_i, and emitted on
/// the output stream after adding when in_last_i. A beat with both flags is a complete dot
/// product. Entries are independent, so a GEMM tile runs as: for each reduction chunk, one
/// beat per token m into entry m (see docs/matrix_unit.md for the loop order).
///
/// Output stream (valid/ready): Rows INT32 sums (two's complement, wrapping modulo 2^32)
/// and the entry they came from, in input order.
///
/// Stalls: the array and the accumulator never stop. The input is accepted only while the
/// result FIFO has room for every result already in flight (credits), so output
/// backpressure reaches the input through registered state only. With FifoDepth >= the
/// array latency + 2, a consumer that is always ready never slows the array down.
/// OutReadyAlways (a consumer whose out_ready_i is always 1, as ks_compute_engine) leaves the
/// FIFO out: it never holds more than the result of the cycle before, which is the
/// accumulator's write-back register; admission and timing are the same. Int4 = 0 builds the
/// array for INT8 beats only (for a compute engine that splits INT4 into INT8 beats).
`include "ks_assert.svh"

module ks_matrix_unit #(
  parameter int unsigned Rows      = 8,
  parameter int unsigned Cols      = 16,
  parameter int unsigned AccDepth  = 512,
  parameter int unsigned FifoDepth = 32,
  parameter bit          OutReadyAlways = 1'b0,
  parameter bit          Int4      = 1'b1,   // 0: INT8 beats only; in_int4_i must be 0
  parameter int unsigned AccAddrW  = (AccDepth > 1) ? $clog2(AccDepth) : 1
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // Beats in
  input  logic                   in_valid_i,
  output logic                   in_ready_o,
  input  logic [Rows*Cols*8-1:0] in_w_i,
  input  logic [2*Cols*8-1:0]    in_x_i,
  input  logic                   in_int4_i,
  input  logic                   in_first_i,
  input  logic                   in_last_i,
  input  logic [AccAddrW-1:0]    in_addr_i,
  // Results out
  output logic                   out_valid_o,
  input  logic                   out_ready_i,
  output logic [Rows*32-1:0]     out_data_o,
  output logic [AccAddrW-1:0]    out_addr_o,
  // Status: a beat is in the array or a result is waiting
  output logic                   busy_o
);
  localparam int unsigned PsumW   = 16 + $clog2(Cols) + 1;
  localparam int unsigned Latency = Int4 ? Cols + 2 : Cols + 1;   // ks_systolic_array
  localparam int unsigned TagW    = AccAddrW + 2;
  localparam int unsigned CreditW = $clog2(FifoDepth + 1) + 1;
  localparam int unsigned FifoW   = Rows * 32 + AccAddrW;
  localparam int unsigned InflW   = $clog2(Latency + 1) + 1;

  // ---------------------------------------------------------------------------------------
  // Admission: credits for the result FIFO
  // ---------------------------------------------------------------------------------------
  logic accept;
  logic [CreditW-1:0] outstanding_q, outstanding_d;   // accepted `last` beats not yet in the FIFO
  logic [InflW-1:0]   inflight_q, inflight_d;         // accepted beats not yet accumulated
  logic [$clog2(FifoDepth + 1)-1:0] fifo_count;
  logic push;

  assign in_ready_o = (CreditW'(fifo_count) + outstanding_q) < CreditW'(FifoDepth);
  assign accept     = in_valid_i && in_ready_o;

  // ---------------------------------------------------------------------------------------
  // Array
  // ---------------------------------------------------------------------------------------
  logic                  arr_valid_early, arr_valid;
  logic [TagW-1:0]       arr_tag_early, arr_tag;
  logic [Rows*PsumW-1:0] rowsum;

  ks_systolic_array #(
    .Rows(Rows), .Cols(Cols), .TagW(TagW), .PsumW(PsumW), .Latency(Latency), .Int4(Int4)
  ) u_array (
    .clk_i,
    .rst_ni,
    .valid_i      (accept),
    .tag_i        ({in_addr_i, in_first_i, in_last_i}),
    .w_i          (in_w_i),
    .x_i          (in_x_i),
    .int4_i       (in_int4_i),
    .valid_early_o(arr_valid_early),
    .tag_early_o  (arr_tag_early),
    .valid_o      (arr_valid),
    .tag_o        (arr_tag),
    .rowsum_o     (rowsum)
  );

  // ---------------------------------------------------------------------------------------
  // Accumulator: read one cycle ahead, add, write back; forward the previous cycle's write
  // because the memory returns the old word when read and written in the same cycle.
  // ---------------------------------------------------------------------------------------
  logic [Rows*32-1:0]  acc_mem [AccDepth];
  logic [Rows*32-1:0]  acc_rdata_q;
  logic [AccAddrW-1:0] acc_raddr;
  logic [AccAddrW-1:0] arr_addr;
  logic                arr_first, arr_last;
  logic                wr_valid_q;
  logic [AccAddrW-1:0] wr_addr_q;
  logic [Rows*32-1:0]  wr_data_q;
  logic [Rows*32-1:0]  acc_old, acc_sum;

  logic acc_read, unused_early_last;
  assign {acc_raddr, unused_early_last} = {arr_tag_early[TagW-1 -: AccAddrW], arr_tag_early[0]};
  // A beat that starts an entry ignores the old value: no need to read it.
  assign acc_read = arr_valid_early && !arr_tag_early[1];
  assign {arr_addr, arr_first, arr_last} = arr_tag;

  always_ff @(posedge clk_i) begin
    if (acc_read) begin
      acc_rdata_q <= acc_mem[acc_raddr];
    end
    if (arr_valid) begin
      acc_mem[arr_addr] <= acc_sum;
    end
  end

  logic fwd_hit;
  assign fwd_hit = wr_valid_q && (wr_addr_q == arr_addr);

  for (genvar r = 0; r < Rows; r++) begin : g_acc
    assign acc_old[r*32 +: 32] = arr_first ? 32'd0 :
                                 fwd_hit   ? wr_data_q[r*32 +: 32] : acc_rdata_q[r*32 +: 32];
    assign acc_sum[r*32 +: 32] = acc_old[r*32 +: 32] +
                                 {{(32-PsumW){rowsum[r*PsumW+PsumW-1]}}, rowsum[r*PsumW +: PsumW]};
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      wr_valid_q <= 1'b0;
    end else begin
      wr_valid_q <= arr_valid;
    end
    wr_addr_q <= arr_addr;
    wr_data_q <= acc_sum;
  end

  // ---------------------------------------------------------------------------------------
  // Results
  // ---------------------------------------------------------------------------------------
  logic fifo_in_ready;
  assign push = arr_valid && arr_last;

  if (!OutReadyAlways) begin : g_out_fifo
    ks_fifo #(.Width(FifoW), .Depth(FifoDepth)) u_out_fifo (
      .clk_i,
      .rst_ni,
      .in_valid_i (push),
      .in_ready_o (fifo_in_ready),
      .in_data_i  ({arr_addr, acc_sum}),
      .out_valid_o,
      .out_ready_i,
      .out_data_o ({out_addr_o, out_data_o}),
      .count_o    (fifo_count)
    );
  end else begin : g_out_reg
    // A result leaves the cycle after it is pushed, from the write-back register (what the
    // FIFO would show, popped at once), and counts as the FIFO's one entry meanwhile.
    logic out_valid_q;
    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        out_valid_q <= 1'b0;
      end else begin
        out_valid_q <= push;
      end
    end
    assign out_valid_o   = out_valid_q;
    assign out_data_o    = wr_data_q;
    assign out_addr_o    = wr_addr_q;
    assign fifo_count    = $bits(fifo_count)'(out_valid_q);
    assign fifo_in_ready = 1'b1;
    logic unused_out_ready;
    assign unused_out_ready = out_ready_i;
  end

  always_comb begin
    outstanding_d = outstanding_q;
    if (accept && in_last_i && !push) begin
      outstanding_d = outstanding_q + 1'b1;
    end else if (push && !(accept && in_last_i)) begin
      outstanding_d = outstanding_q - 1'b1;
    end
    inflight_d = inflight_q;
    if (accept && !arr_valid) begin
      inflight_d = inflight_q + 1'b1;
    end else if (arr_valid && !accept) begin
      inflight_d = inflight_q - 1'b1;
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      outstanding_q <= '0;
      inflight_q    <= '0;
    end else begin
      outstanding_q <= outstanding_d;
      inflight_q    <= inflight_d;
    end
  end

  assign busy_o = (inflight_q != '0) || out_valid_o;

  // Credits guarantee the FIFO never refuses a result.
  `KS_ASSERT(fifo_never_overflows_a, !push || fifo_in_ready)
  `KS_ASSERT(out_always_ready_a, !OutReadyAlways || !out_valid_o || out_ready_i)
  `KS_ASSERT(inflight_bounded_a, inflight_q <= InflW'(Latency))
  `KS_ASSERT_STABLE(in_stream_a, in_valid_i, in_ready_o,
                    {in_w_i, in_x_i, in_int4_i, in_first_i, in_last_i, in_addr_i})
  `KS_ASSERT(addr_in_range_a, !in_valid_i || 32'(in_addr_i) < AccDepth)
  `KS_ASSERT(int4_supported_a, Int4 || !in_valid_i || !in_int4_i)
endmodule

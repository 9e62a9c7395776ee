/// Synchronous first-word-fall-through FIFO with valid/ready on both sides.
///
/// out_valid_o is high whenever the FIFO holds an entry, and out_data_o shows the oldest one;
/// it is popped on out_valid_o && out_ready_i. in_ready_o is low exactly when full; it depends
/// on registered state only, so there is no combinational path from out_ready_i to in_ready_o
/// (a full FIFO does not accept in the cycle it is popped). count_o is the registered
/// occupancy. Depth need not be a power of two. Storage is an array read asynchronously
/// (LUT RAM on ECP5, flops on iCE40).
`include "ks_assert.svh"

module ks_fifo #(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 4,
  parameter int unsigned CountW = $clog2(Depth + 1)
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              in_valid_i,
  output logic              in_ready_o,
  input  logic [Width-1:0]  in_data_i,
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [Width-1:0]  out_data_o,
  output logic [CountW-1:0] count_o
);
  localparam int unsigned PtrW = (Depth > 1) ? $clog2(Depth) : 1;
  localparam logic [PtrW-1:0] LastPtr = PtrW'(Depth - 1);
  localparam logic [CountW-1:0] DepthCount = CountW'(Depth);

  logic [Width-1:0] mem [Depth];
  logic [PtrW-1:0] wptr_q, wptr_d, rptr_q, rptr_d;
  logic [CountW-1:0] count_q, count_d;
  logic push, pop;

  assign in_ready_o  = (count_q != DepthCount);
  assign out_valid_o = (count_q != '0);
  assign out_data_o  = mem[rptr_q];
  assign count_o     = count_q;
  assign push = in_valid_i && in_ready_o;
  assign pop  = out_valid_o && out_ready_i;

  always_comb begin
    wptr_d  = wptr_q;
    rptr_d  = rptr_q;
    count_d = count_q;
    if (push) begin
      wptr_d = (wptr_q == LastPtr) ? '0 : wptr_q + 1'b1;
    end
    if (pop) begin
      rptr_d = (rptr_q == LastPtr) ? '0 : rptr_q + 1'b1;
    end
    if (push && !pop) begin
      count_d = count_q + 1'b1;
    end else if (pop && !push) begin
      count_d = count_q - 1'b1;
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      count_q <= '0;
    end else begin
      wptr_q  <= wptr_d;
      rptr_q  <= rptr_d;
      count_q <= count_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) begin
      mem[wptr_q] <= in_data_i;
    end
  end

  `KS_ASSERT(count_in_range_a, count_q <= DepthCount)
  `KS_ASSERT_STABLE(out_stable_a, out_valid_o, out_ready_i, out_data_o)
endmodule

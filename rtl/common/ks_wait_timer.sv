/// A minimum-spacing timer: start_i (a pulse) begins a wait of Cycles clocks, and done_o says
/// that the wait is over, so an event gated by done_o happens at least Cycles clocks after the
/// start (Cycles = 1: the next clock). A start while waiting begins the wait again. done_o is
/// a register (the counter's next value compared ahead of time), so a decision that reads it
/// sees one flop; it is high out of reset. done_next_o is what done_o will be next cycle, for
/// users that register several timers' results together.
`include "ks_assert.svh"

module ks_wait_timer #(
  parameter int unsigned Cycles = 1,
  parameter int unsigned Width  = Cycles > 1 ? $clog2(Cycles) : 1
) (
  input  logic clk_i,
  input  logic rst_ni,
  input  logic start_i,
  output logic done_o,
  output logic done_next_o
);
  localparam logic [Width-1:0] Load = Width'(Cycles - 1);

  logic [Width-1:0] cnt_q;
  logic             done_q;
  // done_q is cnt_q == 0: the counter stops there without a comparison of its own.
  assign done_next_o = start_i ? Cycles <= 1 : (done_q || cnt_q == Width'(1));
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      cnt_q  <= '0;
      done_q <= 1'b1;
    end else begin
      if (start_i) cnt_q <= Load;
      else if (!done_q) cnt_q <= cnt_q - 1'b1;
      done_q <= done_next_o;
    end
  end
  assign done_o = done_q;

`ifndef SYNTHESIS
  initial if (Cycles < 1) $fatal(1, "ks_wait_timer: Cycles must be at least 1");
`endif
  `KS_ASSERT(done_means_zero, done_q == (cnt_q == '0))
endmodule

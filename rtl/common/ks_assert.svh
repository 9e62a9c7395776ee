// Assertion macros used beside the logic they guard.
//
// They compile to concurrent assertions under Verilator (built with --assert, so they run in
// every test) and to nothing for synthesis and for simulators that lack `assert property`
// (Yosys, Icarus). Multi-cycle properties are written with `|=>` or explicit flops:
// the Verilator 5.006 here rejects `##1`.
//
//   `KS_ASSERT(name, prop)              prop holds at every rising clk_i out of reset
//   `KS_ASSERT_STABLE(name, vld, rdy, data)  data and valid hold while valid && !ready
//
// The enclosing module must have clk_i and rst_ni (active-low, synchronous).
`ifndef KS_ASSERT_SVH
`define KS_ASSERT_SVH

`ifdef VERILATOR
`define KS_ASSERT(__name, __prop) \
  __name: assert property (@(posedge clk_i) disable iff (!rst_ni) (__prop)) \
    else $error("assertion %s failed in %m", `"__name`");

// Written as an immediate assertion on explicit flops: the Verilator 5.006 here
// miscompiles the sampled copy that a concurrent assertion (or $stable) makes of a signal
// wider than about a thousand bits.
`define KS_ASSERT_STABLE(__name, __vld, __rdy, __data) \
  logic [$bits(__data)-1:0] __name``_data_q; \
  logic __name``_held_q; \
  always_ff @(posedge clk_i) begin \
    __name``_held_q <= rst_ni && (__vld) && !(__rdy); \
    __name``_data_q <= (__data); \
    if (rst_ni && __name``_held_q) begin \
      __name: assert ((__vld) && (__data) == __name``_data_q) \
        else $error("stream %s: valid dropped or data changed while stalled in %m", `"__name`"); \
    end \
  end
`else
`define KS_ASSERT(__name, __prop)
`define KS_ASSERT_STABLE(__name, __vld, __rdy, __data)
`endif

`endif  // KS_ASSERT_SVH

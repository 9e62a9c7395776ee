/// Fixed-latency delay line: q_o is d_i from Depth cycles earlier (Depth = 0 is a wire).
///
/// No handshake: it is a pipeline that always moves. With Reset = 1 every stage clears on
/// reset (use it for valid bits); with Reset = 0 the stages are plain data flops, which map
/// to cheaper FPGA cells. Stages are a flat vector so that every tool maps them to flops.
///
/// Gated = 1: a valid bit (v_i, reset to 0) travels beside the data and each stage loads
/// only when the valid arriving at it is set, so idle data flops hold still (no toggling,
/// and nothing for a simulator to evaluate); q_o is defined while v_o is set. Each stage's
/// enable is its own neighbour's valid flop: no enable with a large fanout.
module ks_delay #(
  parameter int unsigned Width = 1,
  parameter int unsigned Depth = 1,
  parameter bit          Reset = 1'b0,
  parameter bit          Gated = 1'b0
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             v_i,
  input  logic [Width-1:0] d_i,
  output logic             v_o,
  output logic [Width-1:0] q_o
);
  if (Depth == 0) begin : g_wire
    assign q_o = d_i;
    assign v_o = v_i;
    logic unused_clk_rst;
    assign unused_clk_rst = clk_i ^ rst_ni;
  end else begin : g_pipe
    logic [Depth*Width-1:0] pipe_q;
    logic [Depth-1:0]       v_q;
    for (genvar s = 0; s < Depth; s++) begin : g_stage
      logic [Width-1:0] stage_d;
      logic             stage_v;
      if (s == 0) begin : g_first
        assign stage_d = d_i;
        assign stage_v = v_i;
      end else begin : g_next
        assign stage_d = pipe_q[(s-1)*Width +: Width];
        assign stage_v = v_q[s-1];
      end
      always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
          v_q[s] <= 1'b0;
        end else begin
          v_q[s] <= stage_v;
        end
      end
      always_ff @(posedge clk_i) begin
        if (Reset && !rst_ni) begin
          pipe_q[s*Width +: Width] <= '0;
        end else if (!Gated || stage_v) begin
          pipe_q[s*Width +: Width] <= stage_d;
        end
      end
    end
    assign q_o = pipe_q[(Depth-1)*Width +: Width];
    assign v_o = v_q[Depth-1];
  end
endmodule

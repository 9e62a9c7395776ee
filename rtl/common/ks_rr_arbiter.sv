/// Round-robin arbiter: among the requesters raising req_i, points at the first one after
/// the one served last (valid_o, idx_o). take_i says the pointed-at request is served this
/// cycle; the next search then starts after it. Combinational from req_i to the grant; the
/// pointer is the only state (requester N-1 counts as served last after reset, so
/// requester 0 comes first).
module ks_rr_arbiter #(
  parameter int unsigned N    = 2,
  parameter int unsigned IdxW = (N > 1) ? $clog2(N) : 1
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic [N-1:0]    req_i,
  input  logic            take_i,
  output logic            valid_o,
  output logic [IdxW-1:0] idx_o
);
  logic [IdxW-1:0] last_q, cand;

  always_comb begin
    valid_o = 1'b0;
    idx_o   = '0;
    cand    = '0;
    // Candidates in order last+1, last+2, ...: the first one requesting wins.
    for (int unsigned i = 1; i <= N; i++) begin
      cand = IdxW'((32'(last_q) + i) % N);
      if (!valid_o && req_i[cand]) begin
        valid_o = 1'b1;
        idx_o   = cand;
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      last_q <= IdxW'(N - 1);
    end else if (take_i && valid_o) begin
      last_q <= idx_o;
    end
  end
endmodule

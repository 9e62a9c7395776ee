/// Board reset: holds rst_no low (active) for 2^HoldBits cycles after the clock starts or
/// after any of its causes -- the clock generator not yet locked (locked_i low) or the reset
/// button (button_ni low) -- and releases it synchronously to clk_i. The asynchronous inputs
/// pass through two flops first. A configured FPGA starts with every flop at 0, so the
/// counter starts in reset without a power-on reset net.
module ks_reset_sync #(
  parameter int unsigned HoldBits = 4
) (
  input  logic clk_i,
  input  logic locked_i,
  input  logic button_ni,
  output logic rst_no
);
  logic [1:0]          sync_q;
  logic [HoldBits:0]   cnt_q;   // top bit set: reset released
  logic                cause;

  always_ff @(posedge clk_i) sync_q <= {sync_q[0], locked_i && button_ni};
  assign cause = !sync_q[1];

  always_ff @(posedge clk_i) begin
    if (cause) begin
      cnt_q <= '0;
    end else if (!cnt_q[HoldBits]) begin
      cnt_q <= cnt_q + 1'b1;
    end
  end
  assign rst_no = cnt_q[HoldBits];
endmodule

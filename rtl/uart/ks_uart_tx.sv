/// UART transmitter: 8 data bits, no parity, one stop bit (8N1), least significant bit
/// first. A byte is taken on in_valid_i && in_ready_o and shifted out at ClkPerBit clock
/// cycles per bit; tx_o idles high.
module ks_uart_tx #(
  parameter int unsigned ClkPerBit = 16
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       in_valid_i,
  output logic       in_ready_o,
  input  logic [7:0] in_data_i,
  output logic       tx_o
);
  localparam int unsigned CntW = $clog2(ClkPerBit + 1);
  logic [9:0]      frame_q;   // stop, data[7:0], start: shifted out from bit 0
  logic [3:0]      bits_q;    // bits left to send
  logic [CntW-1:0] cnt_q;

  assign in_ready_o = bits_q == 4'd0;
  assign tx_o       = (bits_q == 4'd0) ? 1'b1 : frame_q[0];

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      bits_q  <= '0;
      cnt_q   <= '0;
      frame_q <= '1;
    end else if (in_valid_i && in_ready_o) begin
      frame_q <= {1'b1, in_data_i, 1'b0};
      bits_q  <= 4'd10;
      cnt_q   <= CntW'(ClkPerBit - 1);
    end else if (bits_q != 4'd0) begin
      if (cnt_q == '0) begin
        frame_q <= {1'b1, frame_q[9:1]};
        bits_q  <= bits_q - 1'b1;
        cnt_q   <= CntW'(ClkPerBit - 1);
      end else begin
        cnt_q <= cnt_q - 1'b1;
      end
    end
  end
endmodule

/// Test top: a transmitter and a receiver, for the UART tests. The line between them
/// passes through line_i/line_o so the testbench can corrupt it or cut it.
module ks_uart_loopback #(
  parameter int unsigned ClkPerBit = 8
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       in_valid_i,
  output logic       in_ready_o,
  input  logic [7:0] in_data_i,
  output logic       line_o,
  input  logic       line_i,
  output logic       out_valid_o,
  input  logic       out_ready_i,
  output logic [7:0] out_data_o,
  output logic       frame_err_o,
  output logic       overrun_o
);
  ks_uart_tx #(.ClkPerBit(ClkPerBit)) u_tx (.clk_i, .rst_ni, .in_valid_i, .in_ready_o, .in_data_i, .tx_o(line_o));
  ks_uart_rx #(.ClkPerBit(ClkPerBit)) u_rx (
    .clk_i, .rst_ni, .rx_i(line_i), .out_valid_o, .out_ready_i, .out_data_o, .frame_err_o, .overrun_o
  );
endmodule

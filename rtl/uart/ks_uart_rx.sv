/// UART receiver, 8N1, least significant bit first, at ClkPerBit clock cycles per bit.
/// The line is synchronized through two flops; a falling edge starts a frame, which is
/// sampled in the middle of each bit. A frame whose start bit is not low at its middle is
/// dropped as a glitch; one whose stop bit is low raises frame_err_o for a cycle and is
/// dropped. Received bytes leave on out_valid_o/out_ready_i through a small FIFO; a byte
/// arriving while it is full is lost and raises overrun_o for a cycle.
module ks_uart_rx #(
  parameter int unsigned ClkPerBit = 16,
  parameter int unsigned FifoDepth = 4
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       rx_i,
  output logic       out_valid_o,
  input  logic       out_ready_i,
  output logic [7:0] out_data_o,
  output logic       frame_err_o,
  output logic       overrun_o
);
  localparam int unsigned CntW = $clog2(ClkPerBit + 1);
  logic [1:0] sync_q;
  logic       line;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      sync_q <= 2'b11;
    end else begin
      sync_q <= {sync_q[0], rx_i};
    end
  end
  assign line = sync_q[1];

  typedef enum logic [1:0] {SIdle, SStart, SData, SStop} state_e;
  state_e          state_q;
  logic [CntW-1:0] cnt_q;
  logic [2:0]      bit_q;
  logic [7:0]      shift_q;
  logic            push, fifo_ready;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      cnt_q   <= '0;
      bit_q   <= '0;
    end else begin
      unique case (state_q)
        SIdle: if (!line) begin
          state_q <= SStart;
          cnt_q   <= CntW'(ClkPerBit / 2 - 1);   // to the middle of the start bit
        end
        SStart: if (cnt_q == '0) begin
          state_q <= line ? SIdle : SData;        // still low at its middle: a real start
          cnt_q   <= CntW'(ClkPerBit - 1);
          bit_q   <= '0;
        end else begin
          cnt_q <= cnt_q - 1'b1;
        end
        SData: if (cnt_q == '0) begin
          cnt_q <= CntW'(ClkPerBit - 1);
          if (bit_q == 3'd7) state_q <= SStop;
          bit_q <= bit_q + 1'b1;
        end else begin
          cnt_q <= cnt_q - 1'b1;
        end
        SStop: if (cnt_q == '0) begin
          state_q <= SIdle;
        end else begin
          cnt_q <= cnt_q - 1'b1;
        end
        default: state_q <= SIdle;
      endcase
    end
  end

  always_ff @(posedge clk_i) begin
    if (state_q == SData && cnt_q == '0) shift_q <= {line, shift_q[7:1]};
  end

  logic stop_sample;
  assign stop_sample = state_q == SStop && cnt_q == '0;
  assign push        = stop_sample && line;
  assign frame_err_o = stop_sample && !line;
  assign overrun_o   = push && !fifo_ready;

  ks_fifo #(.Width(8), .Depth(FifoDepth)) u_fifo (
    .clk_i, .rst_ni,
    .in_valid_i (push),
    .in_ready_o (fifo_ready),
    .in_data_i  (shift_q),
    .out_valid_o,
    .out_ready_i,
    .out_data_o,
    .count_o    ()
  );
endmodule

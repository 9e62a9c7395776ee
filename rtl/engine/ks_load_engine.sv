/// Load engine: executes LOAD descriptors, copying rows from memory into an SRAM bank.
///
/// Takes one command at a time (cmd valid/ready; ready when idle). Row r comes from
/// host_addr + r*host_stride and goes to sram_addr + r*sram_stride, `beats` DMA beats each
/// (addresses and strides multiples of DataBytes, checked by the command processor; bank
/// offsets SramW bits, as the checked extents fit the banks). Rows are requested from the
/// DMA back to back, so several are in flight; the data return in order and are written
/// to the bank as they arrive. done_o pulses when every beat has arrived; err_o with it
/// if any beat had a bus error (those beats are not written), err_addr_o is the first
/// failing row's address. abort_i stops requesting rows and finishes once the rows
/// already requested have returned.
module ks_load_engine #(
  parameter int unsigned DataBytes = 8,
  parameter int unsigned AddrW     = 32,
  parameter int unsigned BeatsW    = 24,
  parameter int unsigned SramW     = 32
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   abort_i,
  // Command
  input  logic                   cmd_valid_i,
  output logic                   cmd_ready_o,
  input  logic [2:0]             cmd_bank_i,
  input  logic [SramW-1:0]       cmd_sram_addr_i,
  input  logic [AddrW-1:0]       cmd_host_addr_i,
  input  logic [15:0]            cmd_rows_i,
  input  logic [BeatsW-1:0]      cmd_beats_i,       // ROW_BYTES / DataBytes
  input  logic [AddrW-1:0]       cmd_host_stride_i,
  input  logic [SramW-1:0]       cmd_sram_stride_i,
  output logic                   done_o,
  output logic                   err_o,
  output logic [AddrW-1:0]       err_addr_o,
  // DMA read client
  output logic                   req_valid_o,
  input  logic                   req_ready_i,
  output logic [AddrW-1:0]       req_addr_o,
  output logic [BeatsW-1:0]      req_beats_o,
  input  logic                   rsp_valid_i,
  input  logic [DataBytes*8-1:0] rsp_data_i,
  input  logic                   rsp_last_i,
  input  logic                   rsp_err_i,
  // Bank write (byte address in the selected bank)
  output logic [6:0]             bank_we_o,
  output logic [SramW-1:0]       bank_addr_o,
  output logic [DataBytes*8-1:0] bank_data_o,
  // Status
  output logic                   busy_o
);
  logic        busy_q, err_q, aborted_q;
  logic [2:0]  bank_q;
  logic [15:0] rows_q, issued_q, returned_q;
  logic [BeatsW-1:0] beats_q;
  logic [AddrW-1:0]  host_stride_q, issue_addr_q, ret_host_q, err_addr_q;
  logic [SramW-1:0]  sram_stride_q, row_base_q, wr_addr_q;

  assign cmd_ready_o = !busy_q;
  logic start, req_fire, finished;
  assign start    = cmd_valid_i && cmd_ready_o;
  assign req_fire = req_valid_o && req_ready_i;

  assign req_valid_o = busy_q && !aborted_q && !abort_i && issued_q != rows_q;
  assign req_addr_o  = issue_addr_q;
  assign req_beats_o = beats_q;

  // All requested rows are back, and either all rows were requested or we were told to stop.
  assign finished = busy_q && (returned_q == issued_q) && (issued_q == rows_q || aborted_q);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      busy_q    <= 1'b0;
      err_q     <= 1'b0;
      aborted_q <= 1'b0;
    end else if (start) begin
      busy_q    <= 1'b1;
      err_q     <= 1'b0;
      aborted_q <= 1'b0;
    end else if (busy_q) begin
      if (abort_i) aborted_q <= 1'b1;
      if (rsp_valid_i && rsp_err_i) err_q <= 1'b1;
      if (finished) busy_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (start) begin
      bank_q        <= cmd_bank_i;
      rows_q        <= cmd_rows_i;
      beats_q       <= cmd_beats_i;
      host_stride_q <= cmd_host_stride_i;
      sram_stride_q <= cmd_sram_stride_i;
      issue_addr_q  <= cmd_host_addr_i;
      ret_host_q    <= cmd_host_addr_i;
      row_base_q    <= cmd_sram_addr_i;
      wr_addr_q     <= cmd_sram_addr_i;
      issued_q      <= '0;
      returned_q    <= '0;
    end else begin
      if (req_fire) begin
        issued_q     <= issued_q + 1'b1;
        issue_addr_q <= issue_addr_q + host_stride_q;
      end
      if (rsp_valid_i) begin
        if (rsp_last_i) begin
          returned_q <= returned_q + 1'b1;
          ret_host_q <= ret_host_q + host_stride_q;
          row_base_q <= row_base_q + sram_stride_q;
          wr_addr_q  <= row_base_q + sram_stride_q;
        end else begin
          wr_addr_q <= wr_addr_q + SramW'(DataBytes);
        end
      end
    end
    if (busy_q && rsp_valid_i && rsp_err_i && !err_q) begin
      err_addr_q <= ret_host_q;
    end
  end

  // A beat is written unless it failed or the load was aborted.
  always_comb begin
    for (int b = 0; b < 7; b++) begin
      bank_we_o[b] = bank_q == 3'(b) && busy_q && rsp_valid_i && !rsp_err_i && !aborted_q;
    end
  end
  assign bank_addr_o = wr_addr_q;
  assign bank_data_o = rsp_data_i;

  assign done_o     = finished;
  assign err_o      = err_q;
  assign err_addr_o = err_addr_q;
  assign busy_o     = busy_q;
endmodule

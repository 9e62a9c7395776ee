/// Store engine: executes STORE descriptors, copying rows from an SRAM bank to memory.
///
/// One command at a time (cmd valid/ready; ready when idle). Each row becomes one DMA
/// write request of row_bytes/DataBytes beats at host_addr + r*host_stride; its data are
/// read from the bank at sram_addr + r*sram_stride onwards, one beat per cycle. The bank's
/// read register is the buffer: a read issued in one cycle has its beat at the bank output
/// in the next, where it stays (no other read of the bank is issued) until the DMA takes it.
/// done_o pulses when the DMA has confirmed every row; err_o with it if any write got an
/// error response (err_addr_o: the first failing burst). abort_i stops requesting rows
/// and reading the bank (the DMA completes an interrupted row with no byte enabled) and
/// finishes once every requested row is confirmed.
module ks_store_engine #(
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
  // DMA write client
  output logic                   req_valid_o,
  input  logic                   req_ready_i,
  output logic [AddrW-1:0]       req_addr_o,
  output logic [BeatsW-1:0]      req_beats_o,
  output logic                   dat_valid_o,
  input  logic                   dat_ready_i,
  output logic [DataBytes*8-1:0] dat_data_o,
  input  logic                   wr_done_i,
  input  logic                   wr_err_i,
  input  logic [AddrW-1:0]       wr_err_addr_i,
  // Bank read (byte address; data the next cycle)
  output logic [4:0]             bank_re_o,
  output logic [SramW-1:0]       bank_addr_o,
  input  logic [DataBytes*8-1:0] bank_data_i,
  // Status
  output logic                   busy_o
);
  logic        busy_q, err_q, aborted_q;
  logic [2:0]  bank_q;
  logic [15:0] rows_q, issued_q, confirmed_q, read_rows_q;
  logic [BeatsW-1:0] beats_q, read_beat_q;
  logic [AddrW-1:0]  host_stride_q, issue_addr_q, err_addr_q;
  logic [SramW-1:0]  sram_stride_q, row_base_q, rd_addr_q;

  logic start, req_fire, finished, stopping;
  assign cmd_ready_o = !busy_q;
  assign start       = cmd_valid_i && cmd_ready_o;
  assign req_fire    = req_valid_o && req_ready_i;
  assign stopping    = aborted_q || abort_i;
  assign req_valid_o = busy_q && !stopping && issued_q != rows_q;
  assign req_addr_o  = issue_addr_q;
  assign req_beats_o = beats_q;
  assign finished    = busy_q && confirmed_q == issued_q && (issued_q == rows_q || aborted_q);

  // ---- bank reads into a three-entry buffer --------------------------------------------------
  logic rd_en, rd_valid_q;
  assign rd_en = busy_q && !stopping && read_rows_q != rows_q && (!rd_valid_q || dat_ready_i);

  always_comb begin
    bank_re_o = '0;
    bank_re_o[bank_q] = rd_en;
  end
  assign bank_addr_o = rd_addr_q;

  // Three entries: one arriving, one shown, one being read keeps a beat every cycle.
  assign dat_valid_o = rd_valid_q;
  assign dat_data_o  = bank_data_i;

  always_ff @(posedge clk_i) begin
    if (!rst_ni || start || abort_i) begin
      rd_valid_q <= 1'b0;
    end else if (!rd_valid_q || dat_ready_i) begin
      rd_valid_q <= rd_en;
    end
  end

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
      if (wr_done_i && wr_err_i) err_q <= 1'b1;
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
      row_base_q    <= cmd_sram_addr_i;
      rd_addr_q     <= cmd_sram_addr_i;
      issued_q      <= '0;
      confirmed_q   <= '0;
      read_rows_q   <= '0;
      read_beat_q   <= '0;
    end else begin
      if (req_fire) begin
        issued_q     <= issued_q + 1'b1;
        issue_addr_q <= issue_addr_q + host_stride_q;
      end
      if (busy_q && wr_done_i) begin
        confirmed_q <= confirmed_q + 1'b1;
      end
      if (rd_en) begin
        if (read_beat_q == beats_q - 1'b1) begin
          read_beat_q <= '0;
          read_rows_q <= read_rows_q + 1'b1;
          row_base_q  <= row_base_q + sram_stride_q;
          rd_addr_q   <= row_base_q + sram_stride_q;
        end else begin
          read_beat_q <= read_beat_q + 1'b1;
          rd_addr_q   <= rd_addr_q + SramW'(DataBytes);
        end
      end
    end
    if (busy_q && wr_done_i && wr_err_i && !err_q) begin
      err_addr_q <= wr_err_addr_i;
    end
  end

  assign done_o     = finished;
  assign err_o      = err_q;
  assign err_addr_o = err_addr_q;
  assign busy_o     = busy_q;
endmodule

/// An on-chip SRAM bank with a narrow port (the DMA's AXI width) and a wide port (the
/// compute side), built from Wide/Narrow sub-banks so each sub-bank is a plain simple
/// dual-port memory (one synchronous read, one write) that maps to block RAM.
///
/// Addresses: narrow ports take byte addresses (multiples of NarrowBytes); wide ports take
/// word indices (words of WideBytes). Byte b of the bank is byte b % WideBytes of word
/// b / WideBytes. Reads return data the cycle after the request. Each sub-bank has one
/// write and one read per cycle: the narrow and wide write ports must not both write, nor
/// both read, in the same cycle (asserted). Contents are not reset.
`include "ks_assert.svh"

module ks_sram_bank #(
  parameter int unsigned Bytes       = 4096,
  parameter int unsigned WideBytes   = 16,
  parameter int unsigned NarrowBytes = 8,
  parameter int unsigned AddrW       = $clog2(Bytes),
  parameter int unsigned WordAddrW   = (Bytes / WideBytes > 1) ? $clog2(Bytes / WideBytes) : 1
) (
  input  logic                     clk_i,
  input  logic                     rst_ni,
  // Narrow write (DMA loads)
  input  logic                     nw_en_i,
  input  logic [AddrW-1:0]         nw_addr_i,
  input  logic [NarrowBytes*8-1:0] nw_data_i,
  // Narrow read (DMA stores)
  input  logic                     nr_en_i,
  input  logic [AddrW-1:0]         nr_addr_i,
  output logic [NarrowBytes*8-1:0] nr_data_o,
  // Wide write (compute results)
  input  logic                     ww_en_i,
  input  logic [WordAddrW-1:0]     ww_addr_i,
  input  logic [WideBytes*8-1:0]   ww_data_i,
  // Wide read (compute operands)
  input  logic                     wr_en_i,
  input  logic [WordAddrW-1:0]     wr_addr_i,
  output logic [WideBytes*8-1:0]   wr_data_o
);
  localparam int unsigned Subs  = WideBytes / NarrowBytes;
  localparam int unsigned Depth = Bytes / WideBytes;
  localparam int unsigned SubW  = (Subs > 1) ? $clog2(Subs) : 1;
  localparam int unsigned LaneW = $clog2(NarrowBytes);

  // Narrow byte address -> (word, sub-bank). Division by a constant that is a multiple of a
  // power of two: exact and cheap when Subs is a power of two, a small constant divider
  // otherwise.
  logic [AddrW-1:0]     nw_beat, nr_beat;
  logic [WordAddrW-1:0] nw_word, nr_word;
  logic [SubW-1:0]      nw_sub, nr_sub, nr_sub_q;

  assign nw_beat = nw_addr_i >> LaneW;
  assign nr_beat = nr_addr_i >> LaneW;
  assign nw_word = WordAddrW'(nw_beat / AddrW'(Subs));
  assign nr_word = WordAddrW'(nr_beat / AddrW'(Subs));
  assign nw_sub  = SubW'(nw_beat % AddrW'(Subs));
  assign nr_sub  = SubW'(nr_beat % AddrW'(Subs));

  logic [Subs*NarrowBytes*8-1:0] rdata;

  for (genvar s = 0; s < Subs; s++) begin : g_sub
    // No read-during-write behaviour is asked of the memory (no_rw_check: no bypass logic
    // around the block RAM): a word is never read in the cycle it is written (asserted).
    (* no_rw_check *) logic [NarrowBytes*8-1:0] mem [Depth];
    logic                     we, re;
    logic [WordAddrW-1:0]     waddr, raddr;
    logic [NarrowBytes*8-1:0] wdata, rdata_q;

    assign we    = ww_en_i || (nw_en_i && nw_sub == SubW'(s));
    assign waddr = ww_en_i ? ww_addr_i : nw_word;
    assign wdata = ww_en_i ? ww_data_i[s*NarrowBytes*8 +: NarrowBytes*8] : nw_data_i;
    assign re    = wr_en_i || nr_en_i;
    assign raddr = wr_en_i ? wr_addr_i : nr_word;

    always_ff @(posedge clk_i) begin
      if (we) begin
        mem[waddr] <= wdata;
      end
      if (re) begin
        rdata_q <= mem[raddr];
      end
    end
    assign rdata[s*NarrowBytes*8 +: NarrowBytes*8] = rdata_q;

    `KS_ASSERT(no_read_of_the_word_written_a, !(we && re && waddr == raddr))
  end

  always_ff @(posedge clk_i) begin
    if (nr_en_i) begin
      nr_sub_q <= nr_sub;
    end
  end

  assign wr_data_o = rdata;
  assign nr_data_o = rdata[nr_sub_q*NarrowBytes*8 +: NarrowBytes*8];

  `KS_ASSERT(one_writer_a, !(ww_en_i && nw_en_i))
  `KS_ASSERT(one_reader_a, !(wr_en_i && nr_en_i))
  `KS_ASSERT(narrow_write_in_range_a, !nw_en_i || 32'(nw_addr_i) < Bytes)
  `KS_ASSERT(narrow_read_in_range_a, !nr_en_i || 32'(nr_addr_i) < Bytes)
  `KS_ASSERT(wide_write_in_range_a, !ww_en_i || 32'(ww_addr_i) < Depth)
  `KS_ASSERT(wide_read_in_range_a, !wr_en_i || 32'(wr_addr_i) < Depth)
endmodule

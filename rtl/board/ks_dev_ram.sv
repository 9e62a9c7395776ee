/// Single-port synchronous RAM with byte write enables: the board's device memory array.
///
/// One access per cycle on en_i: with any bit of we_i set the enabled bytes of word addr_i
/// are written (rdata_o keeps its value); otherwise word addr_i is read and appears on
/// rdata_o the next cycle. Written so that Yosys maps it to iCE40 SPRAM (SB_SPRAM256KA,
/// `synth_ice40 -spram`) or to ECP5 block RAM (DP16KD). Contents are not reset.
module ks_dev_ram #(
  parameter int unsigned Words     = 16384,
  parameter int unsigned DataBytes = 8,
  parameter int unsigned AddrW     = $clog2(Words)
) (
  input  logic                   clk_i,
  input  logic                   en_i,
  input  logic [DataBytes-1:0]   we_i,
  input  logic [AddrW-1:0]       addr_i,
  input  logic [DataBytes*8-1:0] wdata_i,
  output logic [DataBytes*8-1:0] rdata_o
);
  logic [DataBytes*8-1:0] mem [Words];
  logic [DataBytes*8-1:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (en_i) begin
      if (we_i != '0) begin
        for (int b = 0; b < DataBytes; b++) begin
          if (we_i[b]) mem[addr_i][b*8 +: 8] <= wdata_i[b*8 +: 8];
        end
      end else begin
        rdata_q <= mem[addr_i];
      end
    end
  end
  assign rdata_o = rdata_q;
endmodule

/// The board's host link: a framed command protocol over a byte stream (the UART), turned
/// into register accesses on an AXI4-Lite master (the core's registers), word accesses on the
/// device memory's host port, reads of the token FIFO and a status word. Frame format, status
/// codes and timing rules: docs/host_link.md.
///
/// One command at a time. A request is `A5 op header.. crc8(op, header)`; MEM_WRITE is
/// followed by its data bytes and their own CRC. The answer is `5A op status payload..
/// crc8(op, status, payload)`. A request with a bad header CRC, an unknown opcode, a memory
/// range outside the device memory (for MEM_WRITE) or a UART framing error is discarded up to
/// the next quiet period on the line (IdleCycles with no byte), then answered with its error
/// status, so the host's retry never lands in the middle of the discarded bytes. A request
/// left incomplete for IdleCycles is dropped without an answer. Bytes in: rx_valid_i/rx_ready_o
/// (taken only while a request is being parsed); bytes out: tx_valid_o/tx_ready_i.
///
/// Device memory: one word access per data byte on the host port. mem_req_o and its fields
/// are registered and held until mem_gnt_i (the memory may take any time to grant); a read's
/// word comes back with mem_rvalid_i at any later cycle. No received byte is taken while a
/// request waits for its grant, so a MEM_WRITE is answered only once all its writes are
/// granted (the memory serves granted requests in order).
`include "ks_assert.svh"

module ks_uart_bridge #(
  parameter int unsigned DataBytes  = 8,           // device memory word
  parameter int unsigned MemBytes   = 131072,
  parameter logic [31:0] MemBase    = 32'h0,
  parameter int unsigned RegAddrW   = 12,
  parameter int unsigned IdleCycles = 1 << 20,
  parameter int unsigned TokCountW  = 4,
  parameter int unsigned WordW      = $clog2(MemBytes / DataBytes)
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  // byte stream from the UART receiver
  input  logic                   rx_valid_i,
  output logic                   rx_ready_o,
  input  logic [7:0]             rx_data_i,
  input  logic                   rx_err_i,      // framing error or overrun (a pulse)
  // byte stream to the UART transmitter
  output logic                   tx_valid_o,
  input  logic                   tx_ready_i,
  output logic [7:0]             tx_data_o,
  // AXI4-Lite master: registers
  output logic                   m_awvalid_o,
  input  logic                   m_awready_i,
  output logic [RegAddrW-1:0]    m_awaddr_o,
  output logic                   m_wvalid_o,
  input  logic                   m_wready_i,
  output logic [31:0]            m_wdata_o,
  output logic [3:0]             m_wstrb_o,
  input  logic                   m_bvalid_i,
  output logic                   m_bready_o,
  input  logic [1:0]             m_bresp_i,
  output logic                   m_arvalid_o,
  input  logic                   m_arready_i,
  output logic [RegAddrW-1:0]    m_araddr_o,
  input  logic                   m_rvalid_i,
  output logic                   m_rready_o,
  input  logic [31:0]            m_rdata_i,
  input  logic [1:0]             m_rresp_i,
  // device memory host port
  output logic                   mem_req_o,
  input  logic                   mem_gnt_i,
  output logic                   mem_we_o,
  output logic [WordW-1:0]       mem_addr_o,
  output logic [DataBytes*8-1:0] mem_wdata_o,
  output logic [DataBytes-1:0]   mem_wstrb_o,
  input  logic                   mem_rvalid_i,
  input  logic [DataBytes*8-1:0] mem_rdata_i,
  // token FIFO: {last, forced, token}
  input  logic                   tok_valid_i,
  output logic                   tok_ready_o,
  input  logic [33:0]            tok_data_i,
  input  logic [TokCountW-1:0]   tok_count_i,
  // core interrupt line
  input  logic                   irq_i
);
  `include "ks_cmp.svh"
  localparam logic [7:0] SyncReq = 8'hA5;
  localparam logic [7:0] SyncRsp = 8'h5A;
  localparam logic [7:0] OpRegWrite = 8'h01;
  localparam logic [7:0] OpRegRead  = 8'h02;
  localparam logic [7:0] OpMemWrite = 8'h03;
  localparam logic [7:0] OpMemRead  = 8'h04;
  localparam logic [7:0] OpTokens   = 8'h05;
  localparam logic [7:0] OpStatus   = 8'h06;
  localparam logic [7:0] OpInfo     = 8'h07;
  localparam logic [7:0] Version    = 8'h01;
  localparam logic [7:0] StOk       = 8'h00;
  localparam logic [7:0] StBusErr   = 8'h01;
  localparam logic [7:0] StBadCrc   = 8'h02;
  localparam logic [7:0] StBadData  = 8'h03;
  localparam logic [7:0] StBadOp    = 8'h04;
  localparam logic [7:0] StBadRange = 8'h05;
  localparam logic [7:0] StLineErr  = 8'h06;
  localparam int unsigned OffW  = $clog2(DataBytes);
  localparam int unsigned IdleW = $clog2(IdleCycles + 1);

  /// CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial value 0, no reflection.
  function automatic logic [7:0] crc8(input logic [7:0] crc, input logic [7:0] data);
    logic [7:0] x;
    x = crc ^ data;
    for (int i = 0; i < 8; i++) x = x[7] ? ((x << 1) ^ 8'h07) : (x << 1);
    crc8 = x;
  endfunction

  typedef enum logic [3:0] {
    SSync, SOp, SHdr, SHcrc, SMemData, SMemCrc, SDrain, SRegW, SRegB, SRegAr, SRegR, SResp
  } state_e;
  // Response phases: sync, op, status, payload, crc.
  typedef enum logic [2:0] {PSync, POp, PStatus, PPayload, PCrc} phase_e;

  state_e           state_q, state_d;
  phase_e           ph_q, ph_d;
  logic [7:0]       op_q, op_d, status_q, status_d, crc_q, crc_d, hlen_q, hlen_d, cnt_q, cnt_d;
  logic [47:0]      hdr_q, hdr_d;                 // the header; a REG_READ's data after it
  logic [MOffW-1:0] moff_q;                   // memory byte offset of the next byte
  logic             byte_crc_q, byte_crc_d;   // the byte offered counts in the CRC
  logic [16:0]      left_q;                   // memory bytes still to move
  logic             left_zero_q, left_one_q;  // left_q == 0, left_q == 1
  logic [IdleW-1:0] idle_q;
  logic             quiet;
  logic             aw_done_q, aw_done_d, w_done_q, w_done_d;
  logic             mem_wait_q, mem_wait_d;   // a memory read is in flight for the next byte
  logic [7:0]       byte_q, byte_d;           // response byte being offered
  logic             byte_valid_q, byte_valid_d;
  logic [7:0]       ntok_q, ntok_d;           // tokens still to send
  logic [2:0]       tbyte_q, tbyte_d;         // byte of the current token (0..4)

  // Header fields (little-endian, in arrival order).
  logic [15:0] h_off, h_len;
  logic [31:0] h_data, h_addr;
  logic [7:0]  h_max;
  assign h_off  = hdr_q[15:0];
  assign h_data = hdr_q[47:16];
  assign h_addr = hdr_q[31:0];
  assign h_len  = hdr_q[47:32];
  assign h_max  = hdr_q[7:0];

  function automatic logic [7:0] hdr_len(input logic [7:0] op);
    case (op)
      OpRegWrite: hdr_len = 8'd6;
      OpRegRead:  hdr_len = 8'd2;
      OpMemWrite: hdr_len = 8'd6;
      OpMemRead:  hdr_len = 8'd6;
      OpTokens:   hdr_len = 8'd1;
      default:    hdr_len = 8'd0;
    endcase
  endfunction

  function automatic logic known_op(input logic [7:0] op);
    known_op = op == OpRegWrite || op == OpRegRead || op == OpMemWrite || op == OpMemRead ||
               op == OpTokens || op == OpStatus || op == OpInfo;
  endfunction

  // Range checks on the header, in three registered steps: the header is complete a byte
  // time (10 x ClkPerBit cycles) before the CRC byte that acts on it arrives.
  localparam int unsigned MOffW = OffW + WordW;   // byte offset inside the memory
  // With MemBase a multiple of MemBytes (a power of two), the offset is the address's low
  // bits and the base a match of its high ones: no subtraction.
  localparam bit Aligned = (MemBytes & (MemBytes - 1)) == 0 && (MemBase % MemBytes) == 0 && MOffW < 32;
  logic        mem_range_ok_q, reg_off_ok_q, above_base_q, above_base_q2;
  logic [MOffW-1:0] m_off;   // the header's byte offset inside the memory
  logic [15:0] len_q;
  if (Aligned) begin : g_aligned
    // Wide enough for the largest offset plus the largest length (16 bits).
    localparam int unsigned EndW = (MOffW > 16 ? MOffW : 16) + 1;
    logic [EndW-1:0] end_q;
    always_ff @(posedge clk_i) begin
      above_base_q   <= (h_addr >> MOffW) == (MemBase >> MOffW);
      len_q          <= h_len;
      end_q          <= EndW'(h_addr[MOffW-1:0]) + EndW'(h_len);
      above_base_q2  <= above_base_q && len_q != 16'd0;
      mem_range_ok_q <= above_base_q2 && !ks_gt_const(64'(end_q), 64'(MemBytes));
    end
    assign m_off = h_addr[MOffW-1:0];
  end else begin : g_offset
    logic [32:0] m_end_q, m_off_q;
    always_ff @(posedge clk_i) begin
      m_off_q        <= {1'b0, h_addr} - {1'b0, MemBase};
      above_base_q   <= h_addr >= MemBase;
      len_q          <= h_len;
      m_end_q        <= m_off_q + 33'(len_q);
      above_base_q2  <= above_base_q && len_q != 16'd0;
      mem_range_ok_q <= above_base_q2 && m_end_q <= 33'(MemBytes);
    end
    assign m_off = m_off_q[MOffW-1:0];
  end
  always_ff @(posedge clk_i) begin
    reg_off_ok_q <= (32'(h_off) >> RegAddrW) == '0;
  end

  // The state and status a request with a good CRC goes on with, from its (registered) op
  // and range checks.
  state_e     disp_state_q;
  logic [7:0] disp_status_q, ntok_q2;
  always_ff @(posedge clk_i) begin
    disp_status_q <= StOk;
    unique case (op_q)
      OpRegWrite: begin
        disp_state_q  <= reg_off_ok_q ? SRegW : SResp;
        disp_status_q <= reg_off_ok_q ? StOk : StBusErr;
      end
      OpRegRead: begin
        disp_state_q  <= reg_off_ok_q ? SRegAr : SResp;
        disp_status_q <= reg_off_ok_q ? StOk : StBusErr;
      end
      OpMemWrite: begin
        disp_state_q  <= mem_range_ok_q ? SMemData : SDrain;
        disp_status_q <= mem_range_ok_q ? StOk : StBadRange;
      end
      OpMemRead: begin
        disp_state_q  <= SResp;
        disp_status_q <= mem_range_ok_q ? StOk : StBadRange;
      end
      default: disp_state_q <= SResp;   // TOKENS, STATUS, INFO
    endcase
    ntok_q2 <= (32'(tok_count_i) < 32'(h_max)) ? 8'(tok_count_i) : h_max;
  end

  logic [127:0] info;
  assign info = 128'({Version, 8'(DataBytes), 32'(MemBytes), MemBase});

  // Received bytes pass through a register first (rx_byte), so the parser starts from flops.
  logic       rx_take, parsing;   // parsing: inside a request, after its sync byte
  logic       rxb_valid_q, rx_err_q;
  logic [7:0] rx_byte;
  assign parsing    = state_q == SOp || state_q == SHdr || state_q == SHcrc || state_q == SMemData ||
                      state_q == SMemCrc;
  // No byte is taken while a memory request is registered (until the cycle after its grant):
  // a MEM_WRITE's next byte, or its CRC byte, waits for the previous byte's write. (From a
  // register, to keep the memory's grant logic out of the parser's path.)
  logic mem_pend;
  assign mem_pend   = mem_req_q && !mem_gnt_i;
  assign rx_take    = rxb_valid_q && !mem_req_q && (parsing || state_q == SSync || state_q == SDrain);
  assign rx_ready_o = !rxb_valid_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      rxb_valid_q <= 1'b0;
      rx_err_q    <= 1'b0;
    end else begin
      if (rx_valid_i && rx_ready_o) rxb_valid_q <= 1'b1;
      else if (rx_take) rxb_valid_q <= 1'b0;
      rx_err_q <= rx_err_i;
    end
    if (rx_valid_i && rx_ready_o) rx_byte <= rx_data_i;
  end

  // Quiet-line detector: cycles since the last byte (saturating), and its flag registered.
  logic quiet_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni || rx_take) begin
      idle_q  <= '0;
      quiet_q <= 1'b0;
    end else begin
      if (!quiet_q) idle_q <= idle_q + 1'b1;
      quiet_q <= IdleCycles < 2 || ks_gt_const(64'(idle_q), 64'(IdleCycles) - 64'd2);   // >= IdleCycles - 1
    end
  end
  assign quiet = quiet_q;

  // The response CRC takes each counted byte as the transmitter accepts it.
  logic       tx_fire;
  logic [7:0] crc_now;
  assign tx_fire = byte_valid_q && tx_ready_i;
  assign crc_now = (tx_fire && byte_crc_q) ? crc8(crc_q, byte_q) : crc_q;

  always_comb begin
    state_d      = state_q;
    ph_d         = state_q == SResp ? ph_q : PSync;   // an answer starts with its sync byte
    op_d         = op_q;
    status_d     = status_q;
    crc_d        = crc_q;
    hlen_d       = hlen_q;
    cnt_d        = cnt_q;
    hdr_d        = hdr_q;
    byte_crc_d   = byte_crc_q;
    aw_done_d    = aw_done_q;
    w_done_d     = w_done_q;
    mem_wait_d   = mem_wait_q;
    byte_d       = byte_q;
    byte_valid_d = byte_valid_q;
    ntok_d       = ntok_q;
    tbyte_d      = tbyte_q;
    mem_req_d    = 1'b0;
    mem_we_d     = 1'b0;
    mem_addr_d   = moff_q[OffW +: WordW];
    mem_wbyte_d  = rx_byte;
    mem_wstrb_d  = DataBytes'(1) << moff_q[OffW-1:0];
    tok_ready_o  = 1'b0;

    // A framing error or overrun inside a request spoils it.
    if (rx_err_q && parsing) begin
      status_d = StLineErr;
      state_d  = SDrain;
    end else begin
      unique case (state_q)
        SSync: if (rx_take && rx_byte == SyncReq) begin
          crc_d   = 8'd0;   // the request's CRC starts from 0 with its op byte
          state_d = SOp;
        end
        SOp: if (rx_take) begin
          op_d   = rx_byte;
          crc_d  = crc8(crc_q, rx_byte);
          hlen_d = hdr_len(rx_byte) - 8'd1;   // the index of the last header byte
          cnt_d  = '0;
          hdr_d  = '0;
          if (!known_op(rx_byte)) begin
            status_d = StBadOp;
            state_d  = SDrain;
          end else begin
            state_d = (hdr_len(rx_byte) == 8'd0) ? SHcrc : SHdr;
          end
        end else if (quiet) begin
          state_d = SSync;
        end
        SHdr: if (rx_take) begin
          for (int k = 0; k < 6; k++) begin
            if (cnt_q[2:0] == 3'(k)) hdr_d[k*8 +: 8] = rx_byte;
          end
          crc_d = crc8(crc_q, rx_byte);
          cnt_d = cnt_q + 1'b1;
          if (cnt_q == hlen_q) state_d = SHcrc;
        end else if (quiet) begin
          state_d = SSync;
        end
        SHcrc: if (rx_take) begin
          // Where the request goes was worked out while its CRC byte was on the line.
          aw_done_d = 1'b0;
          w_done_d  = 1'b0;
          tbyte_d   = '0;
          ntok_d    = ntok_q2;
          if (op_q == OpMemWrite) crc_d = 8'd0;
          if (rx_byte != crc_q) begin
            status_d = StBadCrc;
            state_d  = SDrain;
          end else begin
            status_d = disp_status_q;
            state_d  = disp_state_q;
          end
        end else if (quiet) begin
          state_d = SSync;
        end
        SMemData: if (rx_take) begin
          mem_req_d = 1'b1;
          mem_we_d  = 1'b1;
          crc_d     = crc8(crc_q, rx_byte);
          if (left_one_q) state_d = SMemCrc;
        end else if (quiet) begin
          state_d = SSync;
        end
        SMemCrc: if (rx_take) begin
          status_d = (rx_byte == crc_q) ? StOk : StBadData;
          state_d  = SResp;
        end else if (quiet) begin
          state_d = SSync;
        end
        SDrain: if (quiet) begin
          state_d = SResp;
        end
        SRegW: begin
          if (m_awready_i) aw_done_d = 1'b1;
          if (m_wready_i) w_done_d = 1'b1;
          if ((aw_done_q || m_awready_i) && (w_done_q || m_wready_i)) state_d = SRegB;
        end
        SRegB: if (m_bvalid_i) begin
          status_d = (m_bresp_i == 2'b00) ? StOk : StBusErr;
          state_d  = SResp;
        end
        SRegAr: if (m_arready_i) state_d = SRegR;
        SRegR: if (m_rvalid_i) begin
          status_d = (m_rresp_i == 2'b00) ? StOk : StBusErr;
          hdr_d[31:0] = m_rdata_i;   // the offset in it is no longer needed
          state_d  = SResp;
        end
        SResp: begin
          // Offer the next byte once the last one has gone.
          crc_d = crc_now;
          if (tx_fire) byte_valid_d = 1'b0;
          if (!byte_valid_q) begin   // one byte per two cycles: plenty for a UART
            byte_valid_d = 1'b1;
            byte_crc_d   = 1'b1;
            unique case (ph_q)
              PSync: begin
                byte_d     = SyncRsp;
                byte_crc_d = 1'b0;
                crc_d      = 8'd0;
                ph_d       = POp;
              end
              POp: begin
                byte_d = op_q;
                ph_d   = PStatus;
              end
              PStatus: begin
                byte_d = status_q;
                cnt_d  = '0;
                ph_d   = PPayload;
                if (status_q != StOk || op_q == OpRegWrite || op_q == OpMemWrite) ph_d = PCrc;
              end
              PPayload: begin
                unique case (op_q)
                  OpRegRead: begin
                    byte_d = hdr_q[cnt_q[1:0]*8 +: 8];
                    cnt_d  = cnt_q + 1'b1;
                    if (cnt_q == 8'd3) ph_d = PCrc;
                  end
                  OpMemRead: begin
                    // One memory read per byte: request, then offer the byte it returns.
                    byte_valid_d = 1'b0;
                    if (!mem_wait_q) begin
                      mem_req_d  = 1'b1;
                      mem_wait_d = 1'b1;
                    end else if (mem_word_valid_q) begin
                      // (left_q already counts this byte off: it steps with mem_rvalid_i)
                      mem_wait_d   = 1'b0;
                      byte_d       = mem_byte_q;
                      byte_valid_d = 1'b1;
                      if (left_zero_q) ph_d = PCrc;
                    end
                  end
                  OpTokens: begin
                    if (cnt_q == 8'd0) begin
                      byte_d = ntok_q;
                      cnt_d  = 8'd1;
                      if (ntok_q == 8'd0) ph_d = PCrc;
                    end else begin
                      byte_d  = (tbyte_q == 3'd4) ? {6'd0, tok_data_i[33], tok_data_i[32]}
                                                  : tok_data_i[tbyte_q[1:0]*8 +: 8];
                      tbyte_d = tbyte_q + 1'b1;
                      if (tbyte_q == 3'd4) begin
                        tok_ready_o = 1'b1;
                        tbyte_d     = '0;
                        ntok_d      = ntok_q - 1'b1;
                        if (ntok_q == 8'd1) ph_d = PCrc;
                      end
                    end
                  end
                  OpInfo: begin    // memory base and size, word bytes, protocol version
                    byte_d = info[cnt_q[3:0]*8 +: 8];
                    cnt_d  = cnt_q + 1'b1;
                    if (cnt_q == 8'd9) ph_d = PCrc;
                  end
                  default: begin   // OpStatus: irq line, tokens waiting
                    byte_d = (cnt_q == 8'd0) ? {7'd0, irq_i} : 8'(tok_count_i);
                    cnt_d  = cnt_q + 1'b1;
                    if (cnt_q == 8'd1) ph_d = PCrc;
                  end
                endcase
              end
              default: begin  // PCrc: the CRC byte, then done once it has gone
                if (cnt_q != 8'hFF) begin
                  byte_d     = crc_now;
                  byte_crc_d = 1'b0;
                  cnt_d      = 8'hFF;
                end else begin
                  byte_valid_d = 1'b0;
                  state_d      = SSync;
                end
              end
            endcase
          end
        end
        default: state_d = SSync;
      endcase
    end
  end

  // The memory port is registered: a request leaves the cycle after it is decided (reads
  // wait for mem_rvalid_i anyway), which keeps the UART's logic out of the RAM's setup path.
  // It is held until granted; the state machine asks for no other access meanwhile (a read
  // waits for its word, a write's next byte is not taken).
  logic                   mem_req_d, mem_we_d, mem_req_q, mem_we_q;
  logic [WordW-1:0]       mem_addr_d, mem_addr_q;
  logic [7:0]             mem_wbyte_d, mem_wbyte_q;   // written to every lane, strobed to one
  logic [DataBytes-1:0]   mem_wstrb_d, mem_wstrb_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      mem_req_q <= 1'b0;
    end else if (!mem_pend) begin
      mem_req_q <= mem_req_d;
    end
    if (!mem_pend) begin
      mem_we_q    <= mem_we_d;
      mem_addr_q  <= mem_addr_d;
      mem_wbyte_q <= mem_wbyte_d;
      mem_wstrb_q <= mem_wstrb_d;
    end
  end
  assign mem_req_o   = mem_req_q;
  assign mem_we_o    = mem_we_q;
  assign mem_addr_o  = mem_addr_q;
  assign mem_wdata_o = {DataBytes{mem_wbyte_q}};
  assign mem_wstrb_o = mem_wstrb_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q      <= SSync;
      byte_valid_q <= 1'b0;
      mem_wait_q   <= 1'b0;
    end else begin
      state_q      <= state_d;
      byte_valid_q <= byte_valid_d;
      mem_wait_q   <= mem_wait_d;
    end
  end
  // The byte a memory read is for, picked from the word as it arrives and registered (only
  // the lane multiplexer follows the RAM's output in that cycle; moff_q steps with
  // mem_rvalid_i, so it still holds this byte's offset).
  logic [7:0] mem_byte_q;
  logic       mem_word_valid_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      mem_word_valid_q <= 1'b0;
    end else begin
      mem_word_valid_q <= mem_rvalid_i;
    end
    if (mem_rvalid_i) mem_byte_q <= mem_rdata_i[moff_q[OffW-1:0]*8 +: 8];
  end

  // The memory transfer's offset and count, kept apart from the state machine: loaded by the
  // header's CRC byte, stepped by each data byte taken (MEM_WRITE) or read back (MEM_READ:
  // mem_rvalid_i answers only the bridge's own reads, one per byte).
  always_ff @(posedge clk_i) begin
    if (state_q == SHcrc && rx_take) begin
      moff_q <= m_off;
      left_q <= 17'(h_len);
      left_zero_q <= h_len == 16'd0;
      left_one_q  <= h_len == 16'd1;
    end else if ((state_q == SMemData && rx_take) || mem_rvalid_i) begin
      moff_q <= moff_q + 1'b1;
      left_q <= left_q - 1'b1;
      left_zero_q <= left_q == 17'd1;
      left_one_q  <= left_q == 17'd2;
    end
  end

  always_ff @(posedge clk_i) begin
    ph_q      <= ph_d;
    op_q      <= op_d;
    status_q  <= status_d;
    crc_q     <= crc_d;
    hlen_q    <= hlen_d;
    cnt_q     <= cnt_d;
    hdr_q     <= hdr_d;
    byte_crc_q <= byte_crc_d;
    aw_done_q <= aw_done_d;
    w_done_q  <= w_done_d;
    byte_q    <= byte_d;
    ntok_q    <= ntok_d;
    tbyte_q   <= tbyte_d;
  end

  assign tx_valid_o  = byte_valid_q;
  assign tx_data_o   = byte_q;
  assign m_awvalid_o = state_q == SRegW && !aw_done_q;
  assign m_wvalid_o  = state_q == SRegW && !w_done_q;
  assign m_awaddr_o  = RegAddrW'(h_off);
  assign m_araddr_o  = RegAddrW'(h_off);
  assign m_wdata_o   = h_data;
  assign m_wstrb_o   = 4'hF;
  assign m_bready_o  = state_q == SRegB;
  assign m_arvalid_o = state_q == SRegAr;
  assign m_rready_o  = state_q == SRegR;

  `KS_ASSERT(tx_byte_held_until_taken, (tx_valid_o && !tx_ready_i) |=> (tx_valid_o && $stable(tx_data_o)))
  `KS_ASSERT(tokens_popped_only_when_present, tok_ready_o |-> tok_valid_i)
  `KS_ASSERT(no_memory_request_while_one_waits, mem_pend |-> !mem_req_d)
endmodule

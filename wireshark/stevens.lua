-- stevens.lua: a Wireshark/tshark dissector for stevens, TCP's machinery carried in UDP datagrams.
--
-- Every UDP payload stevens sends is one of:
--
--   +---------+------+----------------------------------------------+-----------------+
--   | version | type | body                                         | CRC-32 (BE)     |
--   | 1 byte  | 1 B  |                                              | 4 bytes         |
--   +---------+------+----------------------------------------------+-----------------+
--   version 1; type 0: body = a TCP header (RFC 9293, checksum field 0) and its payload;
--              type 1: body = source port (2), destination port (2), payload (an unreliable datagram);
--   CRC-32: zlib's CRC-32 (IEEE) of every byte before it.
--
-- This dissector shows that header, checks the CRC-32 (a pure-Lua table implementation; a mismatch is an expert
-- error and the field stevens.crc_bad is true), and hands a segment to Wireshark's own TCP dissector, so a plain
-- capture of a stevens UDP port gets the full TCP analysis (retransmissions, dup ACKs, SACK, the Stevens graph).
--
-- Loading it:
--   tshark -X lua_script:wireshark/stevens.lua -r capture.pcap
--   wireshark -X lua_script:wireshark/stevens.lua capture.pcap
--   or copy it into the personal plugin folder, ~/.local/lib/wireshark/plugins/ (Help > About Wireshark > Folders
--   shows the folder), and it loads every time.
-- Port: UDP 7777 by default; change it with the preference stevens.port (Edit > Preferences > Protocols >
-- STEVENS, or tshark -o stevens.port:5000). Any other port is recognised by a heuristic: version byte 1, type 0
-- or 1, and a CRC-32 that matches (tshark: --enable-heuristic stevens_udp is on by default; disable with
-- --disable-heuristic stevens_udp).
-- The TCP checksum field is 0 over UDP (the CRC-32 protects the datagram instead); tshark's TCP checksum check is
-- off by default, so it raises no warning unless tcp.check_checksum is turned on.

local stevens = Proto("stevens", "stevens (TCP over UDP)")

local TYPE_NAMES = { [0] = "TCP segment", [1] = "Unreliable datagram" }

local f_version = ProtoField.uint8("stevens.version", "Version", base.DEC)
local f_type = ProtoField.uint8("stevens.type", "Type", base.DEC, TYPE_NAMES)
local f_crc = ProtoField.uint32("stevens.crc", "CRC-32", base.HEX)
local f_crc_computed = ProtoField.uint32("stevens.crc.computed", "CRC-32 (computed)", base.HEX)
local f_crc_bad = ProtoField.bool("stevens.crc_bad", "Bad CRC-32")
local f_dgram_src = ProtoField.uint16("stevens.datagram.srcport", "Source port", base.DEC)
local f_dgram_dst = ProtoField.uint16("stevens.datagram.dstport", "Destination port", base.DEC)
local f_dgram_len = ProtoField.uint32("stevens.datagram.length", "Payload length", base.DEC)
local f_dgram_payload = ProtoField.bytes("stevens.datagram.payload", "Payload")
local f_body = ProtoField.bytes("stevens.body", "Body (not delivered)")
stevens.fields = { f_version, f_type, f_crc, f_crc_computed, f_crc_bad, f_dgram_src, f_dgram_dst, f_dgram_len, f_dgram_payload, f_body }

local ef_crc_bad = ProtoExpert.new("stevens.crc_bad.expert", "Bad CRC-32: stevens drops this datagram", expert.group.CHECKSUM, expert.severity.ERROR)
local ef_malformed = ProtoExpert.new("stevens.malformed", "Not a valid stevens datagram", expert.group.MALFORMED, expert.severity.ERROR)
local ef_unreliable = ProtoExpert.new("stevens.unreliable", "Unreliable datagram (not part of the TCP stream)", expert.group.SEQUENCE, expert.severity.NOTE)
stevens.experts = { ef_crc_bad, ef_malformed, ef_unreliable }

local DEFAULT_PORT = 7777
stevens.prefs.port = Pref.uint("UDP port", DEFAULT_PORT, "The UDP port stevens runs on (other ports are found by the heuristic)")

-- Bit operations: Lua 5.2's bit32, LuaJIT/BitOp's bit, or Lua 5.3+ operators.
local band, bxor, rshift
if bit32 ~= nil then
  band, bxor, rshift = bit32.band, bit32.bxor, bit32.rshift
elseif bit ~= nil then
  local b = bit
  band = function(x, y) return b.band(x, y) % 4294967296 end
  bxor = function(x, y) return b.bxor(x, y) % 4294967296 end
  rshift = function(x, n) return b.rshift(x, n) % 4294967296 end
else
  band = load("return function(x, y) return (x & y) & 0xFFFFFFFF end")()
  bxor = load("return function(x, y) return (x ~ y) & 0xFFFFFFFF end")()
  rshift = load("return function(x, n) return (x & 0xFFFFFFFF) >> n end")()
end

-- CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), one table lookup per byte.
local CRC_TABLE = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if band(c, 1) == 1 then
      c = bxor(0xEDB88320, rshift(c, 1))
    else
      c = rshift(c, 1)
    end
  end
  CRC_TABLE[i] = c
end

local function crc32(tvb, offset, length)
  local crc = 0xFFFFFFFF
  if length > 0 then
    local bytes = tvb:range(offset, length):bytes()
    for i = 0, length - 1 do
      crc = bxor(CRC_TABLE[band(bxor(crc, bytes:get_index(i)), 0xFF)], rshift(crc, 8))
    end
  end
  return bxor(crc, 0xFFFFFFFF)
end

local tcp_dissector = Dissector.get("tcp")

-- Returns the number of bytes consumed (0 when this is not a stevens datagram at all).
function stevens.dissector(tvb, pinfo, tree)
  local len = tvb:len()
  local subtree = tree:add(stevens, tvb(), "stevens")
  if len < 6 then
    pinfo.cols.protocol = "STEVENS"
    pinfo.cols.info = "Too short for a stevens datagram"
    subtree:add_proto_expert_info(ef_malformed, "Shorter than the 6 bytes of header and CRC-32")
    return len
  end
  local version = tvb(0, 1):uint()
  local kind = tvb(1, 1):uint()
  subtree:add(f_version, tvb(0, 1))
  subtree:add(f_type, tvb(1, 1))
  local want = tvb(len - 4, 4):uint()
  local got = crc32(tvb, 0, len - 4)
  local crc_item = subtree:add(f_crc, tvb(len - 4, 4))
  subtree:add(f_crc_computed, got):set_generated()
  local bad = want ~= got
  subtree:add(f_crc_bad, bad):set_generated()
  if version ~= 1 or (kind ~= 0 and kind ~= 1) then
    pinfo.cols.protocol = "STEVENS"
    pinfo.cols.info = string.format("Unknown stevens version %d / type %d", version, kind)
    subtree:add_proto_expert_info(ef_malformed, "Version must be 1 and type 0 or 1")
    return len
  end
  if bad then
    pinfo.cols.protocol = "STEVENS"
    pinfo.cols.info = string.format("Bad CRC-32 (carried 0x%08x, computed 0x%08x): %s dropped by stevens", want, got, TYPE_NAMES[kind])
    crc_item:add_proto_expert_info(ef_crc_bad, string.format("Bad CRC-32: carried 0x%08x, computed 0x%08x", want, got))
    if len > 6 then subtree:add(f_body, tvb(2, len - 6)) end
    return len
  end
  if kind == 1 then
    pinfo.cols.protocol = "STEVENS"
    if len < 10 then
      pinfo.cols.info = "Unreliable datagram too short for its ports"
      subtree:add_proto_expert_info(ef_malformed, "An unreliable datagram needs 4 bytes of ports")
      return len
    end
    local sport = tvb(2, 2):uint()
    local dport = tvb(4, 2):uint()
    local n = len - 10
    subtree:set_text(string.format("stevens unreliable datagram, %d -> %d, %d bytes", sport, dport, n))
    subtree:add(f_dgram_src, tvb(2, 2))
    subtree:add(f_dgram_dst, tvb(4, 2))
    subtree:add(f_dgram_len, n):set_generated()
    if n > 0 then subtree:add(f_dgram_payload, tvb(6, n)) end
    subtree:add_proto_expert_info(ef_unreliable)
    pinfo.cols.info = string.format("Unreliable datagram %d \xe2\x86\x92 %d Len=%d", sport, dport, n)
    return len
  end
  subtree:set_text(string.format("stevens TCP segment, %d bytes, CRC-32 0x%08x (good)", len - 6, want))
  tcp_dissector:call(tvb(2, len - 6):tvb(), pinfo, tree)
  return len
end

local function heuristic(tvb, pinfo, tree)
  local len = tvb:len()
  if len < 6 then return false end
  if tvb(0, 1):uint() ~= 1 then return false end
  local kind = tvb(1, 1):uint()
  if kind ~= 0 and kind ~= 1 then return false end
  if kind == 0 and len < 26 then return false end
  if crc32(tvb, 0, len - 4) ~= tvb(len - 4, 4):uint() then return false end
  stevens.dissector(tvb, pinfo, tree)
  return true
end
stevens:register_heuristic("udp", heuristic)

local udp_port = DissectorTable.get("udp.port")
local registered_port = DEFAULT_PORT
udp_port:add(registered_port, stevens)

function stevens.prefs_changed()
  if stevens.prefs.port ~= registered_port then
    if registered_port ~= 0 then udp_port:remove(registered_port, stevens) end
    registered_port = stevens.prefs.port
    if registered_port ~= 0 then udp_port:add(registered_port, stevens) end
  end
end

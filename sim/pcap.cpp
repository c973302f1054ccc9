#include "sim/pcap.hpp"

#include <algorithm>

namespace seedlog::sim {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr size_t kMaxPayload = 32 * 1024;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void put32le(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put16le(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

// The Internet checksum (RFC 1071) over `data`, continuing from `sum`.
uint32_t sum16(ByteView data, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < data.size(); i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (data.size() % 2 == 1) sum += static_cast<uint32_t>(data.back() << 8);
  return sum;
}
uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void ethernet(Bytes& b, uint32_t src_ip, uint32_t dst_ip) {
  // Locally administered MACs 02:00:<ip>: readable and unique per node.
  for (uint32_t ip : {dst_ip, src_ip}) {
    b.push_back(0x02);
    b.push_back(0x00);
    put32(b, ip);
  }
  put16(b, 0x0800);
}

void ipv4(Bytes& b, uint32_t src, uint32_t dst, uint8_t protocol, size_t payload_len, uint16_t id) {
  const size_t start = b.size();
  b.push_back(0x45);
  b.push_back(0);
  put16(b, static_cast<uint16_t>(20 + payload_len));
  put16(b, id);
  put16(b, 0x4000);  // don't fragment
  b.push_back(64);
  b.push_back(protocol);
  put16(b, 0);  // checksum, below
  put32(b, src);
  put32(b, dst);
  const uint16_t c = fold(sum16(ByteView(b).subspan(start, 20)));
  b[start + 10] = static_cast<uint8_t>(c >> 8);
  b[start + 11] = static_cast<uint8_t>(c);
}

uint32_t pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol, size_t len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + static_cast<uint32_t>(len);
}

}  // namespace

PcapWriter::PcapWriter(Sink sink) : sink_(std::move(sink)) {
  Bytes header;
  put32le(header, 0xa1b23c4d);  // nanosecond-resolution pcap
  put16le(header, 2);
  put16le(header, 4);
  put32le(header, 0);  // thiszone
  put32le(header, 0);  // sigfigs
  put32le(header, 262144);
  put32le(header, 1);  // LINKTYPE_ETHERNET
  sink_(header);
}

uint32_t PcapWriter::address_of(NodeId node) {
  const uint32_t id = node.value();
  return (127u << 24) | ((id / 250) << 8) | (id % 250 + 1);
}

void PcapWriter::packet(Instant t, const Bytes& frame) {
  Bytes rec;
  rec.reserve(16 + frame.size());
  const int64_t ns = t.ns() + 1704067200LL * 1000000000LL;  // the simulated wall-clock epoch
  put32le(rec, static_cast<uint32_t>(ns / 1000000000));
  put32le(rec, static_cast<uint32_t>(ns % 1000000000));
  put32le(rec, static_cast<uint32_t>(frame.size()));
  put32le(rec, static_cast<uint32_t>(frame.size()));
  rec.insert(rec.end(), frame.begin(), frame.end());
  sink_(rec);
  ++packets_;
}

void PcapWriter::tcp(Instant t, const Endpoints& ep, uint8_t flags, uint32_t seq, uint32_t ack, ByteView payload) {
  const uint32_t src = address_of(ep.src), dst = address_of(ep.dst);
  Bytes f;
  f.reserve(14 + 20 + 20 + payload.size());
  ethernet(f, src, dst);
  ipv4(f, src, dst, 6, 20 + payload.size(), ip_id_++);
  const size_t start = f.size();
  put16(f, ep.src_port);
  put16(f, ep.dst_port);
  put32(f, seq);
  put32(f, ack);
  f.push_back(5 << 4);  // data offset: 5 words
  f.push_back(flags);
  put16(f, 65535);  // window
  put16(f, 0);      // checksum, below
  put16(f, 0);      // urgent pointer
  f.insert(f.end(), payload.begin(), payload.end());
  const uint32_t s = sum16(ByteView(f).subspan(start), pseudo_header_sum(src, dst, 6, 20 + payload.size()));
  const uint16_t c = fold(s);
  f[start + 16] = static_cast<uint8_t>(c >> 8);
  f[start + 17] = static_cast<uint8_t>(c);
  packet(t, f);
}

void PcapWriter::udp(Instant t, const Endpoints& ep, ByteView payload) {
  const uint32_t src = address_of(ep.src), dst = address_of(ep.dst);
  Bytes f;
  ethernet(f, src, dst);
  ipv4(f, src, dst, 17, 8 + payload.size(), ip_id_++);
  const size_t start = f.size();
  put16(f, ep.src_port);
  put16(f, ep.dst_port);
  put16(f, static_cast<uint16_t>(8 + payload.size()));
  put16(f, 0);
  f.insert(f.end(), payload.begin(), payload.end());
  uint16_t c = fold(sum16(ByteView(f).subspan(start), pseudo_header_sum(src, dst, 17, 8 + payload.size())));
  if (c == 0) c = 0xffff;
  f[start + 6] = static_cast<uint8_t>(c >> 8);
  f[start + 7] = static_cast<uint8_t>(c);
  packet(t, f);
}

PcapWriter::Flow& PcapWriter::flow(uint64_t connection, const Endpoints& ep) {
  const auto& opener = openers_[connection];
  const bool from_opener = opener.first == ep.src && opener.second == ep.src_port;
  return flows_[{connection, from_opener}];
}

PcapWriter::Flow& PcapWriter::reverse(uint64_t connection, const Endpoints& ep) {
  return flow(connection, Endpoints{ep.dst, ep.src, ep.dst_port, ep.src_port});
}

void PcapWriter::record(const WireEvent& e) {
  const Endpoints ep{e.src, e.dst, e.src_port, e.dst_port};
  switch (e.kind) {
    case WireEvent::Kind::datagram:
      return udp(e.time, ep, e.data);
    case WireEvent::Kind::open: {
      // Deterministic initial sequence numbers, distinct per connection and direction.
      openers_[e.connection] = {e.src, e.src_port};
      Flow& out = flow(e.connection, ep);
      Flow& back = reverse(e.connection, ep);
      out.seq = static_cast<uint32_t>(e.connection * 0x10001u);
      back.seq = static_cast<uint32_t>(e.connection * 0x20003u);
      out.open = back.open = true;
      const Endpoints rev{e.dst, e.src, e.dst_port, e.src_port};
      tcp(e.time, ep, kSyn, out.seq++, 0, {});
      tcp(e.time, rev, kSyn | kAck, back.seq++, out.seq, {});
      tcp(e.time, ep, kAck, out.seq, back.seq, {});
      return;
    }
    case WireEvent::Kind::data: {
      Flow& out = flow(e.connection, ep);
      const Flow& back = reverse(e.connection, ep);
      for (size_t at = 0; at < e.data.size(); at += kMaxPayload) {
        const ByteView piece = e.data.subspan(at, std::min(kMaxPayload, e.data.size() - at));
        tcp(e.time, ep, kPsh | kAck, out.seq, back.seq, piece);
        out.seq += static_cast<uint32_t>(piece.size());
      }
      return;
    }
    case WireEvent::Kind::fin: {
      Flow& out = flow(e.connection, ep);
      const Flow& back = reverse(e.connection, ep);
      tcp(e.time, ep, kFin | kAck, out.seq++, back.seq, {});
      return;
    }
    case WireEvent::Kind::reset: {
      const Flow& out = flow(e.connection, ep);
      tcp(e.time, ep, kRst, out.seq, 0, {});
      return;
    }
  }
}

}  // namespace seedlog::sim

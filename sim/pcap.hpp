// A pcap writer for the simulated network: what standard tools (tshark, Wireshark) can open.
//
// Every node gets an IPv4 address 127.0.x.y (x = id / 250, y = id % 250 + 1) and a MAC derived
// from it. Connections become TCP streams with a three-way handshake at open, PSH/ACK segments
// carrying each delivered segment's bytes (split at 32 KiB, with sequence and acknowledgement
// numbers tracked per direction), FIN/ACK at close and RST at reset; datagrams become UDP. Times
// are the simulated delivery times with nanosecond resolution (pcap magic 0xa1b23c4d), so a trace
// and a capture line up. IP and TCP checksums are computed, so no tool flags them.
//
// The writer produces bytes through a callback: writing a file is the caller's business (sim/ does
// no real IO). Attach it with network.set_tap([&](const WireEvent& e) { pcap.record(e); }).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "sim/bytes.hpp"
#include "sim/network.hpp"

namespace seedlog::sim {

class PcapWriter {
 public:
  using Sink = std::function<void(ByteView bytes)>;
  explicit PcapWriter(Sink sink);

  void record(const WireEvent& e);
  uint64_t packets() const { return packets_; }

  // 127.0.x.y of a node, as 4 bytes in network order.
  static uint32_t address_of(NodeId node);

 private:
  struct Flow {  // one direction of one connection
    uint32_t seq = 0;
    bool open = false;
  };
  struct Endpoints {
    NodeId src, dst;
    Port src_port = 0, dst_port = 0;
  };
  void tcp(Instant t, const Endpoints& ep, uint8_t flags, uint32_t seq, uint32_t ack, ByteView payload);
  void udp(Instant t, const Endpoints& ep, ByteView payload);
  void packet(Instant t, const Bytes& frame);
  Flow& flow(uint64_t connection, const Endpoints& ep);
  Flow& reverse(uint64_t connection, const Endpoints& ep);

  Sink sink_;
  uint64_t packets_ = 0;
  uint16_t ip_id_ = 0;
  std::map<std::pair<uint64_t, bool>, Flow> flows_;  // (connection, from the opener?) -> flow
  std::map<uint64_t, std::pair<NodeId, Port>> openers_;
};

}  // namespace seedlog::sim

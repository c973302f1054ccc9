#include "sim/pcap.hpp"

#include <gtest/gtest.h>

#include "sim/world.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

uint32_t le32(const Bytes& b, size_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
         static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
uint32_t be32(const Bytes& b, size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | static_cast<uint32_t>(b[at + 3]);
}
uint16_t be16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

uint16_t checksum(const Bytes& b, size_t from, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(b[from + i] << 8 | b[from + i + 1]);
  if (len % 2) sum += static_cast<uint32_t>(b[from + len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

struct Packet {
  uint64_t ns;
  Bytes frame;
};

std::vector<Packet> parse(const Bytes& file) {
  EXPECT_EQ(le32(file, 0), 0xa1b23c4du);
  EXPECT_EQ(le32(file, 20), 1u);  // Ethernet
  std::vector<Packet> out;
  for (size_t at = 24; at < file.size();) {
    const uint64_t ns = uint64_t{le32(file, at)} * 1000000000 + le32(file, at + 4);
    const uint32_t len = le32(file, at + 8);
    EXPECT_EQ(len, le32(file, at + 12));
    out.push_back(Packet{ns, Bytes(file.begin() + static_cast<ptrdiff_t>(at + 16),
                                   file.begin() + static_cast<ptrdiff_t>(at + 16 + len))});
    at += 16 + len;
  }
  return out;
}

Bytes capture_exchange() {
  Bytes file;
  World w(WorldOptions{.seed = 3});
  PcapWriter pcap([&file](ByteView b) { file.insert(file.end(), b.begin(), b.end()); });
  w.network().set_tap([&pcap](const WireEvent& e) { pcap.record(e); });
  const NodeId server = w.add_node("server", [](Env& env) {
    auto l = env.listen(9092);
    auto c = l->accept();
    auto m = c->recv();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(c->send(to_bytes("pong!")).ok());
    (void)c->recv();  // waits for the client's FIN
  });
  const NodeId client = w.add_node("client", [server](Env& env) {
    auto c = env.connect(server, 9092, 1_s);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->send(to_bytes("ping")).ok());
    ASSERT_TRUE(c->recv().ok());
    c->close();
  });
  w.start(server);
  w.start(client);
  (void)w.run_for(1_s);
  return file;
}

TEST(Pcap, ConnectionBecomesAHandshakeDataAndFin) {
  const std::vector<Packet> packets = parse(capture_exchange());
  // SYN, SYN/ACK, ACK, ping, pong, FIN from the client.
  ASSERT_EQ(packets.size(), 6u);
  const uint8_t flags[] = {0x02, 0x12, 0x10, 0x18, 0x18, 0x11};
  for (size_t i = 0; i < packets.size(); ++i) {
    const Bytes& f = packets[i].frame;
    EXPECT_EQ(be16(f, 12), 0x0800);
    EXPECT_EQ(f[14 + 9], 6) << "TCP";
    EXPECT_EQ(f[14 + 20 + 13], flags[i]) << "packet " << i;
    EXPECT_EQ(checksum(f, 14, 20, 0), 0) << "IP checksum of packet " << i;
    const size_t tcp_len = f.size() - 34;
    const uint32_t pseudo = (be32(f, 26) >> 16) + (be32(f, 26) & 0xffff) + (be32(f, 30) >> 16) +
                            (be32(f, 30) & 0xffff) + 6 + static_cast<uint32_t>(tcp_len);
    EXPECT_EQ(checksum(f, 34, tcp_len, pseudo), 0) << "TCP checksum of packet " << i;
  }
  // Addresses: node 1 (client) is 127.0.0.2, node 0 (server) 127.0.0.1; the server port is 9092.
  EXPECT_EQ(be32(packets[0].frame, 26), 0x7f000002u);
  EXPECT_EQ(be32(packets[0].frame, 30), 0x7f000001u);
  EXPECT_EQ(be16(packets[0].frame, 36), 9092);
  // Sequence numbers continue: the pong's ack covers the ping (4 bytes) after the SYN.
  const uint32_t client_isn = be32(packets[0].frame, 38);
  EXPECT_EQ(be32(packets[3].frame, 38), client_isn + 1);
  EXPECT_EQ(be32(packets[4].frame, 42), client_isn + 1 + 4);
  EXPECT_EQ(std::string(packets[3].frame.end() - 4, packets[3].frame.end()), "ping");
  // Times are the simulated ones, from the simulated wall-clock epoch, in order.
  for (size_t i = 1; i < packets.size(); ++i) EXPECT_LE(packets[i - 1].ns, packets[i].ns);
  EXPECT_GE(packets[0].ns, uint64_t{1704067200} * 1000000000);
}

TEST(Pcap, SameSeedSameCapture) { EXPECT_EQ(capture_exchange(), capture_exchange()); }

TEST(Pcap, AddressesAreDistinctPerNode) {
  EXPECT_EQ(PcapWriter::address_of(NodeId{0}), 0x7f000001u);
  EXPECT_EQ(PcapWriter::address_of(NodeId{249}), 0x7f0000fau);
  EXPECT_EQ(PcapWriter::address_of(NodeId{250}), 0x7f000101u);
}

}  // namespace
}  // namespace seedlog::sim

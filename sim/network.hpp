// The simulated network.
//
// Fault model (what can happen to bytes between nodes):
//   - Connections behave like TCP: connect/accept/close, per-connection FIFO, reliable while
//     connected. Each send is one segment that arrives whole, after a one-way latency drawn per
//     segment from the link's distribution (exponential with a minimum and a mean); a segment never
//     overtakes an earlier one on the same connection. Segments that have arrived by the same
//     instant are delivered together (one event, one wake-up of the reader), as one read returns
//     all that TCP has received; a FIN or RST keeps its own event.
//   - Segment loss (NetworkOptions::segment_loss) is what TCP makes of a lossy link: the lost
//     segment is retransmitted after retransmit_timeout and everything behind it waits.
//   - Segment corruption (segment_corruption) flips one bit of a delivered segment: what a bad NIC
//     or a checksum collision lets through. Protocols must detect it with their own checksums.
//   - Partitions block directed node pairs. Segments on a blocked link wait (TCP retransmits); if
//     a partition outlasts partition_reset_after, the connection breaks and both ends see a reset.
//     New connections across a partition time out.
//   - Clogging delays delivery on a link (or every link of a node) until a given instant, without
//     breaking connections.
//   - A killed process's connections are closed by its OS: buffered data and then a FIN reach the
//     peer. A powered-off node says nothing: its peers' segments vanish; once it is back with a new
//     incarnation, a segment of an old connection is answered with a reset.
//   - Datagram sockets (for research on protocols that do not rely on TCP) can drop, duplicate,
//     reorder (extra random delay) and corrupt datagrams.
// Every fault is off by default. All randomness comes from the network's own stream.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/bytes.hpp"
#include "sim/ids.hpp"
#include "sim/random.hpp"
#include "sim/result.hpp"
#include "sim/ring.hpp"
#include "sim/scheduler.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {

// One-way latency: `min` plus an exponential part, with overall mean `mean` (min == mean: constant).
struct LatencyModel {
  Duration min = Duration::us(500);
  Duration mean = Duration::ms(1);
  bool operator==(const LatencyModel&) const = default;
};

struct NetworkOptions {
  LatencyModel latency;                                   // default for every link
  Duration partition_reset_after = Duration::s(15);       // blocked longer than this: connections break
  Duration retransmit_timeout = Duration::ms(200);        // Linux's minimum RTO
  Duration syn_retry_interval = Duration::s(1);
  Ratio segment_loss = Ratio::zero();
  Ratio segment_corruption = Ratio::zero();
  Ratio datagram_drop = Ratio::zero();
  Ratio datagram_duplicate = Ratio::zero();
  Ratio datagram_reorder = Ratio::zero();
  Ratio datagram_corruption = Ratio::zero();
  Duration datagram_reorder_delay_max = Duration::ms(20);

  // Throws ConfigError naming the field when an option is out of range.
  void validate() const;
  std::vector<std::pair<std::string, std::string>> describe() const;
};

// A directed pair (from, to): traffic from `from` to `to` is blocked.
using LinkSet = std::vector<std::pair<NodeId, NodeId>>;

// What crossed the wire, for taps such as the pcap writer.
struct WireEvent {
  enum class Kind : uint8_t { open, data, fin, reset, datagram };
  Kind kind = Kind::data;
  Instant time;
  uint64_t connection = 0;  // 0 for datagrams
  NodeId src;
  Port src_port = 0;
  NodeId dst;
  Port dst_port = 0;
  ByteView data;
};

class Network;

// One end of a connection. Move-only; destroying it closes it.
class Connection {
 public:
  Connection() = default;
  Connection(Connection&& o) noexcept;
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Queues one segment; never blocks. Fails with connection_reset once the connection broke, or
  // invalid_argument after close().
  Status send(Bytes data);
  // The next segment in order. Errors: timeout, closed (the peer closed and everything it sent has
  // been read), connection_reset. `timeout` is in the calling node's time.
  Result<Bytes> recv(Duration timeout = Duration::max());
  // Like recv, but the segment stays in a buffer this end keeps: the view is valid until the next
  // recv_view, recv or close on this end, after which the buffer goes to the network's spares
  // (see buffer()). For readers that parse a message and drop it: no allocation per message.
  Result<ByteView> recv_view(Duration timeout = Duration::max());
  // An empty buffer to fill and send: a spare from segments read with recv_view (it keeps its
  // capacity, so filling it usually allocates nothing), or a new one.
  Bytes buffer() const;
  // Graceful close: a FIN follows whatever was sent.
  void close();
  // Abortive close: the peer sees a reset at once.
  void abort();

  bool valid() const { return net_ != nullptr; }
  bool is_open() const;
  uint64_t id() const;
  NodeId local_node() const;
  NodeId peer_node() const;
  Port local_port() const;
  Port peer_port() const;

 private:
  friend class Network;
  friend class Listener;
  Connection(Network* net, uint32_t slot, uint32_t generation, uint8_t side)
      : net_(net), slot_(slot), generation_(generation), side_(side) {}
  Network* net_ = nullptr;
  uint32_t slot_ = 0;
  uint32_t generation_ = 0;
  uint8_t side_ = 0;
};

class Listener {
 public:
  Listener() = default;
  Listener(Listener&& o) noexcept;
  Listener& operator=(Listener&& o) noexcept;
  ~Listener();
  // The next established connection; timeout is in the calling node's time.
  Result<Connection> accept(Duration timeout = Duration::max());
  void close();
  bool valid() const { return net_ != nullptr; }

 private:
  friend class Network;
  Listener(Network* net, NodeId node, Port port, uint64_t generation)
      : net_(net), node_(node), port_(port), generation_(generation) {}
  Network* net_ = nullptr;
  NodeId node_;
  Port port_ = 0;
  uint64_t generation_ = 0;
};

struct Datagram {
  NodeId from;
  Port from_port = 0;
  Bytes data;
};

class DatagramSocket {
 public:
  DatagramSocket() = default;
  DatagramSocket(DatagramSocket&& o) noexcept;
  DatagramSocket& operator=(DatagramSocket&& o) noexcept;
  ~DatagramSocket();
  void send_to(NodeId to, Port port, Bytes data);
  Result<Datagram> recv_from(Duration timeout = Duration::max());
  void close();

 private:
  friend class Network;
  DatagramSocket(Network* net, NodeId node, Port port, uint64_t generation)
      : net_(net), node_(node), port_(port), generation_(generation) {}
  Network* net_ = nullptr;
  NodeId node_;
  Port port_ = 0;
  uint64_t generation_ = 0;
};

class Network final : public EventHandler {
 public:
  Network(Scheduler& scheduler, Rng rng, NetworkOptions options);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const NetworkOptions& options() const { return options_; }

  // --- used by nodes (through Env) ------------------------------------------------------------
  Result<Listener> listen(NodeId node, Port port);
  // Blocks the calling task for the handshake. Errors: connection_refused (node up, nobody
  // listening), timeout (no answer: node down or partitioned).
  Result<Connection> connect(NodeId from, NodeId to, Port port, Duration timeout);
  Result<DatagramSocket> bind_datagram(NodeId node, Port port);

  // --- faults ---------------------------------------------------------------------------------
  void block(NodeId from, NodeId to);
  void unblock(NodeId from, NodeId to);
  void block_both(NodeId a, NodeId b) { block(a, b); block(b, a); }
  void apply(const LinkSet& links);
  void heal();  // removes every partition and clog
  bool blocked(NodeId from, NodeId to) const;
  void clog_link(NodeId from, NodeId to, Instant until);
  void clog_node(NodeId node, Instant until);
  void unclog_node(NodeId node);
  void set_latency(NodeId from, NodeId to, LatencyModel model);
  void set_options(const NetworkOptions& options);  // e.g. a swarm profile switching loss on

  // --- node lifecycle (called by the World) ---------------------------------------------------
  void add_node(NodeId id);
  void node_started(NodeId id, uint64_t incarnation);
  // The node's process died. graceful: its OS closes its sockets (FIN after buffered data);
  // otherwise (power loss) nothing is said.
  void node_stopped(NodeId id, bool graceful);

  // --- observation ----------------------------------------------------------------------------
  void set_tap(std::function<void(const WireEvent&)> tap) { tap_ = std::move(tap); }
  uint64_t segments_delivered() const { return delivered_; }
  size_t open_connections() const { return open_conns_; }

  void on_event(uint32_t index, uint64_t arg) override;
  std::string describe_event(uint32_t index, uint64_t arg) const override;

 private:
  friend class Connection;
  friend class Listener;
  friend class DatagramSocket;
  struct Segment {
    Bytes data;
    Instant arrive_at;
    uint8_t flags = 0;  // kFin, kRst
  };
  struct Half {  // bytes flowing from ends[d] to ends[1 - d]
    RingQueue<Segment> in_flight;
    RingQueue<Bytes> inbound;  // delivered, not yet read
    Instant last_arrival;
    Instant parked_since;
    uint32_t epoch = 0;  // bumped by every schedule_delivery; stale events carry an old one
    bool scheduled = false;
    bool parked = false;
    bool eof = false;    // a FIN was delivered
    bool reset = false;  // a reset reached the receiver
    WaitRef reader;
    Bytes held;  // the segment behind the view the receiver's last recv_view returned
  };
  struct End {
    NodeId node;
    Port port = 0;
    uint64_t incarnation = 0;
    bool closed = false;  // the local handle is closed; nothing more is read or sent
  };
  struct Conn {
    uint64_t id = 0;
    uint32_t generation = 0;
    bool live = false;
    End ends[2];
    Half half[2];
  };
  struct NodeNet {
    bool up = false;
    uint64_t incarnation = 0;
    Port next_ephemeral = 32768;
  };
  struct ListenerState {
    uint64_t generation = 0;
    std::deque<std::pair<uint32_t, uint32_t>> backlog;  // (slot, generation) of established conns
    WaitRef acceptor;
  };
  struct SocketState {
    uint64_t generation = 0;
    std::deque<Datagram> queue;
    WaitRef reader;
  };

  Conn* conn(uint32_t slot, uint32_t generation);
  const Conn* conn(uint32_t slot, uint32_t generation) const;
  uint32_t new_conn(NodeId a, Port ap, NodeId b, Port bp);
  void maybe_free(uint32_t slot);
  Status send_on(uint32_t slot, uint8_t side, Bytes&& data, uint8_t flags);
  void push_segment(Conn& c, uint32_t slot, uint8_t dir, Segment&& seg);
  void schedule_delivery(Conn& c, uint32_t slot, uint8_t dir, Instant at);
  void deliver(uint32_t slot, uint8_t dir);
  void park(Conn& c, uint32_t slot, uint8_t dir);
  void unpark_all();
  void reschedule_held(NodeId node);  // kNoNode: every connection
  void reset_conn(uint32_t slot, std::string_view why);
  void close_end(uint32_t slot, uint8_t side, bool abortive);
  Result<Bytes> recv_on(uint32_t slot, uint32_t generation, uint8_t side, Duration timeout);
  Result<ByteView> recv_view_on(uint32_t slot, uint32_t generation, uint8_t side, Duration timeout);
  // Waits until the end has a segment to read (and sets *readable to its half) or an error.
  Errc await_inbound(uint32_t slot, uint32_t generation, uint8_t side, Duration timeout, Half** readable);
  void keep_spare(Bytes&& b);
  Duration draw_latency(NodeId from, NodeId to);
  Instant clogged_until(NodeId from, NodeId to) const;
  bool node_up(NodeId id) const;
  void tap(WireEvent::Kind kind, const Conn& c, uint8_t dir, ByteView data);
  void accept(Conn& c, uint8_t dir, Bytes&& data);
  void deliver_datagram(NodeId from, Port from_port, NodeId to, Port to_port, Bytes data);

  Scheduler& sched_;
  Rng rng_;
  NetworkOptions options_;
  uint8_t kind_ = 0;
  std::vector<NodeNet> nodes_;
  std::vector<std::vector<uint8_t>> blocked_;   // [from][to]
  std::vector<std::vector<Instant>> clogged_;   // [from][to]
  bool any_blocked_ = false;  // fast path: with no partition or clog, deliveries skip the lookups
  bool any_clogged_ = false;
  std::map<std::pair<uint32_t, uint32_t>, LatencyModel> latency_overrides_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<uint32_t> free_conns_;
  std::vector<std::pair<uint32_t, uint8_t>> parked_;  // (slot, dir) waiting for a heal
  std::map<std::pair<uint32_t, Port>, ListenerState> listeners_;
  std::map<std::pair<uint32_t, Port>, SocketState> sockets_;
  uint64_t next_conn_id_ = 1;
  uint64_t next_handle_generation_ = 1;
  uint64_t delivered_ = 0;
  size_t open_conns_ = 0;
  std::function<void(const WireEvent&)> tap_;
  std::vector<Bytes> spares_;  // buffers read through recv_view, for buffer() to hand out again
};

// Partition shapes over a set of nodes (Jepsen's vocabulary). Each returns directed blocked pairs.
namespace partitions {
LinkSet isolate(NodeId node, std::span<const NodeId> all);
LinkSet halves(std::span<const NodeId> all, Rng& rng);
// Every node sees a majority (itself and its nearest ring neighbours), but no two nodes see the
// same majority.
LinkSet majorities_ring(std::span<const NodeId> all, Rng& rng);
// Two halves that cannot talk, and one bridge node that talks to both.
LinkSet bridge(std::span<const NodeId> all, Rng& rng);
LinkSet one_way(NodeId from, NodeId to);
std::string describe(const LinkSet& links);
}  // namespace partitions

}  // namespace seedlog::sim

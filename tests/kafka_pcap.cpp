// kafka_pcap OUT.pcap: a simulated run that carries one request and one response of every API the
// broker speaks, at the versions it uses on each listener, and writes the run's traffic as a pcap.
// tests/tshark_kafka_test.sh then checks that tshark decodes every frame on port 9092 as Kafka with
// no malformed packet. Client and inter-broker APIs travel on 9092 at versions Wireshark 4.0's
// dissector knows; controller-only APIs (KRaft) travel on the controller listener, 9093.
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/testing/samples.hpp"
#include "sim/pcap.hpp"
#include "sim/world.hpp"

namespace {

using namespace seedlog;
using namespace seedlog::sim::literals;
using protocol::ApiKey;

constexpr sim::Port kBrokerPort = 9092;
constexpr sim::Port kControllerPort = 9093;

// KRaft's controller-only APIs, and the metadata-log Fetch versions the quorum uses among
// controllers: Wireshark 4.0 knows API keys 0-47 only and Fetch up to v11.
bool controller_listener(ApiKey key, int16_t version) {
  if (static_cast<int16_t>(key) >= 48) return true;
  return key == ApiKey::fetch && version >= 12;
}

// Versions Wireshark 4.0 does not know, which the broker therefore never uses on 9092.
bool unknown_to_wireshark(ApiKey key, int16_t version) {
  return (key == ApiKey::init_producer_id && version >= 4) ||
         (key == ApiKey::offset_for_leader_epoch && version >= 4);
}

struct Minimal final : protocol::samples::ValueSource {
  uint64_t next(uint64_t) override { return 0; }
};

}  // namespace

int main(int argc, char** argv) {
  const bool planted = argc == 3 && std::string(argv[2]) == "--planted";
  if (argc != 2 && !planted) {
    std::fprintf(stderr, "usage: kafka_pcap OUT.pcap [--planted]\n");
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  if (!out) {
    std::fprintf(stderr, "kafka_pcap: cannot write %s\n", argv[1]);
    return 2;
  }
  sim::World w(sim::WorldOptions{.seed = 9092});
  sim::PcapWriter pcap([&out](sim::ByteView b) { out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size())); });
  w.network().set_tap([&pcap](const sim::WireEvent& e) { pcap.record(e); });

  // Minimal messages (every choice the smallest: empty arrays, zero values) until the broker's own
  // traffic replaces them: the sample filler's edge values and random record bytes are for codec
  // tests, and Wireshark rightly reads random bytes where batches belong as malformed.
  std::map<std::pair<int16_t, int16_t>, protocol::Response> responses;
  std::vector<protocol::Request> requests;
  for (const protocol::ApiSupport& api : protocol::supported_apis()) {
    for (int16_t v = api.min_version; v <= api.max_version; ++v) {
      if (unknown_to_wireshark(api.api_key, v)) continue;
      Minimal minimal;
      protocol::samples::SeededSource edgy(static_cast<uint64_t>(api.api_key) * 100 + static_cast<uint64_t>(v));
      protocol::samples::ValueSource& source = planted ? static_cast<protocol::samples::ValueSource&>(edgy) : minimal;
      protocol::Request req;
      req.header.api_key = api.api_key;
      req.header.api_version = v;
      req.header.client_id = "seedlog";
      req.body = protocol::samples::make_request_body(api.api_key, v, source);
      requests.push_back(std::move(req));
      protocol::Response resp;
      resp.api_version = v;
      resp.body = protocol::samples::make_response_body(api.api_key, v, source);
      if (auto* sync = std::get_if<protocol::SyncGroupResponse>(&resp.body)) {
        // An assignment in the consumer protocol, as every Kafka consumer sends: version 0, no
        // partitions, null user data. Wireshark parses it and flags an empty one.
        sync->assignment = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
      }
      responses.emplace(std::pair{static_cast<int16_t>(api.api_key), v}, std::move(resp));
    }
  }
  int failures = 0, exchanged[2] = {0, 0};

  auto serve = [&](sim::Env& env, sim::Port port) {
    auto l = env.listen(port);
    while (true) {
      auto c = l->accept();
      if (!c.ok()) return;
      while (true) {
        auto frame = c->recv();
        if (!frame.ok()) break;
        auto req = protocol::decode_request(frame.value());
        if (!req.ok()) {
          std::fprintf(stderr, "server: cannot decode a request: %s\n", req.error().to_string().c_str());
          ++failures;
          continue;
        }
        protocol::Response resp =
            responses.at({static_cast<int16_t>(req->header.api_key), req->header.api_version});
        resp.header.correlation_id = req->header.correlation_id;
        (void)c->send(protocol::encode_response(resp));
      }
    }
  };
  const sim::NodeId broker = w.add_node("broker", [&](sim::Env& env) {
    env.spawn("controller-listener", [&env, &serve] { serve(env, kControllerPort); });
    serve(env, kBrokerPort);
  });
  const sim::NodeId client = w.add_node("client", [&](sim::Env& env) {
    env.sleep(1_ms);
    auto to_broker = env.connect(broker, kBrokerPort, 1_s);
    auto to_controller = env.connect(broker, kControllerPort, 1_s);
    if (!to_broker.ok() || !to_controller.ok()) {
      ++failures;
      return;
    }
    int32_t correlation = 1;
    for (protocol::Request req : requests) {
      const bool controller = controller_listener(req.header.api_key, req.header.api_version);
      sim::Connection& c = controller ? *to_controller : *to_broker;
      req.header.correlation_id = protocol::CorrelationId{correlation++};
      (void)c.send(protocol::encode_request(req));
      auto frame = c.recv(1_s);
      auto resp = frame.ok() ? protocol::decode_response(frame.value(), req.header.api_key, req.header.api_version)
                             : protocol::Result<protocol::Response>(protocol::DecodeError{});
      if (!resp.ok() || resp->header.correlation_id != req.header.correlation_id) {
        std::fprintf(stderr, "client: no valid answer to %s v%d\n", protocol::to_string(req.header.api_key).c_str(),
                     req.header.api_version);
        ++failures;
      }
      ++exchanged[controller ? 1 : 0];
    }
    to_broker->close();
    to_controller->close();
  });
  w.start(broker);
  w.start(client);
  const sim::RunResult r = w.run_for(10_s);
  if (r.reason == sim::StopReason::crashed) {
    std::fprintf(stderr, "%s\n", w.describe(r).c_str());
    return 4;
  }
  std::printf("kafka_pcap: %d exchanges on %u (Kafka listener), %d on %u (controller listener), %llu packets\n",
              exchanged[0], kBrokerPort, exchanged[1], kControllerPort,
              static_cast<unsigned long long>(pcap.packets()));
  return failures == 0 ? 0 : 1;
}

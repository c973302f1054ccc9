#include "scenarios/defects.hpp"

#include <array>

#include <fmt/format.h>

#include "broker/server/node.hpp"

namespace seedlog::scenarios {
namespace {

using broker::server::NodeConfig;

// A defect's switch: in the broker's configuration, in the clients' (ClientDefects), or both.
struct Switch {
  std::string_view name;
  void (*enable)(NodeConfig&) = nullptr;
  void (*enable_client)(ClientDefects&) = nullptr;
};

// The catalog, in the order KAFKA.md lists the bug classes. A defect enters the catalog when the
// broker implements its switch; `found_by` is filled in once a bundled scenario reliably finds it.
constexpr std::array kCatalog = {
    DefectInfo{"follower-truncates-to-hw", "replication",
               "KIP-101: a new follower truncates to its local high watermark instead of the epoch-based "
               "divergence point, losing acknowledged records or leaving replicas divergent",
               "leader-failover", "leader-completeness", 60},
    DefectInfo{"unclean-isr-of-one", "replication",
               "Jepsen's 2013 Kafka analysis: min.insync.replicas ignored and unclean election allowed, so "
               "writes acknowledged by a lone leader vanish when an out-of-sync replica is elected",
               "leader-failover", "ack-below-min-insync", 40},
    DefectInfo{"acks-all-on-leader-append", "replication",
               "acks=all answered as soon as the leader appended, before the followers replicated the batch",
               "leader-failover", "ack-before-commit", 20},
    DefectInfo{"no-producer-dedup", "replication",
               "Redpanda issue 3039 pattern: a retried idempotent batch is refused as out of order instead "
               "of being recognised, so the client resets and the record is written twice",
               "leader-failover", "acked-kept", 40},
    DefectInfo{"recovery-point-without-flush", "storage",
               "KAFKA-10101: the recovery point advances past data that was never flushed, so a power loss "
               "leaves torn data below it that recovery no longer checks",
               "power-loss-torn", "recovery-point-durable", 20},
    DefectInfo{"commit-from-stale-generation", "group",
               "the coordinator accepts offset commits from an old generation, so a zombie member (a consumer "
               "frozen past its session timeout) moves a partition's committed offset",
               "consumer-pause", "commit-generation", 20},
    DefectInfo{"assignor-overlap", "group",
               "the group leader's assignor hands one partition to two members of the same generation, "
               "breaking single ownership (two consumers process and commit the same records)",
               "produce-consume", "single-owner", 5},
    DefectInfo{"raft-vote-ignores-log", "raft",
               "a controller grants votes without Raft's election restriction, so a node missing committed "
               "metadata can win and overwrite it",
               "controller-failover", "leader-completeness", 200},
};

constexpr std::array kSwitches = {
    Switch{"follower-truncates-to-hw", [](NodeConfig& c) { c.replication.defects.follower_truncates_to_hw = true; }},
    Switch{"unclean-isr-of-one",
           [](NodeConfig& c) {
             c.replication.defects.unclean_isr_of_one = true;
             c.controller.unclean_leader_election = true;  // the bug's other half
           }},
    Switch{"acks-all-on-leader-append", [](NodeConfig& c) { c.replication.defects.acks_all_on_leader_append = true; }},
    Switch{"no-producer-dedup", [](NodeConfig& c) { c.replication.defects.no_producer_dedup = true; }},
    Switch{"recovery-point-without-flush",
           [](NodeConfig& c) { c.replication.log.defects.recovery_point_without_flush = true; }},
    Switch{"commit-from-stale-generation", [](NodeConfig& c) { c.group.defects.commit_from_stale_generation = true; }},
    Switch{"assignor-overlap", nullptr, [](ClientDefects& c) { c.assignor_overlap = true; }},
    Switch{"raft-vote-ignores-log", [](NodeConfig& c) { c.raft.defect_vote_ignores_log = true; }},
};
static_assert(kCatalog.size() == kSwitches.size(), "every catalog entry has a switch");

const Switch* find_switch(std::string_view name) {
  for (const Switch& s : kSwitches) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

std::span<const DefectInfo> all_defects() { return kCatalog; }

const DefectInfo* find_defect(std::string_view name) {
  for (const DefectInfo& d : kCatalog) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string known_defect_names() {
  std::string out;
  for (const DefectInfo& d : kCatalog) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

std::string apply_defects(const std::vector<std::string>& names, NodeConfig& config, ClientDefects* client) {
  for (const std::string& name : names) {
    if (find_switch(name) == nullptr) return fmt::format("unknown defect '{}' (known: {})", name, known_defect_names());
  }
  for (const std::string& name : names) {  // all known: switch them on
    const Switch* s = find_switch(name);
    if (s->enable != nullptr) s->enable(config);
    if (s->enable_client != nullptr && client != nullptr) s->enable_client(*client);
  }
  return "";
}

ClientDefects client_defects(const std::vector<std::string>& names) {
  ClientDefects out;
  for (const std::string& name : names) {
    const Switch* s = find_switch(name);
    if (s != nullptr && s->enable_client != nullptr) s->enable_client(out);
  }
  return out;
}

}  // namespace seedlog::scenarios

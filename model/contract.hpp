// The durability contract: which acknowledged records a Kafka-style log may lose, given its
// configuration and the faults a run injected. A lost write is then either "lost: violates the
// contract" (a bug) or "lost: allowed, because ..." (the configuration promised nothing more).
//
// The rules (docs/properties.md explains each):
//  - acks=0 promises nothing: the producer never hears from the broker.
//  - unclean.leader.election.enable=true lets an out-of-sync replica lead after a fault, which
//    truncates acknowledged records.
//  - An acknowledged record has at least C copies: C = min.insync.replicas under acks=all (the
//    leader acknowledges once every ISR member has it and the ISR has at least min.insync.replicas
//    members), C = 1 under acks=1. It can be lost only when C replicas of its partition lose it at
//    once: wiped disks always lose it; power loss loses it only if it was never flushed, which
//    the default flush policy (page cache, no fsync per write) allows.
//  - acks=1 acknowledges before any follower has the record, so any fault that can move
//    leadership (crash, kill, pause, network partition) may truncate it.
// Anything else that loses an acknowledged record violates the contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seedlog::model {

enum class Acks : int8_t { none = 0, leader = 1, all = -1 };

enum class FlushPolicy : uint8_t {
  page_cache,   // Kafka's default: no fsync per write; durability rests on replication
  every_write,  // flush.messages=1: fsync before acknowledging
};

struct DurabilityContract {
  Acks acks = Acks::all;
  int32_t min_insync_replicas = 1;        // Kafka's default
  bool unclean_leader_election = false;   // Kafka's default
  FlushPolicy flush = FlushPolicy::page_cache;
  // Faults of the run, as the nemesis reports them (maxima over partitions):
  // replicas of one partition that lost unflushed data together (power loss)
  int32_t max_replicas_power_lost_at_once = 0;
  // replicas of one partition whose disks were replaced together
  int32_t max_replicas_wiped_at_once = 0;
  // any crash, kill, pause or network partition of a broker
  bool leadership_faults = false;
};

struct LossVerdict {
  bool allowed = false;
  std::string reason;  // "allowed, because ..." or "violates the contract: ..."
};

// Whether the contract permits losing an acknowledged record, and why, in one sentence.
LossVerdict classify_loss(const DurabilityContract& c);

// "acks=all min.insync.replicas=2 unclean.leader.election=false flush=page-cache; faults: ..."
std::string describe(const DurabilityContract& c);
std::string_view to_string(Acks a);
std::string_view to_string(FlushPolicy f);
// For command lines and scenario files: "0", "1", "all" (or "-1"); "page-cache", "every-write".
std::optional<Acks> parse_acks(std::string_view text);
std::optional<FlushPolicy> parse_flush_policy(std::string_view text);

}  // namespace seedlog::model

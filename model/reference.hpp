// A reference log: a deliberately simple, obviously correct Kafka-like system whose histories are
// valid by construction. Property tests feed it random steps and demand that the checkers find
// nothing, then plant one fault and demand that they find it; the benchmark uses it to make
// histories of any size.
//
// The model: producers send fresh values to partitions; a send's effect happens when it
// completes (ok: appended at the next offset; fail: not appended; info: appended or not), so the
// log follows real time. Consumers belong to one group (or, with an empty group name, each reads
// every partition on its own, like Jepsen's assign mode); a group member polls the partitions it
// owns from its position, contiguously, and commits its new positions (accepted, current
// generation). A rebalance step moves a partition to another member, which resumes from the
// committed offset, bumps the generation and marks the partition in both members' next polls'
// rebalance logs. At the end every pending operation completes and a fresh reader assigns every
// partition and polls it to the end, so nothing acknowledged stays unseen.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/history.hpp"

namespace seedlog::model {

struct ReferenceStep {
  enum class Kind : uint8_t { send, poll, rebalance };
  Kind kind = Kind::send;
  uint8_t actor = 0;   // producer (send) or consumer (poll, rebalance), modulo their count
  uint8_t key = 0;     // partition, modulo the partition count
  uint8_t amount = 0;  // send: outcome (0 = ok; see reference.cpp); poll: records per partition
};

struct ReferenceOptions {
  int producers = 3;
  int consumers = 3;
  int partitions = 4;
  bool topic_keys = false;  // "events-0", "events-1"... instead of integer keys
  std::string group = "g";  // "" = independent consumers that each read every partition
  bool final_reads = true;
};

// Emits the history of running `steps`, event by event, in index order.
void run_reference(const ReferenceOptions& options, std::span<const ReferenceStep> steps,
                   const std::function<void(Event&&)>& sink);

std::vector<Event> reference_events(const ReferenceOptions& options,
                                    std::span<const ReferenceStep> steps);
History to_history(std::span<const Event> events);

}  // namespace seedlog::model

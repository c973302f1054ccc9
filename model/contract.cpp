#include "model/contract.hpp"

#include <fmt/format.h>

#include "sim/assert.hpp"

namespace seedlog::model {

std::string_view to_string(Acks a) {
  switch (a) {
    case Acks::none: return "0";
    case Acks::leader: return "1";
    case Acks::all: return "all";
  }
  SL_UNREACHABLE("acks");
}

std::string_view to_string(FlushPolicy f) {
  return f == FlushPolicy::page_cache ? "page-cache" : "every-write";
}

std::optional<Acks> parse_acks(std::string_view text) {
  if (text == "0") return Acks::none;
  if (text == "1") return Acks::leader;
  if (text == "all" || text == "-1") return Acks::all;
  return std::nullopt;
}

std::optional<FlushPolicy> parse_flush_policy(std::string_view text) {
  if (text == "page-cache") return FlushPolicy::page_cache;
  if (text == "every-write") return FlushPolicy::every_write;
  return std::nullopt;
}

namespace {

bool any_fault(const DurabilityContract& c) {
  return c.leadership_faults || c.max_replicas_power_lost_at_once > 0 ||
         c.max_replicas_wiped_at_once > 0;
}

// How many replicas hold an acknowledged record at the moment of its acknowledgement.
int32_t guaranteed_copies(const DurabilityContract& c) {
  return c.acks == Acks::all ? c.min_insync_replicas : 1;
}

// How many replicas of one partition lost data that a still-unflushed record would be in.
int32_t replicas_losing_unflushed(const DurabilityContract& c) {
  const int32_t power = c.flush == FlushPolicy::page_cache ? c.max_replicas_power_lost_at_once : 0;
  return power + c.max_replicas_wiped_at_once;
}

}  // namespace

LossVerdict classify_loss(const DurabilityContract& c) {
  SL_ASSERT(c.min_insync_replicas >= 1);
  SL_ASSERT(c.max_replicas_power_lost_at_once >= 0 && c.max_replicas_wiped_at_once >= 0);
  if (c.acks == Acks::none) {
    return {true, "allowed, because acks=0 never hears from the broker, so nothing is promised"};
  }
  if (c.unclean_leader_election && any_fault(c)) {
    return {true, "allowed, because unclean.leader.election.enable=true lets an out-of-sync "
                  "replica lead after a fault, truncating acknowledged records"};
  }
  const int32_t copies = guaranteed_copies(c);
  if (c.max_replicas_wiped_at_once >= copies) {
    return {true, fmt::format("allowed, because {} replicas of a partition were wiped at once, and "
                              "acks={} guarantees only {} copies",
                              c.max_replicas_wiped_at_once, to_string(c.acks), copies)};
  }
  if (replicas_losing_unflushed(c) >= copies) {
    return {true, fmt::format("allowed, because {} replicas of a partition lost unflushed data at "
                              "once (flush={}), and acks={} guarantees only {} copies",
                              replicas_losing_unflushed(c), to_string(c.flush), to_string(c.acks),
                              copies)};
  }
  if (c.acks == Acks::leader && c.leadership_faults) {
    return {true, "allowed, because acks=1 acknowledges before followers copy the record, and a "
                  "fault moved leadership"};
  }
  if (!any_fault(c)) {
    return {false, fmt::format("violates the contract: acks={} and no fault was injected",
                               to_string(c.acks))};
  }
  return {false, fmt::format("violates the contract: acks={} keeps {} copies of every "
                             "acknowledged record, and at most {} of them lost data at once",
                             to_string(c.acks), copies, replicas_losing_unflushed(c))};
}

std::string describe(const DurabilityContract& c) {
  return fmt::format(
      "acks={} min.insync.replicas={} unclean.leader.election.enable={} flush={}; faults: "
      "leadership={} power-lost-at-once={} wiped-at-once={}",
      to_string(c.acks), c.min_insync_replicas, c.unclean_leader_election, to_string(c.flush),
      c.leadership_faults, c.max_replicas_power_lost_at_once, c.max_replicas_wiped_at_once);
}

}  // namespace seedlog::model

#include "broker/raft/quorum_state.hpp"

#include <fmt/format.h>

#include "broker/storage/checkpoint.hpp"

namespace seedlog::broker::raft {

namespace {

constexpr int64_t kNone = -1;

int64_t id_or_none(const std::optional<protocol::BrokerId>& id) { return id ? id->value() : kNone; }

// -1 is "none"; any other negative number, or one wider than an int32, is a corrupt file.
std::optional<std::optional<protocol::BrokerId>> parse_id(int64_t v) {
  if (v == kNone) return std::optional<protocol::BrokerId>();
  if (v < 0 || v > INT32_MAX) return std::nullopt;
  return std::optional<protocol::BrokerId>(protocol::BrokerId(static_cast<int32_t>(v)));
}

}  // namespace

std::string to_string(const QuorumState& s) {
  return fmt::format("epoch {} voted {} leader {}", s.epoch, id_or_none(s.voted_for), id_or_none(s.leader));
}

QuorumStateStore::QuorumStateStore(sim::Disk& disk, std::string dir)
    : disk_(disk), path_(dir.empty() ? std::string(kQuorumStateFile) : dir + "/" + std::string(kQuorumStateFile)) {}

storage::Result<QuorumState> QuorumStateStore::read() const {
  auto raw = storage::read_checkpoint(disk_, path_, 3);
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return QuorumState{};
  const auto& entries = **raw;
  auto corrupt = [&](std::string why) {
    return storage::LogError{storage::LogErrc::corrupt_data, sim::Errc::ok, fmt::format("{}: {}", path_, why)};
  };
  if (entries.size() != 1) return corrupt(fmt::format("{} entries", entries.size()));
  const storage::CheckpointEntry& e = entries[0];
  if (e[0] < 0 || e[0] > INT32_MAX) return corrupt(fmt::format("epoch {}", e[0]));
  const auto voted = parse_id(e[1]);
  const auto leader = parse_id(e[2]);
  if (!voted || !leader) return corrupt("bad broker id");
  QuorumState s{protocol::LeaderEpoch(static_cast<int32_t>(e[0])), *voted, *leader};
  SL_ASSERT(s.epoch.value() >= 0);
  return s;
}

storage::Status QuorumStateStore::write(const QuorumState& state) {
  SL_ASSERT(state.epoch.value() >= 0);
  SL_ASSERT(!state.voted_for || state.voted_for->value() >= 0);
  const storage::CheckpointEntry entry{state.epoch.value(), id_or_none(state.voted_for), id_or_none(state.leader)};
  return storage::write_checkpoint(disk_, path_, std::span<const storage::CheckpointEntry>(&entry, 1));
}

}  // namespace seedlog::broker::raft

// The Raft's persistent quorum state: the current epoch, the vote cast in it, and the leader known
// in it (Kafka's quorum-state file, in our checkpoint format).
//
// File "<dir>/quorum-state", written with storage::write_checkpoint (temp file, fsync, rename,
// directory sync), so after any crash or power loss the file holds either the old or the new
// state, whole. One line of three numbers:
//
//   0          version
//   1          entries
//   7 2 -1     epoch, voted-for (-1: none), leader (-1: unknown)
//
// Contract: write() returns only once the state is durable; the Raft never acts on a state (grants
// a vote, campaigns, leads) before write() returned ok for it. A missing file is the initial state
// (epoch 0, no vote, no leader); a malformed one is corrupt_data (the Raft refuses to start: it
// cannot know which votes it cast).
#pragma once

#include <optional>
#include <string>

#include "broker/protocol/types.hpp"
#include "broker/storage/status.hpp"
#include "sim/disk.hpp"

namespace seedlog::broker::raft {

inline constexpr std::string_view kQuorumStateFile = "quorum-state";

struct QuorumState {
  protocol::LeaderEpoch epoch{0};
  std::optional<protocol::BrokerId> voted_for;
  std::optional<protocol::BrokerId> leader;
  bool operator==(const QuorumState&) const = default;
};

std::string to_string(const QuorumState& s);

class QuorumStateStore {
 public:
  QuorumStateStore(sim::Disk& disk, std::string dir);
  storage::Result<QuorumState> read() const;
  storage::Status write(const QuorumState& state);
  const std::string& path() const { return path_; }

 private:
  sim::Disk& disk_;
  std::string path_;
};

}  // namespace seedlog::broker::raft

// The Raft's observation events (env.emit), shared by the Raft that emits them and the invariant
// checker that reads them. Names and fields are a stable interface: docs/raft.md documents each.
//
//   raft.recovered {log_start, log_end, epoch, voted_for, leader, snapshot_end, snapshot_epoch}
//   raft.role      {role, epoch, leader, id}               leader -1: unknown
//   raft.vote      {epoch, candidate, granted, pre_vote}   one per Vote request answered
//   raft.append    {offset, last_offset, epoch, crc,       one per batch written to the log;
//                   recovered}                             recovered: announced again by start()
//                                                          (the unflushed tail found on disk)
//   raft.truncate  {from, to}                              [from, to) removed (divergence)
//   raft.commit    {high_watermark, epoch}                 the node's high watermark advanced
//   raft.snapshot  {end_offset, epoch, source}             "local" (taken here, log start moved
//                                                          up to end_offset) or "leader" (fetched:
//                                                          the whole log replaced)
//   raft.halted    {error}                                 a storage failure stopped this Raft
#pragma once

#include <string_view>

namespace seedlog::broker::raft::events {

inline constexpr std::string_view kRecovered = "raft.recovered";
inline constexpr std::string_view kRole = "raft.role";
inline constexpr std::string_view kVote = "raft.vote";
inline constexpr std::string_view kAppend = "raft.append";
inline constexpr std::string_view kTruncate = "raft.truncate";
inline constexpr std::string_view kCommit = "raft.commit";
inline constexpr std::string_view kSnapshot = "raft.snapshot";
inline constexpr std::string_view kHalted = "raft.halted";

inline constexpr std::string_view kSnapshotLocal = "local";
inline constexpr std::string_view kSnapshotFromLeader = "leader";

}  // namespace seedlog::broker::raft::events

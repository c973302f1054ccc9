// What the Raft keeps on disk (the quorum state and snapshots) and the messages it puts on the
// wire: round trips, torn and corrupt files, and power loss at every step of a write.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "broker/protocol/codec.hpp"
#include "broker/raft/messages.hpp"
#include "broker/raft/quorum_state.hpp"
#include "broker/raft/snapshot_store.hpp"
#include "sim/disk.hpp"

namespace seedlog::broker::raft {
namespace {

namespace proto = seedlog::protocol;

sim::Disk make_disk(uint64_t seed = 1) { return sim::Disk(nullptr, sim::Rng(seed), sim::DiskOptions{}); }

SnapshotId snap(int64_t end, int32_t epoch) {
  SnapshotId id;
  id.end_offset = proto::Offset(end);
  id.epoch = proto::LeaderEpoch(epoch);
  return id;
}

// ---- quorum state -----------------------------------------------------------------------------

TEST(QuorumState, MissingFileIsTheInitialState) {
  sim::Disk disk = make_disk();
  QuorumStateStore store(disk, "meta");
  auto s = store.read();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, QuorumState{});
}

TEST(QuorumState, WriteIsDurableAtOnce) {
  sim::Disk disk = make_disk();
  QuorumStateStore store(disk, "meta");
  const QuorumState s{proto::LeaderEpoch(7), proto::BrokerId(2), std::nullopt};
  ASSERT_TRUE(store.write(s).ok());
  disk.power_loss(sim::PowerLossMode::lose_unsynced);
  auto back = store.read();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

TEST(QuorumState, PowerLossDuringAWriteLeavesOldOrNew) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    sim::Disk disk = make_disk(seed);
    QuorumStateStore store(disk, "meta");
    const QuorumState old_state{proto::LeaderEpoch(3), proto::BrokerId(1), proto::BrokerId(1)};
    const QuorumState new_state{proto::LeaderEpoch(4), proto::BrokerId(2), std::nullopt};
    ASSERT_TRUE(store.write(old_state).ok());
    // An interrupted write: the temp file written but never renamed.
    auto tmp = disk.open("meta/quorum-state.tmp", sim::OpenFlags{.create = true, .truncate = true});
    ASSERT_TRUE(tmp.ok());
    ASSERT_TRUE(tmp->write(0, sim::to_bytes("0\n1\n4 2 -1\n")).ok());
    disk.power_loss(sim::PowerLossMode::torn);
    auto back = store.read();
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(*back == old_state || *back == new_state);
  }
}

TEST(QuorumState, MalformedFileIsCorruptData) {
  sim::Disk disk = make_disk();
  QuorumStateStore store(disk, "meta");
  auto f = disk.open(store.path(), sim::OpenFlags{.create = true});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->write(0, sim::to_bytes("0\n1\n4 -7 -1\n")).ok());
  auto back = store.read();
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.code(), storage::LogErrc::corrupt_data);
}

// ---- snapshots ----------------------------------------------------------------------------------

TEST(SnapshotFile, NamesParseBack) {
  const SnapshotId id = snap(1234, 7);
  EXPECT_EQ(snapshot_file_name(id), "00000000000000001234-0000000007.checkpoint");
  EXPECT_EQ(parse_snapshot_file_name(snapshot_file_name(id)), id);
  EXPECT_FALSE(parse_snapshot_file_name("00000000000000001234-0000000007.checkpoint.part"));
  EXPECT_FALSE(parse_snapshot_file_name("00000000000000001234.log"));
  EXPECT_FALSE(parse_snapshot_file_name("0000000000000000123x-0000000007.checkpoint"));
}

RC_GTEST_PROP(SnapshotFile, EncodeDecodeRoundTrips, (std::vector<uint8_t> payload, uint32_t end, uint16_t epoch)) {
  const SnapshotId id = snap(end, epoch);
  auto d = decode_snapshot_file(encode_snapshot_file(id, payload));
  RC_ASSERT(d.ok());
  RC_ASSERT(d->id == id);
  RC_ASSERT(d->payload == payload);
}

RC_GTEST_PROP(SnapshotFile, AnyFlippedBitIsRejected, (std::vector<uint8_t> payload, uint32_t end)) {
  proto::Bytes file = encode_snapshot_file(snap(end, 1), payload);
  const size_t bit = *rc::gen::inRange<size_t>(0, file.size() * 8);
  file[bit / 8] = static_cast<uint8_t>(file[bit / 8] ^ (1u << (bit % 8)));
  auto d = decode_snapshot_file(file);
  // A flip in the header's offset or epoch decodes (the name check catches it); anything else fails.
  if (d.ok()) RC_ASSERT(!(d->id == snap(end, 1)) || d->payload != payload);
}

RC_GTEST_PROP(SnapshotFile, ArbitraryBytesNeverCrash, (std::vector<uint8_t> bytes)) {
  (void)decode_snapshot_file(bytes);
}

TEST(SnapshotStore, WritesListsAndReadsBack) {
  sim::Disk disk = make_disk();
  SnapshotStore store(disk, "meta");
  ASSERT_TRUE(store.write(snap(10, 1), sim::to_bytes("ten")).ok());
  ASSERT_TRUE(store.write(snap(25, 2), sim::to_bytes("twenty-five")).ok());
  EXPECT_EQ(store.list(), (std::vector<SnapshotId>{snap(10, 1), snap(25, 2)}));
  auto latest = store.latest_valid();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->id, snap(25, 2));
  EXPECT_EQ((*latest)->payload, sim::to_bytes("twenty-five"));
  ASSERT_TRUE(store.remove_older_than(snap(25, 2)).ok());
  EXPECT_EQ(store.list(), (std::vector<SnapshotId>{snap(25, 2)}));
}

TEST(SnapshotStore, ACorruptNewestSnapshotIsSkipped) {
  sim::Disk disk = make_disk();
  SnapshotStore store(disk, "meta");
  ASSERT_TRUE(store.write(snap(10, 1), sim::to_bytes("ten")).ok());
  ASSERT_TRUE(store.write(snap(25, 2), sim::to_bytes("twenty-five")).ok());
  auto f = disk.open("meta/" + snapshot_file_name(snap(25, 2)));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->write(kSnapshotHeaderBytes, sim::to_bytes("X")).ok());
  auto latest = store.latest_valid();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->id, snap(10, 1));
}

TEST(SnapshotStore, PowerLossNeverLeavesAHalfSnapshotUnderItsName) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    sim::Disk disk = make_disk(seed);
    SnapshotStore store(disk, "meta");
    ASSERT_TRUE(store.write(snap(10, 1), proto::Bytes(3000, 7)).ok());
    // A second snapshot half way: its .part file written, not synced nor renamed.
    auto part = disk.open("meta/" + snapshot_file_name(snap(20, 1)) + ".part", sim::OpenFlags{.create = true});
    ASSERT_TRUE(part.ok());
    ASSERT_TRUE(part->write(0, encode_snapshot_file(snap(20, 1), proto::Bytes(3000, 9))).ok());
    disk.power_loss(sim::PowerLossMode::reorder);
    ASSERT_TRUE(store.remove_partials().ok());
    auto latest = store.latest_valid();
    ASSERT_TRUE(latest.ok() && latest->has_value());
    EXPECT_EQ((*latest)->id, snap(10, 1));
  }
}

TEST(SnapshotStore, ChunksCoverTheFile) {
  sim::Disk disk = make_disk();
  SnapshotStore store(disk, "meta");
  const proto::Bytes payload(1000, 3);
  ASSERT_TRUE(store.write(snap(5, 1), payload).ok());
  proto::Bytes whole;
  uint64_t position = 0;
  while (true) {
    auto c = store.read_chunk(snap(5, 1), position, 64);
    ASSERT_TRUE(c.ok());
    whole.insert(whole.end(), c->bytes.begin(), c->bytes.end());
    position += c->bytes.size();
    if (position >= c->file_size) break;
  }
  auto d = decode_snapshot_file(whole);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->payload, payload);
  EXPECT_EQ(store.read_chunk(snap(5, 1), position + 1, 64).code(), storage::LogErrc::offset_out_of_range);
}

// ---- messages ----------------------------------------------------------------------------------

template <class Body>
Body through_the_wire(const Body& body, int16_t version) {
  proto::Request req;
  req.header.api_key = Body::kApiKey;
  req.header.api_version = version;
  req.header.correlation_id = proto::CorrelationId(9);
  req.header.client_id = "raft";
  req.body = body;
  const proto::Bytes frame = proto::encode_request(req);
  auto back = proto::decode_request(frame);
  SL_ASSERT_MSG(back.ok(), back.error().to_string());
  return std::get<Body>(back->body);
}

TEST(RaftMessages, PreVoteTravelsAsATaggedField) {
  for (bool pre : {false, true}) {
    VoteArgs a{"c1", proto::LeaderEpoch(4), proto::BrokerId(2), proto::LeaderEpoch(3), proto::Offset(17), pre};
    auto back = read_vote_request(through_the_wire(vote_request(a), kVoteVersion));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->pre_vote, pre);
    EXPECT_EQ(back->candidate_epoch, a.candidate_epoch);
    EXPECT_EQ(back->end_offset, a.end_offset);
    EXPECT_EQ(back->cluster_id, "c1");
  }
}

TEST(RaftMessages, FetchNamesTheMetadataTopicById) {
  FetchArgs a;
  a.cluster_id = "c1";
  a.replica = proto::BrokerId(3);
  a.current_epoch = proto::LeaderEpoch(5);
  a.fetch_offset = proto::Offset(40);
  a.last_fetched_epoch = proto::LeaderEpoch(4);
  auto back = read_fetch_request(through_the_wire(fetch_request(a), kFetchVersion));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->replica, a.replica);
  EXPECT_EQ(back->partition.fetch_offset, a.fetch_offset);
  EXPECT_EQ(back->partition.last_fetched_epoch, a.last_fetched_epoch);
  EXPECT_EQ(metadata_topic_id().to_string(), "AAAAAAAAAAAAAAAAAAAAAQ");
}

TEST(RaftMessages, RequestsForOtherPartitionsAreNotOurs) {
  proto::VoteRequest r = vote_request(VoteArgs{"c", proto::LeaderEpoch(1), proto::BrokerId(1), {}, {}, false});
  r.topics[0].topic_name = "other";
  EXPECT_FALSE(read_vote_request(r).has_value());
  proto::BeginQuorumEpochRequest b = begin_quorum_epoch_request("c", LeaderInfo{proto::LeaderEpoch(1), proto::BrokerId(1)});
  b.topics[0].partitions[0].partition_index = 1;
  EXPECT_FALSE(read_begin_quorum_epoch(b).has_value());
}

}  // namespace
}  // namespace seedlog::broker::raft

#include "scenarios/properties.hpp"

#include <array>

namespace seedlog::scenarios {
namespace {

constexpr std::array kProperties = {
    // The Raft metadata quorum (broker/raft/checker.hpp).
    PropertyInfo{"election-safety", "raft", "online", "at most one leader per Raft epoch"},
    PropertyInfo{"vote-once", "raft", "online", "a voter grants at most one vote per epoch, also across restarts"},
    PropertyInfo{"epoch-monotonic", "raft", "online", "a node's epoch never decreases, also across restarts"},
    PropertyInfo{"leader-completeness", "raft", "online",
                 "a leader holds every entry committed in an earlier epoch (the election restriction's guarantee)"},
    PropertyInfo{"committed-entry-truncated", "raft", "online", "no node truncates an entry below the commit point"},
    PropertyInfo{"committed-entry-changed", "raft", "online",
                 "an entry at a committed offset is the same batch (epoch and CRC) on every node forever"},
    PropertyInfo{"hw-monotonic", "raft", "online", "a leader's high watermark never decreases within its epoch"},
    // The metadata image every broker applies (model/online/metadata_invariants.hpp).
    PropertyInfo{"one-leader-per-epoch", "metadata", "online", "a partition has one leader per leader epoch"},
    PropertyInfo{"epochs-monotonic", "metadata", "online", "a partition's leader and partition epochs never decrease"},
    PropertyInfo{"leader-in-isr", "metadata", "online", "a partition's leader is a member of its ISR"},
    PropertyInfo{"leader-unfenced", "metadata", "online", "a partition's leader is a registered, unfenced broker"},
    PropertyInfo{"fenced-not-in-isr", "metadata", "online", "no fenced broker is in an ISR, except as its last member"},
    // Partition replication, from the brokers' observation events (model/online/replication_invariants.hpp).
    PropertyInfo{"leader-completeness", "replication", "online",
                 "an elected partition leader holds every offset below the highest HW ever exposed (unless the "
                 "election was unclean: then the loss is reported as allowed)"},
    PropertyInfo{"hw-monotonic", "replication", "online", "a partition leader's high watermark never decreases"},
    PropertyInfo{"hw-above-isr-member", "replication", "online", "the HW is at most the log end of every ISR member the leader counts"},
    PropertyInfo{"committed-divergence", "replication", "online", "replicas hold identical data below their HWs"},
    PropertyInfo{"replica-epoch-monotonic", "replication", "online", "a replica's leader epoch never goes backwards"},
    PropertyInfo{"ack-before-commit", "replication", "online", "acks=all is answered only once the HW passed the batch"},
    PropertyInfo{"ack-below-min-insync", "replication", "online",
                 "a HW advance that commits acks=all data counted at least min.insync.replicas replicas"},
    // Consumer groups (model/online/group_invariants.hpp).
    PropertyInfo{"single-owner", "group", "online", "at most one member of a group owns a partition at any moment"},
    PropertyInfo{"commit-by-owner", "group", "online", "an accepted offset commit came from the partition's current owner"},
    PropertyInfo{"commit-generation", "group", "online", "an accepted offset commit carried the group's current generation"},
    // Partition logs' durability (model/online/storage_invariants.hpp).
    PropertyInfo{"recovery-point-durable", "storage", "online",
                 "what a log's recovery point covers survives a power loss whole: recovery never ends below it and no "
                 "read finds damaged data below it (unless the disk corrupts data)"},
    // End-of-run checks of leader-failover (scenarios/replication_scenarios.cpp).
    PropertyInfo{"acked-kept", "scenario", "end", "every acknowledged record is in the log once, at its acknowledged offset"},
    PropertyInfo{"no-allowed-loss", "scenario", "end", "no loss happened that the contract would only excuse (none is expected within the budget)"},
    PropertyInfo{"acked-readable", "liveness", "end", "after the heal every acknowledged record can be read back"},
    PropertyInfo{"progress", "liveness", "end", "some record was acknowledged"},
    PropertyInfo{"topic-created", "liveness", "end", "the workload's topic was created"},
    // End-of-run checks of the cluster scenarios (scenarios/cluster_scenarios.cpp).
    PropertyInfo{"acknowledged-topic-kept", "scenario", "end", "a topic whose creation was acknowledged still exists"},
    PropertyInfo{"controller-elected", "liveness", "end", "an active controller exists after the heal"},
    PropertyInfo{"brokers-unfenced", "liveness", "end", "every broker is registered and unfenced after the heal"},
    PropertyInfo{"partitions-led", "liveness", "end", "every partition of every acknowledged topic has a leader after the heal"},
    // End-of-run checks of the produce-consume workload (scenarios/stream_workload.cpp).
    PropertyInfo{"isr-full", "liveness", "end", "after the heal every partition of the workload's topic has its full ISR"},
    PropertyInfo{"producers-finished", "liveness", "end", "after the heal no send is still waiting for its outcome"},
    PropertyInfo{"records-consumed", "liveness", "end", "after the heal every acknowledged record was read by every consumer group"},
    PropertyInfo{"group-stable", "liveness", "end",
                 "after the heal every group's live members split the topic's partitions, one owner each"},
    // Histories (model/checker.hpp; Jepsen's vocabulary where it has a name).
    PropertyInfo{"lost-write", "history", "end", "an acknowledged record is never read, though reads reached past its offset"},
    PropertyInfo{"unseen", "history", "end", "an acknowledged record no final read reached"},
    PropertyInfo{"duplicate", "history", "end", "one value at more than one offset"},
    PropertyInfo{"inconsistent-offsets", "history", "end", "two values at one offset of a partition"},
    PropertyInfo{"aborted-read", "history", "end", "a definitely failed write was read (Jepsen's G1a)"},
    PropertyInfo{"unwritten-read", "history", "end", "a read returned a value no one wrote"},
    PropertyInfo{"poll-skip", "history", "end", "a consumer's successive polls skip offsets that exist, without a rebalance"},
    PropertyInfo{"nonmonotonic-poll", "history", "end", "a consumer's successive polls go backwards, without a rebalance"},
    PropertyInfo{"int-poll-skip", "history", "end", "one poll skips offsets that exist"},
    PropertyInfo{"int-nonmonotonic-poll", "history", "end", "one poll goes backwards"},
    PropertyInfo{"nonmonotonic-send", "history", "end", "a producer's successive sends to a partition get decreasing offsets"},
    PropertyInfo{"partition-order", "history", "end", "reads of a partition disagree on the order of its records"},
    PropertyInfo{"durability", "history", "end",
                 "each acknowledged write is present at its offset and read by every group that reads past it"},
    PropertyInfo{"committed-offset-regression", "history", "end",
                 "a group's committed offset moves backwards through a stale member"},
};

}  // namespace

std::span<const PropertyInfo> all_properties() { return kProperties; }

}  // namespace seedlog::scenarios

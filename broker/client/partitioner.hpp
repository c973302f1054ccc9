// Kafka's default partitioner: a keyed record goes to murmur2(key) & 0x7fffffff mod the partition
// count, using Kafka's own murmur2 variant (seed 0x9747b28c), so keys land where a Java producer
// would put them. Records without a key stick to one partition until its batch is sent
// (KIP-480); the choice among partitions is the producer's seeded draw.
#pragma once

#include <cstdint>
#include <span>

namespace seedlog::broker::client {

int32_t murmur2(std::span<const uint8_t> data);
inline int32_t to_positive(int32_t v) { return v & 0x7fffffff; }
int32_t partition_for_key(std::span<const uint8_t> key, int32_t partitions);

}  // namespace seedlog::broker::client

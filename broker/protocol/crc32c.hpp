// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
//
// Two implementations that must agree bit for bit: a portable slicing-by-8 table version and the
// SSE4.2 crc32 instruction, chosen at run time when the CPU has it. The choice never changes an
// answer, only its speed, so it does not threaten determinism.
#pragma once

#include <cstdint>

#include "broker/protocol/types.hpp"

namespace seedlog::protocol {

// CRC-32C of data, continuing from a previous result (crc32c(b, crc32c(a)) == crc32c(a ++ b)).
uint32_t crc32c(ByteView data, uint32_t previous = 0);

// The two implementations, exposed for tests and benchmarks.
uint32_t crc32c_portable(ByteView data, uint32_t previous = 0);
uint32_t crc32c_hardware(ByteView data, uint32_t previous = 0);  // REQUIRES: crc32c_hardware_available()
bool crc32c_hardware_available();

}  // namespace seedlog::protocol

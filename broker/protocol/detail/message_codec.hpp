// Per-message encode/decode/print entry points. The templates are defined in
// message_codec_impl.hpp and explicitly instantiated for every message in messages_*.cpp, so
// codec.cpp dispatches without seeing any schema (and the schemas compile in parallel).
// INTERNAL.
#pragma once

#include <cstdint>
#include <string>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::protocol::detail {

// REQUIRES: is_supported(M::kApiKey, version)
template <class M>
void encode_message(const M& message, int16_t version, Writer& out);
// Reads one message; failures are recorded in `in` (the message is then unspecified).
template <class M>
void decode_message(Reader& in, int16_t version, M& message);
template <class M>
void print_message(const M& message, int16_t version, std::string& out);

}  // namespace seedlog::protocol::detail

// Definitions of message_codec.hpp's templates, for the messages_*.cpp translation units.
// INTERNAL.
#pragma once

#include <string>

#include "broker/protocol/api.hpp"
#include "broker/protocol/detail/message_codec.hpp"
#include "broker/protocol/detail/schema_io.hpp"

namespace seedlog::protocol::detail {

template <class M>
void encode_message(const M& message, int16_t version, Writer& out) {
  Encoder encoder(out, version, is_flexible(M::kApiKey, version));
  encoder.field("", message);
}

template <class M>
void decode_message(Reader& in, int16_t version, M& message) {
  Decoder decoder(in, version, is_flexible(M::kApiKey, version), M::kName);
  decoder.field("", message);
}

template <class M>
void print_message(const M& message, int16_t version, std::string& out) {
  Printer printer(out, version, is_flexible(M::kApiKey, version));
  printer.field("", message);
}

#define SEEDLOG_INSTANTIATE_MESSAGE_CODEC(M)                                    \
  template void encode_message<M>(const M&, int16_t, Writer&);                  \
  template void decode_message<M>(Reader&, int16_t, M&);                        \
  template void print_message<M>(const M&, int16_t, std::string&)

}  // namespace seedlog::protocol::detail

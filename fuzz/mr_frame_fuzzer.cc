// libswell_mr's wire: the payload of every frame a driver or a worker decodes (the first byte
// picks the message), the records of user types a reducer decodes from its peers, and a byte
// stream cut into frames by their headers (DecodeFrameHeader, under the 4 KiB limit a driver
// sets before a peer's hello) whose payloads are decoded by their frame type. A decoded
// message encodes to bytes that decode to the same message again, and a frame's header to the
// header read.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mr/net.h"
#include "mr/protocol.h"

namespace {

using namespace swell::mr;

template <typename T>
void RoundTrip(std::string_view bytes) {
  Reader r(bytes);
  T v{};
  if (!r.Get(v)) return;
  std::string once = Encode(v);
  Reader again(once);
  T w{};
  if (!again.Get(w) || !again.empty() || Encode(w) != once) std::abort();
}

// A frame's payload, decoded as the receiver of its `type` would (kOpen, kError and the rest:
// a job id and a string).
void Payload(uint8_t type, std::string_view payload) {
  // clang-format off
  switch (type) {
    case proto::kHello: RoundTrip<proto::Hello>(payload); break;
    case proto::kIterate: RoundTrip<proto::Iterate>(payload); break;
    case proto::kData: RoundTrip<proto::Data>(payload); break;
    case proto::kResult: RoundTrip<proto::ResultHead>(payload); break;
    case proto::kMapped: RoundTrip<proto::Mapped>(payload); break;
    case proto::kUnreachable: RoundTrip<proto::Unreachable>(payload); break;
    case proto::kLoad: RoundTrip<std::vector<std::pair<int32_t, std::string>>>(payload); break;
    default: RoundTrip<std::pair<int64_t, std::string>>(payload); break;
  }
  // clang-format on
}

// Each frame of a stream, as Conn::Recv cuts it.
void Frames(std::string_view bytes) {
  while (bytes.size() >= net::kFrameHeader) {
    auto h = net::DecodeFrameHeader(bytes, 4096);
    if (!h.ok()) return;  // the receiver drops the connection
    if (net::EncodeFrameHeader(h->type, h->payload) != bytes.substr(0, net::kFrameHeader))
      std::abort();
    bytes.remove_prefix(net::kFrameHeader);
    std::string_view payload = bytes.substr(0, h->payload);
    bytes.remove_prefix(payload.size());
    Payload(h->type, payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The first byte picks: 0-7 one payload of these frame types, 8-11 records of user types,
  // 12 a stream of frames.
  static constexpr uint8_t kTypes[] = {proto::kHello,  proto::kIterate,     proto::kData,
                                       proto::kResult, proto::kMapped,      proto::kUnreachable,
                                       proto::kLoad,   proto::kOpen};
  const uint8_t pick = data[0] % 13;
  // clang-format off
  switch (pick) {
    case 8: RoundTrip<std::vector<double>>(bytes); break;
    case 9: RoundTrip<std::map<std::string, int64_t>>(bytes); break;
    case 10: RoundTrip<std::vector<std::optional<std::string>>>(bytes); break;
    case 11: RoundTrip<std::pair<int32_t, std::vector<double>>>(bytes); break;
    case 12: Frames(bytes); break;
    default: Payload(kTypes[pick], bytes); break;
  }
  // clang-format on
  return 0;
}

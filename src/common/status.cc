#include "common/status.h"

#include <iterator>

namespace swell {

const char* CodeName(Code code) {
  // Indexed by Code.
  static constexpr const char* kNames[] = {"OK",
                                           "INVALID_ARGUMENT",
                                           "NOT_FOUND",
                                           "UNAVAILABLE",
                                           "DEADLINE_EXCEEDED",
                                           "RESOURCE_EXHAUSTED",
                                           "PERMISSION_DENIED",
                                           "INTERNAL"};
  static_assert(std::size(kNames) == static_cast<size_t>(Code::kInternal) + 1);
  auto i = static_cast<size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace swell

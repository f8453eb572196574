#pragma once

// Errors as values: a Status names one of a handful of generic codes and carries the detail in
// its message. Result<T> holds either a value or a non-OK Status. No exception crosses a
// component boundary: adapters around throwing libraries convert to Status.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace swell {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong; retrying the same call cannot succeed
  kNotFound,           // the named job, node or file does not exist
  kUnavailable,        // a peer or resource is down; retrying later may succeed
  kDeadlineExceeded,   // the call ran out of time
  kResourceExhausted,  // a limit (size, count, quota) was reached
  kPermissionDenied,   // the caller may not do this
  kInternal,           // a bug or a broken invariant
};

// Returns the upper-snake name of `code`, e.g. "INVALID_ARGUMENT".
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(const std::string& context) const;

  bool operator==(const Status&) const = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Either a T or a non-OK Status. Accessing value() of an error is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace swell

// Returns early from the enclosing function if `expr` (a Status) is not OK.
#define SWELL_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::swell::Status swell_status_ = (expr);        \
    if (!swell_status_.ok()) return swell_status_; \
  } while (0)

#define SWELL_CONCAT_INNER_(a, b) a##b
#define SWELL_CONCAT_(a, b) SWELL_CONCAT_INNER_(a, b)

// SWELL_ASSIGN_OR_RETURN(auto x, ResultExpr()): binds the value or returns the error.
#define SWELL_ASSIGN_OR_RETURN(lhs, expr) \
  SWELL_ASSIGN_OR_RETURN_IMPL_(SWELL_CONCAT_(swell_result_, __LINE__), lhs, expr)
#define SWELL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

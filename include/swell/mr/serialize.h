#pragma once

// How libswell_mr turns keys, values, static and dynamic data into bytes.
//
// Trivially copyable types (ints, doubles, plain structs of them, std::array of them) need no
// code: they travel as their bytes. The runtime also knows std::string, std::vector, std::pair,
// std::map and std::optional of serializable types. Any other type gets a specialization:
//
//   template <> struct swell::mr::Serde<MyType> {
//     static void Write(Writer& w, const MyType& v) { w.Put(v.name); w.Put(v.values); }
//     static bool Read(Reader& r, MyType& v) { return r.Get(v.name) && r.Get(v.values); }
//   };
//
// or, the same for a struct sent member by member, listing each member once (SerdeMembers):
//
//   template <> struct swell::mr::Serde<MyType>
//       : swell::mr::SerdeMembers<&MyType::name, &MyType::values> {};
//
// Read returns false on malformed input (the runtime then fails the job with an error naming the
// job). Bytes are in the host's order: every process of a job runs the same binary, and swell's
// clusters are homogeneous (x86-64 or arm64, both little-endian).

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace swell::mr {

class Writer;
class Reader;

// Specialize for types that are not trivially copyable (see above).
template <typename T, typename Enable = void>
struct Serde;

// Appends to a caller-owned string. Not thread-safe.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void Bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  // A length: 7 bits per byte (LEB128), so that short strings cost one byte.
  void Size(uint64_t n) {
    while (n >= 0x80) {
      out_.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    out_.push_back(static_cast<char>(n));
  }
  template <typename T>
  void Put(const T& v) {
    Serde<T>::Write(*this, v);
  }
  std::string& buffer() { return out_; }

 private:
  std::string& out_;
};

// Reads from a view the caller keeps alive. Every Get returns false once the input is short or
// malformed, and stays false.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Bytes(void* p, size_t n) {
    if (!ok_ || in_.size() < n) return ok_ = false;
    if (n > 0) std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Size(uint64_t* n) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || in_.empty()) return ok_ = false;
      auto b = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *n = v;
        return true;
      }
    }
    return ok_ = false;
  }
  // A length that must fit in what is left (each element takes at least `min_bytes`).
  bool Count(size_t* n, size_t min_bytes = 1) {
    uint64_t v = 0;
    if (!Size(&v)) return false;
    if (min_bytes > 0 && v > in_.size() / min_bytes) return ok_ = false;
    *n = static_cast<size_t>(v);
    return true;
  }
  template <typename T>
  bool Get(T& v) {
    return ok_ && (Serde<T>::Read(*this, v) || (ok_ = false));
  }
  bool ok() const { return ok_; }
  bool empty() const { return in_.empty(); }
  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
  bool ok_ = true;
};

template <typename T>
struct Serde<T, std::enable_if_t<std::is_trivially_copyable_v<T>>> {
  static void Write(Writer& w, const T& v) { w.Bytes(&v, sizeof v); }
  static bool Read(Reader& r, T& v) { return r.Bytes(&v, sizeof v); }
};

template <>
struct Serde<std::string> {
  static void Write(Writer& w, const std::string& v) {
    w.Size(v.size());
    w.Bytes(v.data(), v.size());
  }
  static bool Read(Reader& r, std::string& v) {
    size_t n = 0;
    if (!r.Count(&n)) return false;
    v.resize(n);
    return r.Bytes(v.data(), n);
  }
};

template <typename T>
struct Serde<std::vector<T>> {
  static void Write(Writer& w, const std::vector<T>& v) {
    w.Size(v.size());
    if constexpr (std::is_trivially_copyable_v<T>) {
      w.Bytes(v.data(), v.size() * sizeof(T));
    } else {
      for (const auto& e : v) w.Put(e);
    }
  }
  static bool Read(Reader& r, std::vector<T>& v) {
    size_t n = 0;
    if constexpr (std::is_trivially_copyable_v<T>) {
      if (!r.Count(&n, sizeof(T))) return false;
      v.resize(n);
      return r.Bytes(v.data(), n * sizeof(T));
    } else {
      if (!r.Count(&n)) return false;
      v.clear();
      v.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        T e{};
        if (!r.Get(e)) return false;
        v.push_back(std::move(e));
      }
      return true;
    }
  }
};

template <typename A, typename B>
struct Serde<std::pair<A, B>, std::enable_if_t<!std::is_trivially_copyable_v<std::pair<A, B>>>> {
  static void Write(Writer& w, const std::pair<A, B>& v) {
    w.Put(v.first);
    w.Put(v.second);
  }
  static bool Read(Reader& r, std::pair<A, B>& v) { return r.Get(v.first) && r.Get(v.second); }
};

template <typename K, typename V>
struct Serde<std::map<K, V>> {
  static void Write(Writer& w, const std::map<K, V>& m) {
    w.Size(m.size());
    for (const auto& [k, v] : m) {
      w.Put(k);
      w.Put(v);
    }
  }
  static bool Read(Reader& r, std::map<K, V>& m) {
    size_t n = 0;
    if (!r.Count(&n)) return false;
    m.clear();
    for (size_t i = 0; i < n; ++i) {
      K k{};
      V v{};
      if (!r.Get(k) || !r.Get(v)) return false;
      m.emplace_hint(m.end(), std::move(k), std::move(v));
    }
    return true;
  }
};

template <typename T>
struct Serde<std::optional<T>, std::enable_if_t<!std::is_trivially_copyable_v<std::optional<T>>>> {
  static void Write(Writer& w, const std::optional<T>& v) {
    w.Put(static_cast<uint8_t>(v.has_value()));
    if (v) w.Put(*v);
  }
  static bool Read(Reader& r, std::optional<T>& v) {
    uint8_t has = 0;
    if (!r.Get(has) || has > 1) return false;
    if (!has) {
      v.reset();
      return true;
    }
    T e{};
    if (!r.Get(e)) return false;
    v = std::move(e);
    return true;
  }
};

// A Serde that writes the listed data members (pointers to members of one struct) in order,
// and reads them back in the same order; Read stops at the first member that fails.
template <auto... members>
struct SerdeMembers {
  template <typename T>
  static void Write(Writer& w, const T& v) {
    (w.Put(v.*members), ...);
  }
  template <typename T>
  static bool Read(Reader& r, T& v) {
    return (r.Get(v.*members) && ...);
  }
};

// Serialize a value into a new string / parse a whole string (false if bytes are left over).
template <typename T>
std::string Encode(const T& v) {
  std::string out;
  Writer w(out);
  w.Put(v);
  return out;
}
template <typename T>
bool Decode(std::string_view in, T& v) {
  Reader r(in);
  return r.Get(v) && r.empty();
}

}  // namespace swell::mr

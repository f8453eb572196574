#include "swell/mr/serialize.h"

#include <gtest/gtest.h>

#include <array>

namespace swell::mr {
namespace {

struct Point {
  double x, y;
  int32_t tag;
  bool operator==(const Point&) const = default;
};

struct Named {  // not trivially copyable: needs a Serde
  std::string name;
  std::vector<double> values;
  bool operator==(const Named&) const = default;
};

struct Labeled {  // the same, through SerdeMembers
  std::string label;
  std::vector<int32_t> ids;
  Point at;
  bool operator==(const Labeled&) const = default;
};

}  // namespace

template <>
struct Serde<Labeled> : SerdeMembers<&Labeled::label, &Labeled::ids, &Labeled::at> {};

template <>
struct Serde<Named> {
  static void Write(Writer& w, const Named& v) {
    w.Put(v.name);
    w.Put(v.values);
  }
  static bool Read(Reader& r, Named& v) { return r.Get(v.name) && r.Get(v.values); }
};

namespace {

template <typename T>
T RoundTrip(const T& v) {
  T out{};
  EXPECT_TRUE(Decode(Encode(v), out));
  return out;
}

TEST(SerializeTest, TriviallyCopyableTypesTravelAsTheirBytes) {
  EXPECT_EQ(RoundTrip(int64_t{-5}), -5);
  EXPECT_EQ(RoundTrip(3.25), 3.25);
  Point p{1.5, -2, 7};
  EXPECT_EQ(RoundTrip(p), p);
  EXPECT_EQ(Encode(p).size(), sizeof(Point));
  std::array<float, 3> a{1, 2, 3};
  EXPECT_EQ(RoundTrip(a), a);
}

TEST(SerializeTest, StandardContainersAndUserTypes) {
  EXPECT_EQ(RoundTrip(std::string("héllo")), "héllo");
  std::vector<Point> ps{{1, 2, 3}, {4, 5, 6}};
  EXPECT_EQ(RoundTrip(ps), ps);
  std::vector<std::string> ss{"a", "", std::string(300, 'x')};
  EXPECT_EQ(RoundTrip(ss), ss);
  std::map<std::string, std::vector<int>> m{{"k", {1, 2}}, {"z", {}}};
  EXPECT_EQ(RoundTrip(m), m);
  std::pair<std::string, int> pr{"p", 4};
  EXPECT_EQ(RoundTrip(pr), pr);
  std::optional<std::string> o = "x", none;
  EXPECT_EQ(RoundTrip(o), o);
  EXPECT_EQ(RoundTrip(none), none);
  Named n{"n", {0.5, 1.5}};
  EXPECT_EQ(RoundTrip(n), n);
}

TEST(SerializeTest, SerdeMembersWritesTheMembersInOrder) {
  Labeled l{"l", {4, 5}, {1, 2, 3}};
  EXPECT_EQ(RoundTrip(l), l);
  std::string by_hand;
  Writer w(by_hand);
  w.Put(l.label);
  w.Put(l.ids);
  w.Put(l.at);
  EXPECT_EQ(Encode(l), by_hand);
  Labeled out;
  EXPECT_FALSE(Decode(by_hand.substr(0, by_hand.size() - 1), out));
}

TEST(SerializeTest, ShortOrMalformedInputIsRejectedNotOverread) {
  std::string bytes = Encode(std::vector<double>{1, 2, 3});
  std::vector<double> v;
  EXPECT_FALSE(Decode(bytes.substr(0, bytes.size() - 1), v));
  EXPECT_FALSE(Decode(bytes + "x", v));  // bytes left over
  // A length far beyond the input fails before allocating it.
  std::string huge;
  Writer(huge).Size(uint64_t{1} << 60);
  std::string s;
  EXPECT_FALSE(Decode(huge, s));
  EXPECT_FALSE(Decode(std::string(20, '\xff'), s));  // a length that never ends
  std::optional<int64_t> bad;
  EXPECT_FALSE(Decode(std::string("\x02", 1), bad));
}

}  // namespace
}  // namespace swell::mr

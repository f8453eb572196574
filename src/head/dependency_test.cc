#include "head/dependency.h"

#include <gtest/gtest.h>

#include <map>

namespace swell::head {
namespace {

pb::Dependency Dep(std::vector<std::pair<std::string, std::vector<std::string>>> terms,
                   bool any = false) {
  pb::Dependency d;
  for (auto& [type, ids] : terms) {
    auto* t = d.add_terms();
    t->set_type(type);
    for (auto& id : ids) t->add_job_ids(id);
  }
  d.set_any(any);
  return d;
}

class DependencyTest : public ::testing::Test {
 protected:
  pb::JobState Eval(const pb::Dependency& d, bool singleton = false) {
    reason_.clear();
    return EvaluateDependency(
        d,
        [&](const std::string& ref) -> std::optional<RefStatus> {
          auto it = jobs_.find(ref);
          if (it == jobs_.end()) return std::nullopt;
          return it->second;
        },
        [&] { return singleton; }, &reason_);
  }
  std::map<std::string, RefStatus> jobs_ = {{"1", {pb::PENDING, false}},
                                            {"2", {pb::RUNNING, true}},
                                            {"3", {pb::COMPLETED, true}},
                                            {"4", {pb::FAILED, true}},
                                            {"5_7", {pb::COMPLETED, true}}};
  std::string reason_;
};

TEST_F(DependencyTest, EachTypeAsSlurmHasIt) {
  EXPECT_EQ(Eval(pb::Dependency()), pb::COMPLETED);
  EXPECT_EQ(Eval(Dep({{"after", {"2"}}})), pb::COMPLETED);
  EXPECT_EQ(Eval(Dep({{"after", {"1"}}})), pb::PENDING);
  EXPECT_EQ(reason_, "Dependency");
  EXPECT_EQ(Eval(Dep({{"afterany", {"2"}}})), pb::PENDING);
  EXPECT_EQ(Eval(Dep({{"afterany", {"3", "4"}}})), pb::COMPLETED);
  EXPECT_EQ(Eval(Dep({{"afterok", {"3", "5_7"}}})), pb::COMPLETED);
  EXPECT_EQ(Eval(Dep({{"afterok", {"4"}}})), pb::FAILED);
  EXPECT_EQ(reason_, "DependencyNeverSatisfied");
  EXPECT_EQ(Eval(Dep({{"afternotok", {"4"}}})), pb::COMPLETED);
  EXPECT_EQ(Eval(Dep({{"afternotok", {"3"}}})), pb::FAILED);
  EXPECT_EQ(Eval(Dep({{"afternotok", {"2"}}})), pb::PENDING);
  EXPECT_EQ(Eval(Dep({{"afterok", {"99"}}})), pb::FAILED);  // no such job
  EXPECT_EQ(Eval(Dep({{"singleton", {}}}), /*singleton=*/true), pb::PENDING);
  EXPECT_EQ(Eval(Dep({{"singleton", {}}}), /*singleton=*/false), pb::COMPLETED);
}

TEST_F(DependencyTest, AllTermsOrAnyOne) {
  auto d = Dep({{"afterok", {"3"}}, {"afterok", {"2"}}});
  EXPECT_EQ(Eval(d), pb::PENDING);
  d.set_any(true);
  EXPECT_EQ(Eval(d), pb::COMPLETED);
  // All: one term that never can be satisfied fails the job. Any: only when every term fails.
  d = Dep({{"afterok", {"4"}}, {"afterany", {"2"}}});
  EXPECT_EQ(Eval(d), pb::FAILED);
  d.set_any(true);
  EXPECT_EQ(Eval(d), pb::PENDING);
  d = Dep({{"afterok", {"4"}}, {"afternotok", {"3"}}}, true);
  EXPECT_EQ(Eval(d), pb::FAILED);
}

}  // namespace
}  // namespace swell::head

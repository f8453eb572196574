// The file helpers' guards: private files stay private, and a read has a bound.

#include "common/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "testing/scratch.h"

namespace swell {
namespace {

int ModeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

TEST(KeepPrivateTest, CreatesTheOwnersOnlyAndNarrowsAWiderFile) {
  testing::TempDir dir;
  std::string fresh = dir.path() + "/fresh";
  ASSERT_TRUE(KeepPrivate(fresh).ok());
  EXPECT_EQ(ModeOf(fresh), 0600);

  std::string wide = dir.path() + "/wide";
  std::ofstream(wide) << "job data";
  ASSERT_EQ(chmod(wide.c_str(), 0664), 0);
  ASSERT_TRUE(KeepPrivate(wide).ok());
  EXPECT_EQ(ModeOf(wide), 0600);
  EXPECT_EQ(*ReadFile(wide), "job data");  // narrowed, not truncated

  std::string read_only = dir.path() + "/read-only";
  std::ofstream(read_only) << "x";
  ASSERT_EQ(chmod(read_only.c_str(), 0444), 0);
  ASSERT_TRUE(KeepPrivate(read_only).ok());
  EXPECT_EQ(ModeOf(read_only), 0400);  // the owner's bits stay as they were
}

TEST(KeepPrivateTest, ADirectoryOrAMissingParentIsAnError) {
  testing::TempDir dir;
  EXPECT_FALSE(KeepPrivate(dir.path()).ok());
  EXPECT_FALSE(KeepPrivate(dir.path() + "/no/such/dir/file").ok());
}

TEST(ReadFileTest, RefusesWhatPassesItsBound) {
  testing::TempDir dir;
  std::string path = dir.path() + "/big";
  std::ofstream(path) << std::string(100000, 'x');
  EXPECT_EQ(ReadFile(path, 100000)->size(), 100000u);
  auto over = ReadFile(path, 99999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kInvalidArgument);
  EXPECT_NE(over.status().message().find("larger than 99999 bytes"), std::string::npos);
  // A device that never ends is cut off at the bound, not read until memory runs out.
  auto endless = ReadFile("/dev/zero", 1 << 20);
  ASSERT_FALSE(endless.ok());
  EXPECT_NE(endless.status().message().find("/dev/zero is larger than"), std::string::npos);
}

}  // namespace
}  // namespace swell

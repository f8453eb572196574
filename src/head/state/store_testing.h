#pragma once

// What the store's tests (store_test.cc, store_history_test.cc) share: a fixture with a scratch
// directory, removed after each test, and the path of a database in it that does not exist yet.
// Test code only.

#include <gtest/gtest.h>

#include <string>

#include "testing/scratch.h"

namespace swell::head::state {

class StoreTest : public ::testing::Test {
 protected:
  swell::testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/state.db";
};

}  // namespace swell::head::state

#include "provider/provider_calls.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace swell::provider {
namespace {

TEST(ProviderCallsTest, CallsRunOffTheCallersThreadSideBySide) {
  ProviderCalls calls;
  calls.Start(2);
  // Two calls that each wait for the other: they finish only if they run at once.
  std::promise<void> a, b;
  std::promise<std::thread::id> where;
  calls.Run([&] {
    a.set_value();
    b.get_future().wait();
    where.set_value(std::this_thread::get_id());
  });
  calls.Run([&] {
    a.get_future().wait();
    b.set_value();
  });
  EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
}

TEST(ProviderCallsTest, StopFinishesTheCallUnderWayAndDropsTheQueued) {
  ProviderCalls calls;
  calls.Start(1);
  std::promise<void> started;
  std::atomic<int> finished{0}, queued_ran{0};
  // The one worker's call runs until Stop() has begun (Run refuses from then on).
  ASSERT_TRUE(calls.Run([&] {
    started.set_value();
    while (calls.Run([] {})) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    finished++;
  }));
  ASSERT_TRUE(calls.Run([&] { queued_ran++; }));
  started.get_future().wait();
  calls.Stop();
  EXPECT_EQ(finished.load(), 1) << "Stop() returned before the call under way ended";
  EXPECT_EQ(queued_ran.load(), 0);
  EXPECT_FALSE(calls.Run([&] { queued_ran++; }));
  EXPECT_EQ(queued_ran.load(), 0);
}

}  // namespace
}  // namespace swell::provider

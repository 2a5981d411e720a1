// Worker: pinning, round-robin with a burst limit, attach/detach while
// running, detach waiting for the worker, the sleep/wake path, stop, and the
// counters. No timing is asserted; waits are bounded so a bug fails a test
// instead of hanging it. Pollables are declared before their worker, so the
// worker stops before they are destroyed.
#include "uvmbus/runtime/worker.h"

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "fake_pollable.h"
#include "test_support.h"
#include "uvmbus/runtime/affinity.h"
#include "uvmbus/runtime/cpu_list.h"

namespace uvmbus::runtime {
namespace {

using namespace std::chrono_literals;
using test::FakePollable;
using test::wait_until;

const Topology& topology() {
  static const Topology loaded = [] {
    auto topology = Topology::load();
    EXPECT_TRUE(topology.has_value());
    return std::move(*topology);
  }();
  return loaded;
}

unsigned first_cpu() { return allowed_cpus().front(); }

std::unique_ptr<Worker> start_worker(const WorkerConfig& config) {
  auto worker = Worker::start(topology(), config);
  if (!worker) {
    ADD_FAILURE() << "start: " << to_string(worker.error().code);
    return nullptr;
  }
  return std::move(*worker);
}

void attach(Worker& worker, Pollable& pollable) {
  const auto attached = worker.attach(pollable);
  ASSERT_TRUE(attached.has_value()) << to_string(attached.error().code);
}

TEST(Worker, PollsOnTheCpuItIsPinnedTo) {
  for (const unsigned cpu : allowed_cpus()) {
    FakePollable pollable;
    const auto worker = start_worker({.cpu = cpu, .idle_threshold = kNeverSleep});
    ASSERT_NE(worker, nullptr);
    attach(*worker, pollable);
    ASSERT_TRUE(wait_until([&] { return pollable.polls() > 0; }));
    EXPECT_EQ(pollable.last_cpu(), static_cast<int>(cpu));
    worker->stop();
  }
}

TEST(Worker, StartReportsBadCpusAndConfigurations) {
  auto absent = Worker::start(topology(), {.cpu = kMaxCpu});
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code, RuntimeErrorCode::cpu_out_of_range);
  EXPECT_EQ(absent.error().subject, kMaxCpu);

  auto no_budget = Worker::start(topology(), {.cpu = first_cpu(), .burst = 0});
  ASSERT_FALSE(no_budget.has_value());
  EXPECT_EQ(no_budget.error().code, RuntimeErrorCode::invalid_config);

  auto negative = Worker::start(topology(), {.cpu = first_cpu(), .idle_threshold = -1ns});
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code, RuntimeErrorCode::invalid_config);
}

TEST(Worker, EveryPollableGetsOneBurstPerRound) {
  constexpr std::size_t kBurst = 4;
  FakePollable pollables[3];
  const auto worker =
      start_worker({.cpu = first_cpu(), .burst = kBurst, .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  for (FakePollable& pollable : pollables) {
    attach(*worker, pollable);
  }
  // All become endless within one round, so each may be at most one burst
  // ahead of another from then on, however long it runs.
  for (FakePollable& pollable : pollables) {
    pollable.make_endless();
  }
  ASSERT_TRUE(wait_until([&] { return pollables[2].units_done() >= 100'000; }));
  worker->stop();

  for (const FakePollable& pollable : pollables) {
    EXPECT_EQ(pollable.largest_budget(), kBurst);
    for (const FakePollable& other : pollables) {
      EXPECT_LE(pollable.units_done(), other.units_done() + kBurst);
    }
  }
}

TEST(Worker, ABacklogIsWorkedOffInBurstsOfTheBudget) {
  constexpr std::size_t kBurst = 8;
  FakePollable pollable;
  const auto worker =
      start_worker({.cpu = first_cpu(), .burst = kBurst, .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  const uint64_t polls_before = pollable.polls();
  pollable.add_work(1000);
  ASSERT_TRUE(wait_until([&] { return pollable.units_done() == 1000; }));
  EXPECT_GE(pollable.polls() - polls_before, 1000 / kBurst);
  EXPECT_EQ(pollable.largest_budget(), kBurst);
}

TEST(Worker, AttachAndDetachWhileRunning) {
  FakePollable first, second;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  attach(*worker, first);
  ASSERT_TRUE(wait_until([&] { return first.polls() > 0; }));
  attach(*worker, second);
  ASSERT_TRUE(wait_until([&] { return second.polls() > 0; }));

  ASSERT_TRUE(worker->detach(first).has_value());
  const uint64_t first_polls = first.polls();
  const uint64_t second_polls = second.polls();
  ASSERT_TRUE(wait_until([&] { return second.polls() > second_polls + 1000; }));
  EXPECT_EQ(first.polls(), first_polls) << "polled after detach returned";

  const auto twice = worker->attach(second);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, RuntimeErrorCode::already_attached);
  const auto gone = worker->detach(first);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, RuntimeErrorCode::not_attached);

  // Re-attaching works, and the worker takes it over in poll mode.
  attach(*worker, first);
  ASSERT_TRUE(wait_until([&] { return first.polls() > first_polls; }));
  EXPECT_EQ(first.protocol_violations(), 0u);
  EXPECT_EQ(second.protocol_violations(), 0u);
}

// A pollable whose poll() holds the worker until the test releases it.
class BlockingPollable : public Pollable {
 public:
  std::size_t poll(std::size_t) noexcept override {
    inside_.store(true);
    while (!released_.load()) {
      std::this_thread::yield();
    }
    polls_.fetch_add(1);
    inside_.store(false);
    return 0;
  }
  bool try_enter_interrupt_mode() noexcept override { return true; }
  void exit_interrupt_mode() noexcept override {}
  int wake_fd() const noexcept override { return -1; }

  bool inside() const { return inside_.load(); }
  uint64_t polls() const { return polls_.load(); }
  void release() { released_.store(true); }

 private:
  std::atomic<bool> inside_{false};
  std::atomic<bool> released_{false};
  std::atomic<uint64_t> polls_{0};
};

TEST(Worker, DetachWaitsUntilTheWorkerIsDoneWithThePollable) {
  BlockingPollable pollable;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  ASSERT_TRUE(wait_until([&] { return pollable.inside(); }));

  std::atomic<bool> detached{false};
  std::thread detacher([&] {
    EXPECT_TRUE(worker->detach(pollable).has_value());
    detached.store(true);
  });
  // The worker is inside poll(): detach cannot have returned, however long we look.
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(detached.load());
  pollable.release();
  detacher.join();

  EXPECT_FALSE(pollable.inside());
  const uint64_t polls = pollable.polls();
  const uint64_t rounds = worker->stats().rounds;
  ASSERT_TRUE(wait_until([&] { return worker->stats().rounds > rounds + 1000; }));
  EXPECT_EQ(pollable.polls(), polls);
}

TEST(Worker, ASleepingWorkerWakesOnASignalAndDoesTheWork) {
  FakePollable pollable;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = 0ns});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  ASSERT_TRUE(wait_until([&] { return pollable.in_interrupt_mode(); }));
  ASSERT_TRUE(wait_until([&] { return worker->stats().sleeps >= 1; }));

  for (uint64_t batch = 1; batch <= 20; ++batch) {
    pollable.add_work(10);
    ASSERT_TRUE(wait_until([&] { return pollable.units_done() == batch * 10; }))
        << "lost wakeup at batch " << batch;
  }
  worker->stop();
  const WorkerStats stats = worker->stats();
  EXPECT_GE(stats.wakeups, 1u);
  EXPECT_LE(stats.wakeups, stats.sleeps);
  EXPECT_EQ(stats.work_units, 200u);
  EXPECT_EQ(pollable.protocol_violations(), 0u);
  EXPECT_FALSE(pollable.in_interrupt_mode());
}

TEST(Worker, StopWakesASleepingWorker) {
  FakePollable pollable;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = 0ns});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  ASSERT_TRUE(wait_until([&] { return worker->stats().sleeps >= 1; }));
  auto stopped = std::async(std::launch::async, [&] { worker->stop(); });
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready) << "stop() did not wake the worker";
  EXPECT_FALSE(pollable.in_interrupt_mode());

  const auto late = worker->attach(pollable);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, RuntimeErrorCode::worker_stopped);
  // The set may still be emptied after stop.
  EXPECT_TRUE(worker->detach(pollable).has_value());
}

TEST(Worker, DetachingASleepingPollableLeavesItInPollMode) {
  FakePollable pollable;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = 0ns});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  ASSERT_TRUE(wait_until([&] { return pollable.in_interrupt_mode(); }));
  ASSERT_TRUE(worker->detach(pollable).has_value());
  EXPECT_FALSE(pollable.in_interrupt_mode());
  EXPECT_EQ(pollable.entries(), pollable.exits() - 1) << "one exit at attach, one per entry";
  EXPECT_EQ(pollable.protocol_violations(), 0u);
}

TEST(Worker, WorkRacingInRefusesTheSleepAndEveryTriedPollableReturnsToPollMode) {
  FakePollable willing, refusing;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = 0ns});
  ASSERT_NE(worker, nullptr);
  refusing.refuse_next_entries(3);
  attach(*worker, willing);
  attach(*worker, refusing);
  ASSERT_TRUE(wait_until([&] { return refusing.entries() >= 1; }));
  ASSERT_TRUE(worker->detach(willing).has_value());
  ASSERT_TRUE(worker->detach(refusing).has_value());

  EXPECT_GE(worker->stats().refused_sleeps, 3u);
  for (const FakePollable* pollable : {&willing, &refusing}) {
    EXPECT_FALSE(pollable->in_interrupt_mode());
    EXPECT_EQ(pollable->protocol_violations(), 0u);
  }
  // One exit when taken over, then one after each entry (a refused sleep
  // puts `willing` back too), and one after each refusal.
  EXPECT_EQ(willing.exits(), 1 + willing.entries());
  EXPECT_EQ(refusing.exits(), 1 + refusing.entries() + 3);
}

TEST(Worker, APollableWithoutWakeFdKeepsTheWorkerPolling) {
  FakePollable with_fd;
  FakePollable without_fd(FakePollable::WakeFd::none);
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = 0ns});
  ASSERT_NE(worker, nullptr);
  attach(*worker, with_fd);
  attach(*worker, without_fd);
  const uint64_t sleeps = worker->stats().sleeps;
  const uint64_t rounds = worker->stats().rounds;
  ASSERT_TRUE(wait_until([&] { return worker->stats().rounds > rounds + 10'000; }));
  EXPECT_EQ(worker->stats().sleeps, sleeps);
  EXPECT_EQ(without_fd.entries(), 0u);

  // Without it, the worker sleeps again.
  ASSERT_TRUE(worker->detach(without_fd).has_value());
  ASSERT_TRUE(wait_until([&] { return worker->stats().sleeps > sleeps; }));
}

TEST(Worker, PurePollModeNeverSleeps) {
  FakePollable pollable;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  ASSERT_TRUE(wait_until([&] { return worker->stats().rounds > 10'000; }));
  const WorkerStats stats = worker->stats();
  EXPECT_EQ(stats.sleeps, 0u);
  EXPECT_EQ(stats.refused_sleeps, 0u);
  EXPECT_EQ(pollable.entries(), 0u);
}

TEST(Worker, CountersFollowTheWork) {
  FakePollable pollable;
  const auto worker =
      start_worker({.cpu = first_cpu(), .burst = 8, .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  attach(*worker, pollable);
  pollable.add_work(1000);
  ASSERT_TRUE(wait_until([&] { return worker->stats().work_units == 1000; }));
  const uint64_t rounds = worker->stats().rounds;
  ASSERT_TRUE(wait_until([&] { return worker->stats().rounds > rounds + 1000; }));
  worker->stop();

  const WorkerStats stats = worker->stats();
  EXPECT_EQ(stats.work_units, 1000u);
  EXPECT_GE(stats.rounds, 1000u / 8);
  EXPECT_GT(stats.busy_cycles, 0u);
  EXPECT_GT(stats.idle_cycles, 0u);
  EXPECT_EQ(stats.asleep_cycles, 0u);
  EXPECT_EQ(stats.sleeps, 0u);
  EXPECT_EQ(stats.wakeups, 0u);
}

// A pollable that tries to detach itself from inside poll().
class SelfDetachingPollable : public FakePollable {
 public:
  // Before attaching.
  void set_worker(Worker& worker) { worker_ = &worker; }
  std::size_t poll(std::size_t budget) noexcept override {
    if (!tried_.exchange(true)) {
      const auto result = worker_->detach(*this);
      refused_.store(!result && result.error().code == RuntimeErrorCode::on_worker_thread);
    }
    return FakePollable::poll(budget);
  }
  bool refused() const { return refused_.load(); }

 private:
  Worker* worker_ = nullptr;
  std::atomic<bool> tried_{false};
  std::atomic<bool> refused_{false};
};

TEST(Worker, ControlCallsFromTheWorkerThreadAreRefused) {
  SelfDetachingPollable pollable;
  const auto worker = start_worker({.cpu = first_cpu(), .idle_threshold = kNeverSleep});
  ASSERT_NE(worker, nullptr);
  pollable.set_worker(*worker);
  attach(*worker, pollable);
  ASSERT_TRUE(wait_until([&] { return pollable.polls() > 0; }));
  EXPECT_TRUE(pollable.refused());
}

}  // namespace
}  // namespace uvmbus::runtime

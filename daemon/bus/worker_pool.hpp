// The threads that run requests off the bus thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/faults.hpp"

namespace vmd::bus {

/// Up to `max_threads` worker threads, started on demand and reused. The request slots bound
/// the tasks in flight to max_concurrent, so a task never waits for a busy worker.
class WorkerPool {
  public:
    /// `inject` fails StartThread and Queue in tests (empty: never).
    explicit WorkerPool(unsigned max_threads, FaultInjector inject = {});
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    /// Runs every task already submitted, then joins the workers.
    ~WorkerPool();

    /// Queues `task` for a worker, starting one first when none is idle and the limit allows.
    /// Throws (std::system_error: no thread; std::bad_alloc) with nothing queued, so a task
    /// that was not accepted is never run.
    void submit(std::function<void()> task);
    /// Runs every task already submitted and joins the workers; submit() must not follow.
    void shutdown();

    /// The number of worker threads started so far.
    std::size_t threads() const;

  private:
    void work();

    unsigned max_threads_;
    FaultInjector inject_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    unsigned idle_ = 0;
    bool stopping_ = false;
    std::vector<std::jthread> threads_;
};

}  // namespace vmd::bus

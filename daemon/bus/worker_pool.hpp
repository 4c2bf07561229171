// The threads that run requests off the bus thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vmd::bus {

/// Up to `max_threads` worker threads, started on demand and reused. The request slots bound
/// the tasks in flight to max_concurrent, so a task never waits for a busy worker.
class WorkerPool {
  public:
    explicit WorkerPool(unsigned max_threads);
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    /// Runs every task already submitted, then joins the workers.
    ~WorkerPool();

    /// Queues `task` for a worker (starting one when none is idle and the limit allows).
    void submit(std::function<void()> task);
    /// Runs every task already submitted and joins the workers; submit() must not follow.
    void shutdown();

  private:
    void work();

    unsigned max_threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    unsigned idle_ = 0;
    bool stopping_ = false;
    std::vector<std::jthread> threads_;
};

}  // namespace vmd::bus

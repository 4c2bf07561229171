#include "bus/worker_pool.hpp"

#include <algorithm>
#include <system_error>
#include <utility>

namespace vmd::bus {

WorkerPool::WorkerPool(unsigned max_threads, FaultInjector inject)
    : max_threads_(std::max(max_threads, 1u)), inject_(std::move(inject)) {}

WorkerPool::~WorkerPool() {
    shutdown();
}

void WorkerPool::submit(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    // A worker is started before the task is queued: a task queued with no thread to run it
    // would hold its request slot forever.
    if (idle_ == 0 && threads_.size() < max_threads_) {
        threads_.reserve(threads_.size() + 1);
        if (const int r = injected_fault(inject_, FaultPoint::StartThread); r < 0) {
            throw std::system_error(-r, std::generic_category(), "start a worker thread");
        }
        threads_.emplace_back([this] { work(); });
    }
    if (const int r = injected_fault(inject_, FaultPoint::Queue); r < 0) {
        throw std::system_error(-r, std::generic_category(), "queue a request");
    }
    tasks_.push_back(std::move(task));
    wake_.notify_one();
}

void WorkerPool::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    threads_.clear();  // joins
}

std::size_t WorkerPool::threads() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

void WorkerPool::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ++idle_;
        wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        --idle_;
        if (tasks_.empty()) {
            return;  // stopping, and nothing left to run
        }
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        lock.lock();
    }
}

}  // namespace vmd::bus

#include "bus/worker_pool.hpp"

#include <algorithm>
#include <utility>

namespace vmd::bus {

WorkerPool::WorkerPool(unsigned max_threads) : max_threads_(std::max(max_threads, 1u)) {}

WorkerPool::~WorkerPool() {
    shutdown();
}

void WorkerPool::submit(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    if (idle_ == 0 && threads_.size() < max_threads_) {
        threads_.emplace_back([this] { work(); });
    } else {
        wake_.notify_one();
    }
}

void WorkerPool::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    threads_.clear();  // joins
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

// Control commands waiting on a guest off the main loop (see deferred_calls.h).
#include "deferred_calls.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace uvmbus::hostd {

DeferredCalls::DeferredCalls() : event_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (event_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
}

DeferredCalls::~DeferredCalls() {
  for (Call& call : calls_) {
    call.thread.join();
  }
  close(event_);
}

bool DeferredCalls::start(uint64_t client, nlohmann::json id, Deferred work) {
  const std::lock_guard lock(mutex_);
  const auto of_client =
      static_cast<std::size_t>(std::count_if(calls_.begin(), calls_.end(), [client](const Call& c) {
        return c.client == client;
      }));
  if (calls_.size() >= kMaxCalls || of_client >= kMaxPerClient) {
    return false;
  }
  Call& call = calls_.emplace_back(Call{client, std::move(id), {}, false, {}});
  call.thread = std::thread([this, &call, work = std::move(work)] {
    Completion completion;
    try {
      completion = work();
    } catch (...) {
      // The error becomes the reply, on the main thread.
      completion = [error = std::current_exception()]() -> nlohmann::json { std::rethrow_exception(error); };
    }
    const std::lock_guard done_lock(mutex_);
    call.completion = std::move(completion);
    call.done = true;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = write(event_, &one, sizeof(one));
  });
  return true;
}

std::vector<DeferredCalls::Finished> DeferredCalls::finished() {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t drained = read(event_, &count, sizeof(count));
  std::list<Call> done;
  {
    const std::lock_guard lock(mutex_);
    for (auto it = calls_.begin(); it != calls_.end();) {
      const auto next = std::next(it);
      if (it->done) {
        done.splice(done.end(), calls_, it);
      }
      it = next;
    }
  }
  std::vector<Finished> replies;
  for (Call& call : done) {
    call.thread.join();
    nlohmann::json reply = CommandTable::complete(call.completion);
    if (!call.id.is_null()) {
      reply["id"] = std::move(call.id);
    }
    replies.push_back({call.client, std::move(reply)});
  }
  return replies;
}

}  // namespace uvmbus::hostd

// Construction of a worker's pollable set.
#include "poll_set.h"

#include <algorithm>

namespace uvmbus::runtime::detail {

std::unique_ptr<const PollSet> make_poll_set(std::vector<Pollable*> pollables,
                                             Pollable* attached) {
  auto set = std::make_unique<PollSet>();
  for (const Pollable* pollable : pollables) {
    const int fd = pollable->wake_fd();
    if (fd < 0) {
      set->can_sleep = false;
    } else if (std::find(set->wake_fds.begin(), set->wake_fds.end(), fd) ==
               set->wake_fds.end()) {
      set->wake_fds.push_back(fd);
    }
  }
  set->pollables = std::move(pollables);
  set->attached = attached;
  return set;
}

}  // namespace uvmbus::runtime::detail

// The CPUs the calling thread may run on (its affinity mask), for callers
// that pick default cores: a daemon's first worker, a benchmark's peer.
#pragma once

#include <vector>

namespace uvmbus::runtime {

// In increasing order; empty only if the kernel refuses to say.
std::vector<unsigned> allowed_cpus();

// The first of allowed_cpus(), or 0 if there is none.
unsigned first_allowed_cpu();

}  // namespace uvmbus::runtime

// A timer owner that appends its id to a shared log when its timer fires: the order in which a
// test's timers fire, as a vector.
#ifndef TAPSTACK_TESTS_TIMERS_FIRING_RECORDER_H_
#define TAPSTACK_TESTS_TIMERS_FIRING_RECORDER_H_

#include <vector>

#include "timers/timer.h"

namespace tapstack::timers::testing {

struct FiringRecorder {
  std::vector<int>* log = nullptr;
  int id = 0;
  Timer timer{[](Timer& timer) {
    FiringRecorder& self = OwnerOf<&FiringRecorder::timer>(timer);
    self.log->push_back(self.id);
  }};
};

}  // namespace tapstack::timers::testing

#endif  // TAPSTACK_TESTS_TIMERS_FIRING_RECORDER_H_

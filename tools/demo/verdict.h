// A scenario's verdict: "expected" when everything it checked behaved as keepalive should, else
// "unexpected" with the first thing that did not. Printed as one line that tests look for:
//
//   verdict 3: expected (3 probes unanswered, RST sent, ETIMEDOUT 5.0 s after the last segment)
//   verdict 3: unexpected (only 2 keepalive probes went out before the abort, expected 3)
#ifndef TAPSTACK_TOOLS_DEMO_VERDICT_H_
#define TAPSTACK_TOOLS_DEMO_VERDICT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tapstack::tools::demo {

class Verdict {
 public:
  explicit Verdict(std::string id) : id_(std::move(id)) {}

  // Records one expectation. When `holds` is false, `failure` becomes the reason (the first one
  // counts). Returns `holds`, so a script can stop checking what depends on it.
  bool Expect(bool holds, std::string failure);
  // What happened, for the reason of an expected verdict.
  void Observe(std::string fact) { facts_.push_back(std::move(fact)); }
  // The scenario could not run (a namespace, the TAP, the peer...): unexpected, with the reason.
  void SetupFailed(const absl::Status& status);

  bool expected() const { return failures_.empty(); }
  const std::string& id() const { return id_; }
  // "verdict ID: expected (facts...)" or "verdict ID: unexpected (first failure)".
  std::string Line() const;

 private:
  std::string id_;
  std::vector<std::string> facts_;
  std::vector<std::string> failures_;
};

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_VERDICT_H_

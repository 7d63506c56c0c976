#include "tools/demo/verdict.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tapstack::tools::demo {

bool Verdict::Expect(bool holds, std::string failure) {
  if (!holds) failures_.push_back(std::move(failure));
  return holds;
}

void Verdict::SetupFailed(const absl::Status& status) {
  failures_.push_back(absl::StrCat("the scenario could not run: ", status.message()));
}

std::string Verdict::Line() const {
  if (!expected()) {
    std::string line = absl::StrCat("verdict ", id_, ": unexpected (", failures_.front(), ")");
    if (failures_.size() > 1) {
      absl::StrAppend(&line,
                      " [also: ", absl::StrJoin(failures_.begin() + 1, failures_.end(), "; "), "]");
    }
    return line;
  }
  return absl::StrCat("verdict ", id_, ": expected (", absl::StrJoin(facts_, ", "), ")");
}

}  // namespace tapstack::tools::demo

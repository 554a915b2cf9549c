#include "core/source.h"

namespace forcepipe {

std::string_view LaneKindName(LaneKind lane) {
  return lane == LaneKind::kStreaming ? "streaming" : "bulk";
}

}  // namespace forcepipe

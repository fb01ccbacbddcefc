// Minimal structured logging for the services: one JSON object per line on stderr.
#pragma once

#include <string_view>

namespace spotex::service {

enum class LogLevel { kInfo, kWarn, kError };
void Log(LogLevel level, std::string_view component, std::string_view message);

}  // namespace spotex::service

// The first layer of every API request: Binance's request weight (BINANCE_API.md §3) charged to
// the client's IP address in the shared rate limiter before the endpoint sees the request.
// Refused requests are answered here (429 -1003 with Retry-After, 418 for a banned address)
// and never reach an endpoint; every answer carries the X-MBX-USED-WEIGHT-1M headers.
// The per-account order counts are charged by the order endpoints themselves, after they know
// the account (src/gateway/trading).
#pragma once

#include <string_view>

#include "gateway/api/ports.h"
#include "gateway/http/server.h"

namespace spotex::gateway {

// The weight of one request from its method, path and query/form parameters. Parameters that
// do not parse count as absent (the endpoint reports them). Unknown paths weigh 1, so probing
// for endpoints is not free.
int RequestWeight(http::Method method, std::string_view path, const http::Params* params);
int RequestWeight(const http::Request& request);

// True for paths that are charged: everything except the load balancer's /health.
bool IsRateLimitedPath(std::string_view path);

// Wraps `inner` with the request-weight charge. `limiter` must outlive the handler.
http::Handler WithRequestLimits(http::Handler inner, RateLimiter& limiter);

}  // namespace spotex::gateway

// spotex::http::Params: Binance parameter rules, percent-decoding, UTF-8 and every error text.
#include "gateway/http/params.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

namespace spotex::http {

void PrintTo(const Error& error, std::ostream* os) {
  *os << "{" << error.code << ", \"" << error.msg << "\", HTTP " << error.http_status << "}";
}

namespace {

constexpr std::string_view kLongPattern = "^[0-9]{1,20}$";
constexpr std::string_view kDecimalPattern = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";

Error IllegalIn(std::string_view name, std::string_view range) {
  return Error{-1100,
               "Illegal characters found in parameter '" + std::string(name) +
                   "'; legal range is '" + std::string(range) + "'.",
               400};
}

const Error kIllegal{-1100, "Illegal characters found in a parameter.", 400};
const Error kDuplicate{-1101, "Duplicate values for a parameter detected.", 400};
const Error kTooMany{-1101, "Too many parameters sent for this endpoint.", 400};

Params MustParse(std::string_view query, std::string_view body = {}) {
  Result<Params> params = Params::Parse(query, body);
  EXPECT_TRUE(params.has_value()) << query << " | " << body << " -> "
                                  << (params.has_value() ? "" : params.error().msg);
  return params.has_value() ? std::move(*params) : *Params::Parse("", "");
}

Error ParseError(std::string_view query, std::string_view body = {}) {
  Result<Params> params = Params::Parse(query, body);
  EXPECT_FALSE(params.has_value()) << query << " | " << body;
  return params.has_value() ? Error{} : params.error();
}

TEST(ParamsTest, QueryAndFormBodyAreBothRead) {
  Params params = MustParse("symbol=BTCUSDT&side=BUY", "type=LIMIT&quantity=1.5");
  EXPECT_EQ(params.size(), 4u);
  EXPECT_EQ(*params.GetString("symbol"), "BTCUSDT");
  EXPECT_EQ(*params.GetString("side"), "BUY");
  EXPECT_EQ(*params.GetString("type"), "LIMIT");
  EXPECT_EQ(*params.GetDecimal("quantity", 8), 150000000);
  EXPECT_TRUE(params.CheckAllRead().has_value());
  EXPECT_EQ(params.raw_query(), "symbol=BTCUSDT&side=BUY");
  EXPECT_EQ(params.raw_body(), "type=LIMIT&quantity=1.5");
}

TEST(ParamsTest, QueryWinsOverBodyAndCountsOnce) {
  Params params = MustParse("symbol=BTCUSDT", "symbol=ETHUSDT&side=SELL");
  EXPECT_EQ(params.size(), 2u);
  EXPECT_EQ(*params.GetString("symbol"), "BTCUSDT");
  const Result<void> unread = params.CheckAllRead();
  ASSERT_FALSE(unread.has_value());
  EXPECT_EQ(
      unread.error(),
      (Error{-1104, "Not all sent parameters were read; read '1' parameter(s) but was sent '2'.",
             400}));
}

TEST(ParamsTest, DuplicatesWithinOneSourceAreRejected) {
  EXPECT_EQ(ParseError("symbol=A&symbol=B"), kDuplicate);
  EXPECT_EQ(ParseError("symbol=A&symbol=A"), kDuplicate);
  EXPECT_EQ(ParseError("", "side=BUY&side=BUY"), kDuplicate);
  EXPECT_EQ(ParseError("side=BUY", "side=BUY&side=SELL"), kDuplicate);
  // The same name after decoding is the same parameter.
  EXPECT_EQ(ParseError("symbol=A&sym%62ol=B"), kDuplicate);
  // An empty value is still a value.
  EXPECT_EQ(ParseError("a=&a="), kDuplicate);
}

TEST(ParamsTest, PercentDecoding) {
  Params params = MustParse(
      "a=%41%4a%4A&b=x+y&c=%2B1&d=%25&e=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&f=caf%C3%A9&g=%F0%9F%"
      "9A%80"
      "&h=[\"BTCUSDT\"]&i=a=b");
  EXPECT_EQ(*params.GetString("a"), "AJJ");
  EXPECT_EQ(*params.GetString("b"), "x y");
  EXPECT_EQ(*params.GetString("c"), "+1");
  EXPECT_EQ(*params.GetString("d"), "%");
  EXPECT_EQ(*params.GetString("e"), R"(["BTCUSDT","ETHUSDT"])");
  EXPECT_EQ(*params.GetString("f"), "caf\xc3\xa9");
  EXPECT_EQ(*params.GetString("g"), "\xf0\x9f\x9a\x80");
  EXPECT_EQ(*params.GetString("h"), R"(["BTCUSDT"])");
  EXPECT_EQ(*params.GetString("i"), "a=b");  // only the first '=' separates
  // The raw query is kept exactly as sent.
  EXPECT_EQ(params.raw_query().substr(0, 12), "a=%41%4a%4A&");
}

TEST(ParamsTest, BadEscapesAreIllegal) {
  for (const std::string_view query :
       {"a=%", "a=%4", "a=%zz", "a=%4g", "a=1%", "a%=1", "%=1", "a=%%41", "a=%-1"}) {
    EXPECT_EQ(ParseError(query), kIllegal) << query;
  }
  EXPECT_EQ(ParseError("", "a=%G0"), kIllegal);
}

TEST(ParamsTest, InvalidUtf8AndControlCharactersAreIllegal) {
  for (const std::string_view query : {
           "a=%C3",           // truncated
           "a=%C3%28",        // bad continuation
           "a=%C0%80",        // overlong NUL
           "a=%E0%80%AF",     // overlong '/'
           "a=%ED%A0%80",     // surrogate
           "a=%F4%90%80%80",  // above U+10FFFF
           "a=%FF",           // never valid
           "a=%80",           // lone continuation
           "a=%00",           // NUL
           "a=%0A",           // line feed
           "a=%7F",           // DEL
           "%C3=1",           // in a name
       }) {
    EXPECT_EQ(ParseError(query), kIllegal) << query;
  }
  EXPECT_EQ(ParseError("", std::string_view("a=\xff", 3)), kIllegal);
  EXPECT_EQ(ParseError("", std::string_view("a=x\ty", 5)), kIllegal);
}

TEST(ParamsTest, Utf8Validator) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc2\x80"));           // U+0080
  EXPECT_TRUE(IsValidUtf8("\xdf\xbf"));           // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xe0\xa0\x80"));       // U+0800
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));       // U+D7FF
  EXPECT_TRUE(IsValidUtf8("\xee\x80\x80"));       // U+E000
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));       // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xf0\x90\x80\x80"));   // U+10000
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));  // F5
  EXPECT_FALSE(IsValidUtf8("\xf0\x90\x80"));      // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf0\x90\x28\x80"));  // bad third byte
}

TEST(ParamsTest, SegmentsAndNames) {
  Params params = MustParse("&a=1&&b&c=&", "&&");
  EXPECT_EQ(params.size(), 3u);
  EXPECT_TRUE(params.Has("b"));
  EXPECT_TRUE(params.Has("c"));
  EXPECT_FALSE(params.GetOptionalString("b").has_value());  // empty counts as not sent
  EXPECT_EQ(params.GetString("c").error().code, -1102);
  EXPECT_EQ(ParseError("=1"), kIllegal);
  EXPECT_EQ(ParseError("a=1&=2"), kIllegal);
  EXPECT_EQ(ParseError(std::string(65, 'n') + "=1"), kIllegal);
  EXPECT_TRUE(Params::Parse(std::string(64, 'n') + "=1", "").has_value());
  EXPECT_EQ(MustParse("").size(), 0u);
}

TEST(ParamsTest, TooManyParameters) {
  std::string query;
  for (int i = 0; i < 64; ++i) {
    query += "p" + std::to_string(i) + "=1&";
  }
  EXPECT_TRUE(Params::Parse(query, "").has_value());
  EXPECT_EQ(ParseError(query, "one=more"), kTooMany);
  ParamLimits limits;
  limits.params_max = 2;
  EXPECT_EQ(Params::Parse("a=1&b=2&c=3", "", limits).error(), kTooMany);
  // Overridden body pairs count too: they were sent.
  EXPECT_EQ(Params::Parse("a=1&b=2", "a=1", limits).error(), kTooMany);
  limits.value_bytes_max = 4;
  EXPECT_EQ(Params::Parse("a=12345", "", limits).error(), kIllegal);
}

TEST(ParamsTest, MandatoryParameterMissingOrEmpty) {
  Params params = MustParse("symbol=&side=BUY");
  const Error expected{
      -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.", 400};
  EXPECT_EQ(params.GetString("symbol").error(), expected);
  EXPECT_EQ(
      params.GetLong("orderId").error(),
      (Error{-1102, "Mandatory parameter 'orderId' was not sent, was empty/null, or malformed.",
             400}));
  EXPECT_EQ(params.GetDecimal("price", 2).error().code, -1102);
  EXPECT_EQ(params.GetBool("flag").error().code, -1102);
  EXPECT_FALSE(params.GetOptionalDecimal("price", 2)->has_value());
  EXPECT_FALSE(params.GetOptionalLong("limit")->has_value());
  EXPECT_FALSE(params.GetOptionalBool("flag")->has_value());
}

TEST(ParamsTest, Longs) {
  Params params = MustParse(
      "a=123&b=-5&c=1e5&d=12.0&e=%201&f=99999999999999999999&g=123456789012345678901"
      "&h=9223372036854775807&i=9223372036854775808&j=-9223372036854775808"
      "&k=-9223372036854775809&l=0&m=5001&n=007&o=%2B5&p=-&q=0x10");
  EXPECT_EQ(*params.GetLong("a"), 123);
  EXPECT_EQ(params.GetLong("b").error(), IllegalIn("b", kLongPattern));
  EXPECT_EQ(params.GetLong("c").error(), IllegalIn("c", kLongPattern));
  EXPECT_EQ(params.GetLong("d").error(), IllegalIn("d", kLongPattern));
  EXPECT_EQ(params.GetLong("e").error(), IllegalIn("e", kLongPattern));
  EXPECT_EQ(params.GetLong("f").error(), (Error{-1108, "Parameter 'f' overflowed.", 400}));
  EXPECT_EQ(params.GetLong("g").error(), IllegalIn("g", kLongPattern));  // 21 digits
  EXPECT_EQ(*params.GetLong("h"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(params.GetLong("i").error().code, -1108);
  const LongRange any{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  EXPECT_EQ(*params.GetLong("j", any), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(params.GetLong("k", any).error().code, -1108);
  EXPECT_EQ(params.GetLong("l", {1, 5000}).error(), IllegalIn("l", "[1, 5000]"));
  EXPECT_EQ(params.GetLong("m", {1, 5000}).error(), IllegalIn("m", "[1, 5000]"));
  EXPECT_EQ(*params.GetLong("n"), 7);
  EXPECT_EQ(params.GetLong("o").error(), IllegalIn("o", kLongPattern));  // '+' is a space
  EXPECT_EQ(params.GetLong("p", {-10, 10}).error(), IllegalIn("p", "^-?[0-9]{1,20}$"));
  EXPECT_EQ(params.GetLong("q").error(), IllegalIn("q", kLongPattern));
  EXPECT_TRUE(params.CheckAllRead().has_value());

  Params negative = MustParse("b=-5");
  EXPECT_EQ(*negative.GetLong("b", {-10, 10}), -5);
}

TEST(ParamsTest, Decimals) {
  Params params = MustParse(
      "a=0.01000000&b=0.000000001&c=0.0000000010&d=0.010000000000&e=1e-8&f=-1&g=.5&h=1."
      "&i=99999999999999999999&j=92233720368.54775807&k=92233720368.54775808&l=%201&m=1,5"
      "&n=0001.10");
  EXPECT_EQ(*params.GetDecimal("a", 8), 1'000'000);
  EXPECT_EQ(params.GetDecimal("b", 8).error(),
            (Error{-1111, "Parameter 'b' has too much precision.", 400}));
  EXPECT_EQ(params.GetDecimal("c", 8).error().code, -1111);
  EXPECT_EQ(*params.GetDecimal("d", 8), 1'000'000);  // trailing zeros are fine
  EXPECT_EQ(params.GetDecimal("e", 8).error(), IllegalIn("e", kDecimalPattern));
  EXPECT_EQ(params.GetDecimal("f", 8).error(), IllegalIn("f", kDecimalPattern));
  EXPECT_EQ(params.GetDecimal("g", 8).error(), IllegalIn("g", kDecimalPattern));
  EXPECT_EQ(params.GetDecimal("h", 8).error(), IllegalIn("h", kDecimalPattern));
  EXPECT_EQ(params.GetDecimal("i", 8).error(), (Error{-1108, "Parameter 'i' overflowed.", 400}));
  EXPECT_EQ(*params.GetDecimal("j", 8), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(params.GetDecimal("k", 8).error().code, -1108);
  EXPECT_EQ(params.GetDecimal("l", 8).error(), IllegalIn("l", kDecimalPattern));
  EXPECT_EQ(params.GetDecimal("m", 8).error(), IllegalIn("m", kDecimalPattern));
  EXPECT_EQ(*params.GetDecimal("n", 2), 110);
}

TEST(ParamsTest, DecimalErrorMessagesEscapeInJson) {
  Params params = MustParse("price=1e3");
  EXPECT_EQ(ErrorBody(params.GetDecimal("price", 2).error()),
            R"({"code":-1100,"msg":"Illegal characters found in parameter 'price'; legal range )"
            R"(is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."})");
}

TEST(ParamsTest, Bools) {
  Params params = MustParse("a=true&b=FALSE&c=yes&d=1");
  EXPECT_TRUE(*params.GetBool("a"));
  EXPECT_FALSE(*params.GetBool("b"));
  EXPECT_EQ(params.GetBool("c").error(), IllegalIn("c", "true, false"));
  EXPECT_EQ(params.GetOptionalBool("d").error(), IllegalIn("d", "true, false"));
}

enum class Side { kBuy, kSell };
constexpr std::array<EnumName<Side>, 2> kSides{{{"BUY", Side::kBuy}, {"SELL", Side::kSell}}};

TEST(ParamsTest, Enums) {
  Params params = MustParse("side=SELL&bad=buy&other=HOLD");
  EXPECT_EQ(*params.GetEnum<Side>("side", kSides), Side::kSell);
  const Error invalid_side{-1117, "Invalid side.", 400};
  EXPECT_EQ(params.GetEnum<Side>("bad", kSides, invalid_side).error(), invalid_side);
  EXPECT_EQ(params.GetEnum<Side>("other", kSides).error(), IllegalIn("other", "BUY, SELL"));
  EXPECT_EQ(params.GetEnum<Side>("missing", kSides).error().code, -1102);
  EXPECT_FALSE(params.GetOptionalEnum<Side>("missing", kSides)->has_value());
}

TEST(ParamsTest, UnreadParametersAreReported) {
  Params params = MustParse("symbol=BTCUSDT&timestamp=1&signature=ab&extra=1");
  EXPECT_TRUE(params.Has("extra"));  // Has() does not read
  ASSERT_TRUE(params.GetString("symbol").has_value());
  ASSERT_TRUE(params.GetLong("timestamp").has_value());
  params.MarkRead("signature");
  params.MarkRead("never-sent");  // harmless
  EXPECT_EQ(params.read_count(), 3u);
  EXPECT_EQ(
      params.CheckAllRead().error(),
      (Error{-1104, "Not all sent parameters were read; read '3' parameter(s) but was sent '4'.",
             400}));
  // A getter that fails still reads its parameter.
  EXPECT_FALSE(params.GetLong("extra", {2, 3}).has_value());
  EXPECT_TRUE(params.CheckAllRead().has_value());
}

Request MakeRequest(Method method, std::string target, std::string content_type, std::string body) {
  HeaderList headers;
  if (!content_type.empty()) {
    headers.emplace_back("content-TYPE", std::move(content_type));
  }
  return Request(method, std::string(MethodName(method)), std::move(target), std::move(headers),
                 std::move(body), "127.0.0.1", "127.0.0.1");
}

TEST(ParamsTest, FromRequestTakesTheBodyOnlyWhenItIsAFormAndNotGet) {
  {
    // ccxt: POST, everything in a form body.
    Result<Params> params = Params::FromRequest(MakeRequest(
        Method::kPost, "/api/v3/order", "application/x-www-form-urlencoded", "symbol=BTCUSDT"));
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(*params->GetString("symbol"), "BTCUSDT");
    EXPECT_EQ(params->raw_query(), "");
    EXPECT_EQ(params->raw_body(), "symbol=BTCUSDT");
  }
  {
    // @binance/spot: POST, everything in the query, empty JSON body.
    Result<Params> params = Params::FromRequest(
        MakeRequest(Method::kPost, "/api/v3/order?symbol=BTCUSDT", "application/json", ""));
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(*params->GetString("symbol"), "BTCUSDT");
  }
  {
    // A JSON body is not parameters, but stays available raw.
    Result<Params> params =
        Params::FromRequest(MakeRequest(Method::kPost, "/x", "application/json", "symbol=ETHUSDT"));
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(params->size(), 0u);
    EXPECT_EQ(params->raw_body(), "symbol=ETHUSDT");
  }
  {
    // GET takes the query string only.
    Result<Params> params = Params::FromRequest(
        MakeRequest(Method::kGet, "/x?a=1", "application/x-www-form-urlencoded", "symbol=ETHUSDT"));
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(params->size(), 1u);
  }
  {
    // DELETE with a form body, media type with parameters and other case.
    Result<Params> params = Params::FromRequest(MakeRequest(
        Method::kDelete, "/x?a=1", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "b=2"));
    ASSERT_TRUE(params.has_value());
    EXPECT_EQ(params->size(), 2u);
  }
  EXPECT_FALSE(Params::IsFormContentType("application/x-www-form-urlencodedx"));
  EXPECT_FALSE(Params::IsFormContentType("multipart/form-data"));
  EXPECT_TRUE(Params::IsFormContentType(" application/x-www-form-urlencoded"));
}

TEST(ErrorTest, JsonBodyEscapes) {
  EXPECT_EQ(ErrorBody(Error{-1121, "Invalid symbol.", 400}),
            R"({"code":-1121,"msg":"Invalid symbol."})");
  EXPECT_EQ(ErrorBody(Error{-1, std::string("q\"b\\n\n\x01\x7f\xc3\xa9", 10), 400}),
            "{\"code\":-1,\"msg\":\"q\\\"b\\\\n\\n\\u0001\\u007f\xc3\xa9\"}");
}

// A message quoting a client's bytes stays valid JSON in valid UTF-8: a broken sequence (a lone
// continuation byte, a truncated lead) is replaced, byte by byte, by U+FFFD.
TEST(ErrorTest, JsonBodyReplacesInvalidUtf8) {
  EXPECT_EQ(ErrorBody(Error{-1100, std::string("a\x80" "b\xc3", 4), 400}),
            "{\"code\":-1100,\"msg\":\"a\\ufffdb\\ufffd\"}");
}

}  // namespace
}  // namespace spotex::http

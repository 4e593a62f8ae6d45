#include "net/request_ids.h"

#include <gtest/gtest.h>

namespace mec::net {
namespace {

const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";  // the spec's example

TEST(RequestIds, KeepsAValidTraceAndStartsItsOwnSpan) {
  Rng rng(1);
  RequestIds ids = RequestIds::From("", kValid, "congo=t61rcWkgMzE", rng);
  EXPECT_EQ(ids.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ids.parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(ids.flags, "01");
  EXPECT_EQ(ids.span_id.size(), 16u);
  EXPECT_NE(ids.span_id, ids.parent_id);
  EXPECT_EQ(ids.Traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-" + ids.span_id + "-01");
  EXPECT_EQ(ids.tracestate, "congo=t61rcWkgMzE");
  EXPECT_EQ(ids.request_id, ids.trace_id);  // no X-Request-Id: the trace id
}

TEST(RequestIds, RejectsMalformedTraceparents) {
  std::string t, p, f;
  EXPECT_TRUE(ParseTraceparent(kValid, t, p, f));
  for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",        // short
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",           // upper case
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",           // zero trace
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",           // zero parent
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",           // version ff
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",     // 00 is exactly 55
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    EXPECT_FALSE(ParseTraceparent(bad, t, p, f)) << bad;
  // A later version may carry more fields; it is read as version 00.
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more", t, p, f));
}

TEST(RequestIds, NewTraceWhenNoneIsValidAndClientRequestIdKept) {
  Rng rng(2);
  RequestIds a = RequestIds::From("req-123", "garbage", "dropped=1", rng);
  EXPECT_EQ(a.request_id, "req-123");
  EXPECT_EQ(a.trace_id.size(), 32u);
  EXPECT_TRUE(a.parent_id.empty());
  EXPECT_TRUE(a.tracestate.empty());  // only with a valid traceparent
  std::string t, p, f;
  EXPECT_TRUE(ParseTraceparent(a.Traceparent(), t, p, f));
  RequestIds b = RequestIds::From("", "", "", rng);
  EXPECT_NE(a.trace_id, b.trace_id);
  // Not acceptable as a request id: too long, or characters that could split a log line.
  EXPECT_EQ(RequestIds::From(std::string(129, 'a'), "", "", rng).request_id.size(), 32u);
  EXPECT_FALSE(AcceptableRequestId("a b"));
  EXPECT_FALSE(AcceptableRequestId("a\"b"));
  EXPECT_TRUE(AcceptableRequestId("4f1c-AA_9.x:y/z+=@"));
}

}  // namespace
}  // namespace mec::net

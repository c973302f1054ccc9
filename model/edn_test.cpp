#include "model/edn.hpp"

#include <gtest/gtest.h>

namespace seedlog::model::edn {
namespace {

Value edn(std::string_view text) {
  Result<Value> v = parse_one(text, Dialect::edn);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
  return v.ok() ? std::move(v).value() : Value{};
}

Error edn_error(std::string_view text, Dialect d = Dialect::edn) {
  Result<Value> v = parse_one(text, d);
  EXPECT_FALSE(v.ok()) << "parsed: " << (v.ok() ? to_edn(v.value()) : "");
  return v.ok() ? Error{} : v.error();
}

TEST(Edn, ReadsTheScalarsJepsenWrites) {
  EXPECT_EQ(edn("nil").kind, Kind::nil);
  EXPECT_TRUE(edn("true").boolean);
  EXPECT_EQ(edn("-42").integer, -42);
  EXPECT_EQ(edn("+7").integer, 7);
  EXPECT_EQ(edn("12N").integer, 12);
  EXPECT_EQ(edn(":invoke").text, "invoke");
  EXPECT_EQ(edn(":invoke").kind, Kind::keyword);
  EXPECT_EQ(edn(":jepsen.history/op").text, "jepsen.history/op");
  EXPECT_EQ(edn("\"a \\\"b\\\"\\n\"").text, "a \"b\"\n");
  EXPECT_EQ(edn("\\newline").text, "\n");
  EXPECT_EQ(edn("foo/bar").kind, Kind::symbol);
}

TEST(Edn, KeepsNonIntegerNumbersAsText) {
  EXPECT_EQ(edn("1.5").kind, Kind::number);
  EXPECT_EQ(edn("1/64").text, "1/64");
  EXPECT_EQ(edn("99999999999999999999").kind, Kind::number);
  EXPECT_EQ(edn("##Inf").text, "##Inf");
}

TEST(Edn, ReadsCollections) {
  const Value v = edn("{:type :ok, :value [[:poll {0 [[1 2]]}]] :s #{1 2} :l (1 2)}");
  ASSERT_EQ(v.kind, Kind::map);
  EXPECT_EQ(v.map_size(), 4u);
  EXPECT_TRUE(v.get("type")->is_name("ok"));
  EXPECT_EQ(v.get("s")->kind, Kind::set);
  EXPECT_EQ(v.get("l")->kind, Kind::list);
  EXPECT_EQ(v.get("missing"), nullptr);
  EXPECT_EQ(to_edn(*v.get("value")), "[[:poll {0 [[1 2]]}]]");
}

TEST(Edn, SkipsCommentsDiscardsAndCommas) {
  const Value v = edn("; a comment\n[1 #_ 2 ,, 3 #_ {:x 1}] ; trailing");
  ASSERT_EQ(v.items.size(), 2u);
  EXPECT_EQ(v.items[1].integer, 3);
}

TEST(Edn, ReadsTaggedLiterals) {
  const Value v = edn("#jepsen.history.Op{:index 3, :type :ok}");
  ASSERT_EQ(v.kind, Kind::tagged);
  EXPECT_EQ(v.text, "jepsen.history.Op");
  EXPECT_EQ(v.items.at(0).get("index")->integer, 3);
}

TEST(Edn, ReadsValuesOneAfterAnotherWithTheirLines) {
  Reader r("{:a 1}\n\n{:a 2}\n", Dialect::edn);
  Result<std::optional<Value>> first = r.next();
  ASSERT_TRUE(first.ok() && first.value());
  EXPECT_EQ(first.value()->line, 1);
  Result<std::optional<Value>> second = r.next();
  ASSERT_TRUE(second.ok() && second.value());
  EXPECT_EQ(second.value()->line, 3);
  Result<std::optional<Value>> end = r.next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end.value());
}

TEST(Edn, ErrorsNameTheLineAndTheProblem) {
  const Error unclosed = edn_error("[1 2\n 3");
  EXPECT_EQ(unclosed.line, 1);
  EXPECT_NE(unclosed.message.find("never closed"), std::string::npos) << unclosed.message;
  const Error stray = edn_error("\n\n  ]");
  EXPECT_EQ(stray.line, 3);
  EXPECT_EQ(stray.column, 3);
  EXPECT_EQ(stray.to_string(), "line 3, column 3: unexpected ']' with nothing open");
  EXPECT_NE(edn_error("{:a}").message.find("key without a value"), std::string::npos);
  EXPECT_NE(edn_error("\"abc").message.find("never closed"), std::string::npos);
  EXPECT_NE(edn_error("\"\\q\"").message.find("unknown escape"), std::string::npos);
  EXPECT_NE(edn_error("").message.find("empty"), std::string::npos);
  EXPECT_NE(edn_error("1 2").message.find("found more"), std::string::npos);
  EXPECT_NE(edn_error("[#_]").message.find("unexpected ']'"), std::string::npos);
  EXPECT_NE(edn_error("# x").message.find("after '#'"), std::string::npos);
}

TEST(Edn, DeepNestingIsAnErrorNotACrash) {
  const std::string deep(100000, '[');
  const Error e = edn_error(deep);
  EXPECT_NE(e.message.find("nesting deeper"), std::string::npos) << e.message;
}

TEST(Json, ReadsObjectsArraysAndLiterals) {
  Result<Value> v = parse_one(R"({"type": "ok", "value": [["send", 1, [2, 3]]], "x": null,
                                  "b": false, "s": "\u00e9\n"})",
                              Dialect::json);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_TRUE(v.value().get("type")->is_name("ok"));
  EXPECT_EQ(v.value().get("x")->kind, Kind::nil);
  EXPECT_FALSE(v.value().get("b")->boolean);
  EXPECT_EQ(v.value().get("s")->text, "\xc3\xa9\n");
  EXPECT_EQ(to_edn(*v.value().get("value")), "[[\"send\" 1 [2 3]]]");
}

TEST(Json, ErrorsNameTheLineAndTheProblem) {
  const Error colon = edn_error("{\"a\" 1}", Dialect::json);
  EXPECT_NE(colon.message.find("expected ':'"), std::string::npos) << colon.message;
  const Error keyword = edn_error("[1, :a]", Dialect::json);
  EXPECT_NE(keyword.message.find("unexpected character ':'"), std::string::npos) << keyword.message;
  const Error hash = edn_error("{\"a\":\n #{}}", Dialect::json);
  EXPECT_EQ(hash.line, 2);
  EXPECT_NE(edn_error("[\"\\u12\"]", Dialect::json).message.find("four hex digits"),
            std::string::npos);
}

}  // namespace
}  // namespace seedlog::model::edn

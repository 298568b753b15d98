// BasicStore: the informer's map from object key to the latest projected object.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "operator/runtime/informer.h"

namespace tracing::runtime {
namespace {

ObjectPtr value(int v) { return std::make_shared<const json>(v); }

TEST(Store, ANodeFromAListIsStoredAsItIsAndAnExistingKeyTakesItsValue) {
  Store store;
  ASSERT_EQ(store.upsert("a/one", value(1)), nullptr);

  Store::Map fresh;
  fresh.emplace("a/one", value(10));
  fresh.emplace("a/two", value(2));

  // A new key: the node moves in, nothing was there before.
  EXPECT_EQ(store.upsert(fresh.extract("a/two")), nullptr);
  // An existing key: the previous value comes back, the new one is stored.
  ObjectPtr old = store.upsert(fresh.extract("a/one"));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(*old, 1);
  EXPECT_TRUE(fresh.empty());

  ASSERT_EQ(store.size(), 2u);
  EXPECT_EQ(*store.get("a/one"), 10);
  EXPECT_EQ(*store.get("a/two"), 2);
  EXPECT_EQ(store.keys(), (std::vector<std::string>{"a/one", "a/two"}));
  EXPECT_EQ(store.list_namespace("a").size(), 2u);
}

}  // namespace
}  // namespace tracing::runtime

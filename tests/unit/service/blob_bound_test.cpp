// max_blob_bytes bounds every layer's composefs blob at every verity level, for Verify and for
// Mount, before anything reads the blob whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>

#include "common/error.hpp"
#include "fixtures/sample_images.hpp"
#include "fixtures/store_builder.hpp"
#include "fixtures/store_files.hpp"
#include "fixtures/test_env.hpp"
#include "mount/kernel_features.hpp"
#include "service/pipeline.hpp"

namespace vmd::service {
namespace {

namespace fs = std::filesystem;

class BlobBound : public ::testing::TestWithParam<std::tuple<VerityLevel, bool>> {
  protected:
    void SetUp() override {
        built_.emplace(testing::build_store(testing::sample_store(), dir_.path() / "fixture"));
        config_ = config::load_config(built_->paths.config, false);
        // The bottom layer's blob is opened first: a bound one byte below its size refuses it.
        bottom_ = built_->image().layers.front().id;
        bottom_size_ = fs::file_size(testing::blob_path(built_->paths.store, bottom_));
        // The enforce level is checked against these features first; with them claimed, only
        // the bound stands between the blob and FS_IOC_MEASURE_VERITY, which would refuse this
        // file (no fs-verity here) with another error.
        kernel_ = mount::probe_kernel_features();
        kernel_.fs_verity = true;
        kernel_.overlay_verity = true;
    }

    VerifiedImage verify(std::uint64_t max_blob_bytes) const {
        storage::Limits limits;
        limits.max_blob_bytes = max_blob_bytes;
        auto store = storage::Store::open(config_.storage_root, limits);
        const auto [verity, keep_blobs] = GetParam();
        return verify_image(config_, kernel_, store, testing::kDemoName, "",
                            {config_.signature, verity}, keep_blobs);
    }

    testing::TempDir dir_;
    std::optional<testing::BuiltStore> built_;
    config::Config config_;
    std::string bottom_;
    std::uint64_t bottom_size_ = 0;
    mount::KernelFeatures kernel_;
};

TEST_P(BlobBound, BlobOneByteOverTheBoundIsStorageCorruptNamingBoth) {
    try {
        verify(bottom_size_ - 1);
        FAIL() << "a blob of " << bottom_size_ << " bytes passed a bound of " << bottom_size_ - 1;
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), Errc::StorageCorrupt) << error.message();
        EXPECT_EQ(error.message(),
                  "overlay/" + bottom_ + "/composefs-data/composefs.blob: " + "expected at most " +
                      std::to_string(bottom_size_ - 1) + " bytes (max_blob_bytes), found " +
                      std::to_string(bottom_size_));
    }
}

// Enforce would go on to measure with the kernel, which needs fs-verity: the VM test covers it.
class BlobAtTheBound : public BlobBound {};

TEST_P(BlobAtTheBound, Passes) {
    std::uint64_t largest = 0;
    for (const auto& layer : built_->image().layers) {
        largest = std::max<std::uint64_t>(
            largest, fs::file_size(testing::blob_path(built_->paths.store, layer.id)));
    }
    auto verified = verify(largest);
    EXPECT_EQ(verified.report.layers.size(), built_->image().layers.size());
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<VerityLevel, bool>>& test) {
    return std::string(to_string(std::get<0>(test.param))) +
           (std::get<1>(test.param) ? "Mount" : "Verify");
}

INSTANTIATE_TEST_SUITE_P(Levels, BlobBound,
                         ::testing::Combine(::testing::Values(VerityLevel::Off, VerityLevel::Digest,
                                                              VerityLevel::Enforce),
                                            ::testing::Bool()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(
    Levels, BlobAtTheBound,
    ::testing::Combine(::testing::Values(VerityLevel::Off, VerityLevel::Digest), ::testing::Bool()),
    case_name);

}  // namespace
}  // namespace vmd::service

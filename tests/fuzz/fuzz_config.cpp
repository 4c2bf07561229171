// libFuzzer target: the daemon's config file (config::parse_config).
#include "config/config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using vmd::fuzz::check;
    auto text = vmd::fuzz::as_text(data, size);
    vmd::fuzz::run(text, {vmd::Errc::InvalidArgument}, [&] {
        auto config = vmd::config::parse_config(text);
        check(config.storage_root.is_absolute() && config.policy_path.is_absolute(),
              "configured paths are absolute");
        check(!config.annotation_keys.empty(), "at least one annotation key");
        check(config.max_concurrent >= 1 && config.max_layers >= 1, "limits are positive");
        check(config.max_json_bytes >= 1 && config.max_manifest_bytes >= 1 &&
                  config.max_blob_bytes >= 1,
              "byte limits are positive");
    });
    return 0;
}

#include "bus/options.hpp"

#include <array>
#include <string>
#include <string_view>

#include "bus/sd_ptr.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "common/levels.hpp"

namespace vmd::bus {
namespace {

/// One option's value, read with the type the table expects.
struct Value {
    std::string_view text;
    bool flag = false;
};

struct OptionSpec {
    std::string_view name;
    char type;  // a basic D-Bus type: 's' or 'b'
    void (*apply)(service::RequestOptions& options, const Value& value);
};

constexpr std::array<OptionSpec, 5> kOptions = {{
    {"signature", SD_BUS_TYPE_STRING,
     [](service::RequestOptions& o, const Value& v) {
         o.signature = parse_signature_level(v.text);
     }},
    {"verity", SD_BUS_TYPE_STRING,
     [](service::RequestOptions& o, const Value& v) { o.verity = parse_verity_level(v.text); }},
    {"readonly", SD_BUS_TYPE_BOOLEAN,
     [](service::RequestOptions& o, const Value& v) { o.readonly = v.flag; }},
    {"nodev", SD_BUS_TYPE_BOOLEAN,
     [](service::RequestOptions& o, const Value& v) { o.nodev = v.flag; }},
    {"nosuid", SD_BUS_TYPE_BOOLEAN,
     [](service::RequestOptions& o, const Value& v) { o.nosuid = v.flag; }},
}};

std::string known_names() {
    std::string names;
    for (const auto& spec : kOptions) {
        names += names.empty() ? "" : ", ";
        names += spec.name;
    }
    return names;
}

/// Reads the variant that holds the value of option `spec`, refusing any other type.
Value read_value(sd_bus_message* message, const OptionSpec& spec) {
    char type = 0;
    const char* contents = nullptr;
    check(sd_bus_message_peek_type(message, &type, &contents), "peek option value");
    const std::string expected(1, spec.type);
    if (type != SD_BUS_TYPE_VARIANT || contents == nullptr || expected != contents) {
        fail(Errc::InvalidArgument, "option \"{}\": expected type {}, found type {}", spec.name,
             expected, contents != nullptr ? contents : "none");
    }
    check(sd_bus_message_enter_container(message, SD_BUS_TYPE_VARIANT, contents),
          "enter option value");
    Value value;
    if (spec.type == SD_BUS_TYPE_STRING) {
        const char* text = nullptr;
        check(sd_bus_message_read_basic(message, SD_BUS_TYPE_STRING, &text), "read option");
        value.text = text;
    } else {
        int flag = 0;
        check(sd_bus_message_read_basic(message, SD_BUS_TYPE_BOOLEAN, &flag), "read option");
        value.flag = flag != 0;
    }
    check(sd_bus_message_exit_container(message), "leave option value");
    return value;
}

}  // namespace

service::RequestOptions read_options(sd_bus_message* message) {
    service::RequestOptions options;
    std::array<bool, kOptions.size()> seen{};
    check(sd_bus_message_enter_container(message, SD_BUS_TYPE_ARRAY, "{sv}"), "enter options");
    for (;;) {
        int r = check(sd_bus_message_enter_container(message, SD_BUS_TYPE_DICT_ENTRY, "sv"),
                      "enter option");
        if (r == 0) {
            break;
        }
        const char* key = nullptr;
        check(sd_bus_message_read_basic(message, SD_BUS_TYPE_STRING, &key), "read option key");
        std::size_t index = 0;
        while (index < kOptions.size() && kOptions[index].name != key) {
            ++index;
        }
        if (index == kOptions.size()) {
            fail(Errc::InvalidArgument, "option {}: expected one of {}, found an unknown key",
                 json::shown(key), known_names());
        }
        if (seen[index]) {
            fail(Errc::InvalidArgument, "option \"{}\": expected at most once, found it twice",
                 key);
        }
        seen[index] = true;
        kOptions[index].apply(options, read_value(message, kOptions[index]));
        check(sd_bus_message_exit_container(message), "leave option");
    }
    check(sd_bus_message_exit_container(message), "leave options");
    return options;
}

}  // namespace vmd::bus

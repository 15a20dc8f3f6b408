/* Loader test: a descriptor truncated after the frozen head; the host must
 * refuse it without reading past the symbol. */
#include <jarvis/plugin.h>

struct truncated_descriptor {
    uint32_t magic;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t struct_size;
    uint32_t flags;
};

JV_EXPORT const struct truncated_descriptor jv_plugin_descriptor = {
    JV_PLUGIN_MAGIC, JV_ABI_MAJOR, JV_ABI_MINOR, sizeof(struct truncated_descriptor), 0};

/* libFuzzer target: the ELF reader that checks a plugin's descriptor
 * before dlopen, on any file: never reads outside the file, and what it
 * reports is bounded. The file is a memfd (a real descriptor, no disk). */
#include "fuzz_common.h"
#include "plugin/plugin_elf.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = fuzz_memfd(data, size);
    if (fd < 0)
        return 0;
    struct plugin_elf_descriptor descriptor;
    enum plugin_elf_result result =
        plugin_elf_read_descriptor(fd, "jv_plugin_descriptor", 16, &descriptor);
    FUZZ_REQUIRE(result == PLUGIN_ELF_READ || result == PLUGIN_ELF_NO_DESCRIPTOR ||
                 result == PLUGIN_ELF_UNKNOWN);
    if (result == PLUGIN_ELF_READ) {
        FUZZ_REQUIRE(descriptor.head_length <= PLUGIN_ELF_HEAD_SIZE);
        FUZZ_REQUIRE(descriptor.head_length <= descriptor.symbol_size);
        if (descriptor.name_known)
            FUZZ_REQUIRE(memchr(descriptor.name, '\0', sizeof descriptor.name) != NULL);
    }
    close(fd);
    return 0;
}

/* Reading a plugin's descriptor straight from its ELF file, before dlopen:
 * dlopen runs the library's constructors, so a file refused on its
 * descriptor must be refused before it is loaded at all. */
#ifndef JARVIS_PLUGIN_ELF_H
#define JARVIS_PLUGIN_ELF_H

#include <stddef.h>
#include <stdint.h>

#define PLUGIN_ELF_HEAD_SIZE 12 /* magic, abi_major, abi_minor, struct_size */

struct plugin_elf_descriptor {
    unsigned char head[PLUGIN_ELF_HEAD_SIZE]; /* the frozen head, as stored */
    size_t head_length; /* bytes of head read: less when the symbol is smaller */
    size_t symbol_size; /* st_size of jv_plugin_descriptor */
    char name[40];      /* the descriptor's name, when name_known */
    int name_known;     /* 0: its relocation could not be followed */
};

enum plugin_elf_result {
    PLUGIN_ELF_READ,          /* *descriptor filled from the file */
    PLUGIN_ELF_NO_DESCRIPTOR, /* a shared object of our machine, without the symbol */
    PLUGIN_ELF_UNKNOWN        /* not one we can read (not ELF, other machine, odd
                               * layout): leave the verdict to dlopen */
};

/* Reads fd (pread only; the offset is not moved). name_offset is where
 * the name pointer sits in the descriptor. */
enum plugin_elf_result plugin_elf_read_descriptor(int fd, const char *symbol_name,
                                                  size_t name_offset,
                                                  struct plugin_elf_descriptor *descriptor);

#endif

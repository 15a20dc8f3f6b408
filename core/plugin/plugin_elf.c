/* A minimal reader of the host's own ELF flavour: the section headers, the
 * dynamic symbol table (what dlsym would search), the program headers to map
 * addresses to file offsets, and the RELATIVE relocation that fills the
 * descriptor's name pointer. Every offset and size from the file is checked
 * against the file's size: the file is untrusted input here. */
#include "plugin/plugin_elf.h"

#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TABLE_LIMIT (64u * 1024u * 1024u) /* a symbol or string table larger than this: unknown */

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#define RELATIVE_TYPE R_X86_64_RELATIVE
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#define RELATIVE_TYPE R_AARCH64_RELATIVE
#elif defined(__i386__)
#define NATIVE_MACHINE EM_386
#define RELATIVE_TYPE R_386_RELATIVE
#else
#define NATIVE_MACHINE EM_NONE
#define RELATIVE_TYPE 0
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

#if __SIZEOF_POINTER__ == 8
#define NATIVE_CLASS ELFCLASS64
#define ELF_R_TYPE(info) ELF64_R_TYPE(info)
#else
#define NATIVE_CLASS ELFCLASS32
#define ELF_R_TYPE(info) ELF32_R_TYPE(info)
#endif

struct elf_file {
    int fd;
    uint64_t size;
    ElfW(Ehdr) header;
    ElfW(Shdr) * sections;
    size_t section_count;
};

static int read_at(const struct elf_file *file, uint64_t offset, void *buffer, size_t length)
{
    if (offset > file->size || length > file->size - offset)
        return -1;
    size_t done = 0;
    while (done < length) {
        ssize_t got = pread(file->fd, (char *)buffer + done, length - done, (off_t)(offset + done));
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    return 0;
}

/* A whole table into memory (caller frees), or NULL. */
static void *read_table(const struct elf_file *file, uint64_t offset, uint64_t length)
{
    if (length == 0 || length > TABLE_LIMIT)
        return NULL;
    void *table = malloc((size_t)length);
    if (table != NULL && read_at(file, offset, table, (size_t)length) != 0) {
        free(table);
        table = NULL;
    }
    return table;
}

static int read_headers(struct elf_file *file)
{
    ElfW(Ehdr) *header = &file->header;
    if (read_at(file, 0, header, sizeof *header) != 0)
        return -1;
    if (memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
        header->e_ident[EI_CLASS] != NATIVE_CLASS || header->e_ident[EI_DATA] != NATIVE_DATA ||
        header->e_type != ET_DYN || header->e_machine != NATIVE_MACHINE ||
        header->e_shentsize != sizeof(ElfW(Shdr)) || header->e_shnum == 0)
        return -1;
    file->section_count = header->e_shnum;
    file->sections =
        read_table(file, header->e_shoff, (uint64_t)file->section_count * sizeof(ElfW(Shdr)));
    return file->sections != NULL ? 0 : -1;
}

/* The file offset of length bytes at virtual address address, from the
 * PT_LOAD segments (what the loader maps), or -1. */
static int64_t file_offset_of(const struct elf_file *file, uint64_t address, uint64_t length)
{
    const ElfW(Ehdr) *header = &file->header;
    if (header->e_phentsize != sizeof(ElfW(Phdr)))
        return -1;
    for (size_t i = 0; i < header->e_phnum; i++) {
        ElfW(Phdr) segment;
        if (read_at(file, header->e_phoff + i * sizeof segment, &segment, sizeof segment) != 0)
            return -1;
        if (segment.p_type != PT_LOAD || address < segment.p_vaddr)
            continue;
        uint64_t within = address - segment.p_vaddr;
        if (within <= segment.p_filesz && length <= segment.p_filesz - within)
            return (int64_t)(segment.p_offset + within);
    }
    return -1;
}

/* The defined dynamic symbol named name, or -1 absent, -2 unreadable. */
static int find_symbol(const struct elf_file *file, const char *name, ElfW(Sym) * found)
{
    for (size_t i = 0; i < file->section_count; i++) {
        const ElfW(Shdr) *symbols = &file->sections[i];
        if (symbols->sh_type != SHT_DYNSYM)
            continue;
        if (symbols->sh_entsize != sizeof(ElfW(Sym)) || symbols->sh_link >= file->section_count)
            return -2;
        const ElfW(Shdr) *strings = &file->sections[symbols->sh_link];
        ElfW(Sym) *table = read_table(file, symbols->sh_offset, symbols->sh_size);
        char *text = read_table(file, strings->sh_offset, strings->sh_size);
        int result = table != NULL && text != NULL ? -1 : -2;
        size_t count = table != NULL ? symbols->sh_size / sizeof(ElfW(Sym)) : 0;
        size_t name_length = strlen(name);
        for (size_t s = 0; s < count && result == -1; s++) {
            uint64_t at = table[s].st_name;
            if (table[s].st_shndx == SHN_UNDEF || at >= strings->sh_size ||
                strings->sh_size - at <= name_length)
                continue;
            if (memcmp(text + at, name, name_length + 1) == 0) {
                *found = table[s];
                result = 0;
            }
        }
        free(table);
        free(text);
        return result;
    }
    return -1; /* no dynamic symbol table: nothing dlsym could find either */
}

/* The value the loader stores at slot: a RELATIVE relocation's addend, or
 * what the file holds there when no relocation touches it. -1 unknown. */
static int pointer_at(const struct elf_file *file, uint64_t slot, uint64_t *value)
{
    for (size_t i = 0; i < file->section_count; i++) {
        const ElfW(Shdr) *section = &file->sections[i];
        if (section->sh_type != SHT_RELA || section->sh_entsize != sizeof(ElfW(Rela)))
            continue;
        ElfW(Rela) *table = read_table(file, section->sh_offset, section->sh_size);
        if (table == NULL)
            return -1;
        size_t count = section->sh_size / sizeof(ElfW(Rela));
        int result = 1; /* not here */
        for (size_t r = 0; r < count && result == 1; r++) {
            if (table[r].r_offset != slot)
                continue;
            result = ELF_R_TYPE(table[r].r_info) == RELATIVE_TYPE && RELATIVE_TYPE != 0 ? 0 : -1;
            *value = (uint64_t)table[r].r_addend;
        }
        free(table);
        if (result != 1)
            return result;
    }
    int64_t offset = file_offset_of(file, slot, sizeof(uintptr_t));
    uintptr_t stored = 0;
    if (offset < 0 || read_at(file, (uint64_t)offset, &stored, sizeof stored) != 0 || stored == 0)
        return -1;
    *value = stored;
    return 0;
}

static void read_name(const struct elf_file *file, uint64_t slot,
                      struct plugin_elf_descriptor *descriptor)
{
    uint64_t address = 0;
    if (pointer_at(file, slot, &address) != 0)
        return;
    for (size_t length = sizeof descriptor->name - 1; length > 0; length--) {
        /* the longest readable prefix: a short name may sit at a segment's end */
        int64_t offset = file_offset_of(file, address, length);
        if (offset < 0)
            continue;
        char text[sizeof descriptor->name];
        if (read_at(file, (uint64_t)offset, text, length) != 0)
            return;
        text[length] = '\0';
        if (strlen(text) == length)
            return; /* no NUL in reach: longer than any valid name; leave it to dlsym */
        memcpy(descriptor->name, text, sizeof text);
        descriptor->name_known = 1;
        return;
    }
}

enum plugin_elf_result plugin_elf_read_descriptor(int fd, const char *symbol_name,
                                                  size_t name_offset,
                                                  struct plugin_elf_descriptor *descriptor)
{
    memset(descriptor, 0, sizeof *descriptor);
    struct stat info;
    if (fstat(fd, &info) != 0 || info.st_size <= 0)
        return PLUGIN_ELF_UNKNOWN;
    struct elf_file file = {.fd = fd, .size = (uint64_t)info.st_size};
    enum plugin_elf_result result = PLUGIN_ELF_UNKNOWN;
    ElfW(Sym) symbol = {0};
    if (read_headers(&file) != 0)
        goto done;
    int found = find_symbol(&file, symbol_name, &symbol);
    if (found == -1) {
        result = PLUGIN_ELF_NO_DESCRIPTOR;
        goto done;
    }
    if (found != 0 || symbol.st_shndx >= file.section_count ||
        file.sections[symbol.st_shndx].sh_type == SHT_NOBITS)
        goto done; /* in .bss: filled at run time, nothing to read in the file */
    descriptor->symbol_size = symbol.st_size;
    descriptor->head_length =
        symbol.st_size < PLUGIN_ELF_HEAD_SIZE ? symbol.st_size : PLUGIN_ELF_HEAD_SIZE;
    int64_t offset = file_offset_of(&file, symbol.st_value, descriptor->head_length);
    if (offset < 0 ||
        read_at(&file, (uint64_t)offset, descriptor->head, descriptor->head_length) != 0)
        goto done;
    if (symbol.st_size >= name_offset + sizeof(uintptr_t))
        read_name(&file, symbol.st_value + name_offset, descriptor);
    result = PLUGIN_ELF_READ;
done:
    free(file.sections);
    return result;
}

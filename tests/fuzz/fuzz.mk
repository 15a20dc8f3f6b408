# libFuzzer targets for every parser of outside input (README "Fuzzing").
# Included from the Makefile. The core and plugin sources are compiled again
# with clang and coverage instrumentation under build/fuzz; each
# tests/fuzz/fuzz_<target>.c becomes build/fuzz/fuzz_<target>.
#   make fuzz        build them
#   make fuzz-short  every target for FUZZ_SECONDS (2) from its seed corpus
#                    (tests/run does this as part of make test)
#   make fuzz-long   every target for FUZZ_LONG_SECONDS (600), new inputs
#                    kept in build/fuzz/corpus-long/<target>

FUZZ_CC := clang
FUZZ_OUT := build/fuzz
FUZZ_SANITIZERS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers -g -O1 $(FUZZ_SANITIZERS) \
	-fsanitize=fuzzer-no-link -Iinclude -pthread -I/usr/include/x86_64-linux-gnu -I/usr/include/postgresql
FUZZ_SECONDS ?= 2
FUZZ_LONG_SECONDS ?= 600

DEBIAN_PACKAGES += clang libclang-rt-14-dev

FUZZ_CORE_OBJECTS := $(patsubst core/%.c,$(FUZZ_OUT)/obj/core/%.o,$(filter-out core/main.c,$(CORE_SOURCES)))
FUZZ_CORE_LIB := $(FUZZ_OUT)/obj/libjarvis_core.a
FUZZ_PLUGIN_LIBS := $(patsubst %,$(FUZZ_OUT)/obj/lib%.a,$(PLUGIN_NAMES))
FUZZ_SOURCES := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SOURCES))

.PHONY: fuzz fuzz-short fuzz-long

fuzz: $(FUZZ_TARGETS)

$(FUZZ_OUT)/obj/core/%.o: core/%.c $(CORE_HEADERS) include/jarvis/plugin.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -iquote core -c -o $@ $<

$(FUZZ_CORE_LIB): $(FUZZ_CORE_OBJECTS)
	rm -f $@ && ar rcs $@ $^

# the data the Makefile embeds in a plugin (EMBEDDED_DATA), compiled again here
define fuzz_embed_rule
$(FUZZ_OUT)/obj/plugins/$(1)/$(3).o: $(GEN)/$(1)/$(3).c
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fPIC -c -o $$@ $$<
FUZZ_PLUGIN_EXTRA_$(1) += $(FUZZ_OUT)/obj/plugins/$(1)/$(3).o
endef
$(foreach item,$(EMBEDDED_DATA),$(eval $(call fuzz_embed_rule,$(word 1,$(subst :, ,$(item))),$(word 2,$(subst :, ,$(item))),$(word 3,$(subst :, ,$(item))))))

define fuzz_plugin_rules
$(FUZZ_OUT)/obj/plugins/$(1)/%.o: plugins/$(1)/%.c $$(wildcard plugins/$(1)/*.h) $$(wildcard include/jarvis/*.h include/jarvis/svc/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fPIC -fvisibility=hidden -c -o $$@ $$<
$(FUZZ_OUT)/obj/lib$(1).a: $$(patsubst plugins/$(1)/%.c,$(FUZZ_OUT)/obj/plugins/$(1)/%.o,$$(wildcard plugins/$(1)/*.c)) $$(FUZZ_PLUGIN_EXTRA_$(1))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach name,$(PLUGIN_NAMES),$(eval $(call fuzz_plugin_rules,$(name))))

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_CORE_LIB) $(FUZZ_PLUGIN_LIBS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -iquote core -Iplugins \
		-DFUZZ_REPO='"$(CURDIR)"' -o $@ $< $(FUZZ_CORE_LIB) $(FUZZ_PLUGIN_LIBS) $(LIBS) \
		$(foreach name,$(PLUGIN_NAMES),$(PLUGIN_EXTRA_LIBS_$(name)))

fuzz-short: fuzz
	tests/fuzz/run $(FUZZ_SECONDS)

fuzz-long: fuzz
	tests/fuzz/run --long $(FUZZ_LONG_SECONDS)

# make test builds the targets with the rest (tests/run runs them briefly).
test-build: fuzz

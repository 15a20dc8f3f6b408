# jarvis build. `make` builds ./jarvis and plugins/<name>.so; `make run`
# and `make test` first install any missing Debian packages (see deps).
# SAN=1 builds an AddressSanitizer+UBSan flavour under build/san instead.

CC ?= cc
SAN ?= 0

ifeq ($(SAN),1)
OUT := build/san
OBJ := build/san/obj
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else
OUT := .
OBJ := build/obj
SANFLAGS :=
OPT := -O2
endif

CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) $(SANFLAGS) \
	-Iinclude -pthread -I/usr/include/x86_64-linux-gnu
CORE_CFLAGS := $(CFLAGS_COMMON) -iquote core
PLUGIN_CFLAGS := $(CFLAGS_COMMON) -fPIC -fvisibility=hidden
LIBS := -lcurl -ljansson -linih -lsqlite3 -ldl -lm -pthread

CORE_SOURCES := $(wildcard core/*.c)
CORE_OBJECTS := $(patsubst core/%.c,$(OBJ)/core/%.o,$(CORE_SOURCES))
CORE_LIB := $(OBJ)/libjarvis_core.a

PLUGIN_NAMES := $(patsubst plugins/%/,%,$(wildcard plugins/*/))
PLUGIN_SOS := $(patsubst %,$(OUT)/plugins/%.so,$(PLUGIN_NAMES))
PLUGIN_LIBS := $(patsubst %,$(OBJ)/plugins/lib%.a,$(PLUGIN_NAMES))
# A plugin's own libraries beyond LIBS: PLUGIN_EXTRA_LIBS_<name>. nodelete:
# pixman (under cairo) allocates in its constructors, and a dlclose after a
# failed init would unmap what still points at that memory.
PLUGIN_EXTRA_LIBS_dexter_finance := -lcairo -lfontconfig -Wl,-z,nodelete

# Deliberately broken plugins for the loader tests: tests/plugins/<name>.c
TEST_PLUGIN_SOURCES := $(wildcard tests/plugins/*.c)
TEST_PLUGIN_SOS := $(patsubst tests/plugins/%.c,$(OUT)/test-plugins/%.so,$(TEST_PLUGIN_SOURCES))

UNIT_SOURCES := $(wildcard tests/unit/test_*.c)
UNIT_BINARIES := $(patsubst tests/unit/%.c,$(OUT)/unit/%,$(UNIT_SOURCES))

DEBIAN_PACKAGES := build-essential pkg-config libcurl4-openssl-dev libjansson-dev \
	libinih-dev libsqlite3-dev libcmocka-dev python3 python3-pytest \
	libcairo2-dev libfontconfig-dev fonts-dejavu-core

.PHONY: all run test test-build deps clean bench

all: $(OUT)/jarvis $(PLUGIN_SOS)

$(OUT)/jarvis: $(OBJ)/core/main.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -rdynamic -o $@ $^ $(LIBS)

$(CORE_LIB): $(filter-out $(OBJ)/core/main.o,$(CORE_OBJECTS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OBJ)/core/%.o: core/%.c $(wildcard core/*.h) include/jarvis/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c -o $@ $<

# A plugin is every .c file in plugins/<name>/, linked with -z defs so a
# missing symbol fails the build, not the load.
define plugin_rules
$(OBJ)/plugins/$(1)/%.o: plugins/$(1)/%.c $$(wildcard plugins/$(1)/*.h) $$(wildcard include/jarvis/*.h include/jarvis/svc/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_CFLAGS) -c -o $$@ $$<
$(OUT)/plugins/$(1).so: $$(patsubst plugins/$(1)/%.c,$(OBJ)/plugins/$(1)/%.o,$$(wildcard plugins/$(1)/*.c))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_CFLAGS) -shared -Wl,-z,defs -o $$@ $$^ $$(LIBS) $$(PLUGIN_EXTRA_LIBS_$(1))
$(OBJ)/plugins/lib$(1).a: $$(patsubst plugins/$(1)/%.c,$(OBJ)/plugins/$(1)/%.o,$$(wildcard plugins/$(1)/*.c))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach name,$(PLUGIN_NAMES),$(eval $(call plugin_rules,$(name))))

$(OUT)/test-plugins/%.so: tests/plugins/%.c include/jarvis/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -Wno-error -shared -o $@ $< $(LIBS)

# Unit tests link the core and plugin archives; the linker takes only the
# objects a test needs. Plugin-internal symbols carry the plugin's prefix.
$(OUT)/unit/%: tests/unit/%.c $(CORE_LIB) $(PLUGIN_LIBS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -Iplugins -Itests/unit -o $@ $< $(CORE_LIB) $(PLUGIN_LIBS) $(LIBS) \
	  $(foreach name,$(PLUGIN_NAMES),$(PLUGIN_EXTRA_LIBS_$(name))) -lcmocka

test-build: all $(TEST_PLUGIN_SOS) $(UNIT_BINARIES)

# Installs what is missing, as root (CI and a fresh machine); quiet when all is there.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "need root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

run: deps
	$(MAKE) all
	./jarvis -c plugins.ini

test: deps
	$(MAKE) test-build
	$(MAKE) SAN=1 test-build
	tests/run

bench: deps all
	bench/run

clean:
	rm -rf build jarvis plugins/*.so

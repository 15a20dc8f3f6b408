# jarvis build. `make` builds ./jarvis and plugins/<name>.so; `make run`
# and `make test` first install any missing Debian packages (see deps).
# SAN=1 builds an AddressSanitizer+UBSan flavour under build/san instead;
# SAN=thread a ThreadSanitizer one under build/tsan.
# `make install` / `make uninstall` follow the GNU directory variables and
# DESTDIR (see docs/running.md). The build runs one job per CPU unless -j is
# given; -MMD records each object's headers, so a header change rebuilds
# exactly what includes it.

CC ?= cc
SAN ?= 0

# (a -j on the command line wins over this one)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)

VERSION := 0.1.0

# GNU directory variables. State and runtime directories are /var and /run
# by default (not $(PREFIX)/var): systemd's StateDirectory= and
# RuntimeDirectory= put them there whatever the prefix.
PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
BINDIR ?= $(EXEC_PREFIX)/bin
LIBDIR ?= $(EXEC_PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATAROOTDIR ?= $(PREFIX)/share
MANDIR ?= $(DATAROOTDIR)/man
DOCDIR ?= $(DATAROOTDIR)/doc/jarvis
SYSCONFDIR ?= $(PREFIX)/etc
LOCALSTATEDIR ?= /var
RUNSTATEDIR ?= /run
PLUGINDIR ?= $(LIBDIR)/jarvis/plugins
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

ifeq ($(SAN),1)
OUT := build/san
OBJ := build/san/obj
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else ifeq ($(SAN),thread)
# ThreadSanitizer, for the concurrency unit tests (not part of make test):
# make SAN=thread build/tsan/unit/test_dispatch build/tsan/test-plugins/slow.so ...
OUT := build/tsan
OBJ := build/tsan/obj
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPT := -O1
else
OUT := .
OBJ := build/obj
SANFLAGS :=
OPT := -O2
endif
GEN := build/gen

# CPPFLAGS, CFLAGS and LDFLAGS from the environment come last (the Debian
# build passes its hardening flags through them).
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) $(SANFLAGS) \
	-Iinclude -pthread -I/usr/include/x86_64-linux-gnu -I/usr/include/postgresql -MMD -MP $(CPPFLAGS) $(CFLAGS)
CORE_CFLAGS := $(CFLAGS_COMMON) -iquote core
PLUGIN_CFLAGS := $(CFLAGS_COMMON) -fPIC -fvisibility=hidden
LIBS := -lcurl -ljansson -linih -lsqlite3 -lpq -lmicrohttpd -ldl -lm -pthread

# core/ is in folders by layer (ARCHITECTURE.md): core/<layer>/[<part>/]*.c
CORE_SOURCES := $(wildcard core/*.c core/*/*.c core/*/*/*.c)
CORE_HEADERS := $(wildcard core/*.h core/*/*.h core/*/*/*.h)
CORE_OBJECTS := $(patsubst core/%.c,$(OBJ)/core/%.o,$(CORE_SOURCES))
CORE_LIB := $(OBJ)/libjarvis_core.a

PLUGIN_NAMES := $(patsubst plugins/%/,%,$(wildcard plugins/*/))
PLUGIN_SOS := $(patsubst %,$(OUT)/plugins/%.so,$(PLUGIN_NAMES))
PLUGIN_LIBS := $(patsubst %,$(OBJ)/plugins/lib%.a,$(PLUGIN_NAMES))
# A plugin's own libraries beyond LIBS: PLUGIN_EXTRA_LIBS_<name>. nodelete:
# pixman (under cairo) allocates in its constructors, and a dlclose after a
# failed init would unmap what still points at that memory.
PLUGIN_EXTRA_LIBS_dexter_finance := -lcairo -lfontconfig -Wl,-z,nodelete

# Data a plugin needs to run with its defaults, compiled into its .so so the
# .so alone is enough: <plugin>:<data file>:<C symbol>.
EMBEDDED_DATA := sentiment:lexicon.txt:sentiment_builtin_lexicon \
	dexter_finance:sample_market.json:dexter_builtin_sample_market

# Deliberately broken plugins for the loader tests: tests/plugins/<name>.c;
# versioned.c is built twice (two builds answering differently) for reloads.
TEST_PLUGIN_SOURCES := $(filter-out tests/plugins/versioned.c,$(wildcard tests/plugins/*.c))
TEST_PLUGIN_SOS := $(patsubst tests/plugins/%.c,$(OUT)/test-plugins/%.so,$(TEST_PLUGIN_SOURCES)) \
	$(OUT)/test-plugins/versioned_v1.so $(OUT)/test-plugins/versioned_v2.so

UNIT_SOURCES := $(wildcard tests/unit/test_*.c)
UNIT_BINARIES := $(patsubst tests/unit/%.c,$(OUT)/unit/%,$(UNIT_SOURCES))

# systemd provides systemd-analyze (unit checks in the tests, no boot needed),
# man-db the man page checks; dpkg-dev, debhelper, fakeroot and lintian build
# and check the package, adduser is what it depends on; postgresql is the
# server the tests start privately (tests/integration/pg_cluster.py).
DEBIAN_PACKAGES := build-essential pkg-config libcurl4-openssl-dev libjansson-dev \
	libinih-dev libsqlite3-dev libcmocka-dev python3 python3-pytest python3-pytest-xdist \
	systemd man-db dpkg-dev debhelper fakeroot lintian adduser \
	libmicrohttpd-dev python3-prometheus-client \
	libcairo2-dev libfontconfig-dev fonts-dejavu-core \
	libpq-dev postgresql clang-format

.PHONY: all run test test-build deps clean bench install uninstall config-doc layer-check format-check format

all: $(OUT)/jarvis $(PLUGIN_SOS) $(GEN)/jarvis.pc $(GEN)/plugins.ini $(GEN)/jarvis.service

$(OUT)/jarvis: $(OBJ)/core/main.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS)

$(CORE_LIB): $(filter-out $(OBJ)/core/main.o,$(CORE_OBJECTS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(OBJ)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c -o $@ $<

# The default config path is compiled into main.o; the stamp changes only
# when SYSCONFDIR does, so main.o is rebuilt then and only then.
$(OBJ)/core/main.o: $(OBJ)/sysconfdir.stamp
$(OBJ)/core/main.o: CORE_CFLAGS += -DJARVIS_SYSCONFDIR='"$(SYSCONFDIR)"'
$(OBJ)/sysconfdir.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' > $@
# The same for the paths written into the installed plugins.ini, unit and .pc.
INSTALL_PATHS := $(PREFIX) $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(SYSCONFDIR) $(LOCALSTATEDIR) \
	$(RUNSTATEDIR) $(PLUGINDIR) $(DOCDIR) $(VERSION)
$(GEN)/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(INSTALL_PATHS)' | cmp -s - $@ || echo '$(INSTALL_PATHS)' > $@
.PHONY: FORCE
FORCE:

# <data file> -> a C string of its bytes (every byte as \xNN; NUL-terminated).
define embed_rule
$(GEN)/$(1)/$(3).c: plugins/$(1)/$(2)
	@mkdir -p $$(dir $$@)
	{ echo '/* generated by the Makefile from plugins/$(1)/$(2); do not edit */'; \
	  echo '#include <stddef.h>'; \
	  echo 'const char $(3)[] ='; \
	  od -An -v -tx1 $$< | sed -e 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g' -e 's/.*/    "&"/'; \
	  echo '    ;'; \
	  echo 'const size_t $(3)_size = sizeof $(3) - 1;'; } > $$@.tmp && mv $$@.tmp $$@
$(OBJ)/plugins/$(1)/$(3).o: $(GEN)/$(1)/$(3).c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_CFLAGS) -c -o $$@ $$<
PLUGIN_EXTRA_OBJECTS_$(1) += $(OBJ)/plugins/$(1)/$(3).o
endef
$(foreach item,$(EMBEDDED_DATA),$(eval $(call embed_rule,$(word 1,$(subst :, ,$(item))),$(word 2,$(subst :, ,$(item))),$(word 3,$(subst :, ,$(item))))))

# A plugin is every .c file in plugins/<name>/ (and its embedded data),
# linked with -z defs so a missing symbol fails the build, not the load.
define plugin_rules
PLUGIN_OBJECTS_$(1) := $$(patsubst plugins/$(1)/%.c,$(OBJ)/plugins/$(1)/%.o,$$(wildcard plugins/$(1)/*.c)) $$(PLUGIN_EXTRA_OBJECTS_$(1))
$(OBJ)/plugins/$(1)/%.o: plugins/$(1)/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_CFLAGS) -c -o $$@ $$<
$(OUT)/plugins/$(1).so: $$(PLUGIN_OBJECTS_$(1))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(PLUGIN_CFLAGS) $$(LDFLAGS) -shared -Wl,-z,defs -o $$@ $$^ $$(LIBS) $$(PLUGIN_EXTRA_LIBS_$(1))
$(OBJ)/plugins/lib$(1).a: $$(PLUGIN_OBJECTS_$(1))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach name,$(PLUGIN_NAMES),$(eval $(call plugin_rules,$(name))))

$(OUT)/test-plugins/%.so: tests/plugins/%.c $(wildcard tests/plugins/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -Wno-error -shared -o $@ $< $(LIBS)

# A consumer built against the service headers before their context members
# (frozen copies): the include path puts them before include/.
$(OUT)/test-plugins/service_v1_user.so: PLUGIN_CFLAGS := -Itests/fixtures/svc-1/include \
	$(PLUGIN_CFLAGS)

$(OUT)/test-plugins/versioned_v%.so: tests/plugins/versioned.c include/jarvis/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -DVERSIONED_BUILD=$* -shared -o $@ $< $(LIBS)

# Unit tests link the core and plugin archives; the linker takes only the
# objects a test needs. Plugin-internal symbols carry the plugin's prefix.
$(OUT)/unit/%: tests/unit/%.c $(CORE_LIB) $(PLUGIN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -Iplugins -Itests/unit -o $@ $< $(CORE_LIB) $(PLUGIN_LIBS) $(LIBS) \
	  $(foreach name,$(PLUGIN_NAMES),$(PLUGIN_EXTRA_LIBS_$(name))) -lcmocka

-include $(shell find build/obj build/san/obj -name '*.d' 2>/dev/null) \
	$(wildcard $(OUT)/unit/*.d $(OUT)/test-plugins/*.d)

# ---- installed files, with the installed paths in them ----

SUBSTITUTE = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@PLUGINDIR@|$(PLUGINDIR)|g' -e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' \
	-e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g'

$(GEN)/jarvis.pc: jarvis.pc.in $(GEN)/paths.stamp Makefile
	@mkdir -p $(dir $@)
	$(SUBSTITUTE) $< > $@
$(GEN)/jarvis.service: contrib/jarvis.service.in $(GEN)/paths.stamp Makefile
	@mkdir -p $(dir $@)
	$(SUBSTITUTE) $< > $@
# The tree's plugins.ini with the installed plugin, state and lock places.
$(GEN)/plugins.ini: plugins.ini $(GEN)/paths.stamp Makefile
	@mkdir -p $(dir $@)
	sed -e 's|^dir = plugins$$|dir = $(PLUGINDIR)|' \
	    -e 's|^state_dir = state$$|state_dir = $(LOCALSTATEDIR)/lib/jarvis|' \
	    -e 's|^path =  *;.*$$|path = $(RUNSTATEDIR)/jarvis/jarvis.lock|' $< > $@

MAN_PAGES := man/jarvis.1 man/jarvis-plugin.7
HEADERS := $(wildcard include/jarvis/*.h)
SERVICE_HEADERS := $(wildcard include/jarvis/svc/*.h)

# Installing twice is harmless: install(1) replaces, and an existing
# plugins.ini (edited by its owner) is kept.
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR)/jarvis/svc \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(SYSCONFDIR)/jarvis $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 $(OUT)/jarvis $(DESTDIR)$(BINDIR)/jarvis
	$(INSTALL) -m 0644 $(PLUGIN_SOS) $(DESTDIR)$(PLUGINDIR)/
	$(INSTALL) -m 0644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/jarvis/
	$(INSTALL) -m 0644 $(SERVICE_HEADERS) $(DESTDIR)$(INCLUDEDIR)/jarvis/svc/
	$(INSTALL) -m 0644 $(GEN)/jarvis.pc $(DESTDIR)$(PKGCONFIGDIR)/jarvis.pc
	$(INSTALL) -m 0644 man/jarvis.1 $(DESTDIR)$(MANDIR)/man1/jarvis.1
	$(INSTALL) -m 0644 man/jarvis-plugin.7 $(DESTDIR)$(MANDIR)/man7/jarvis-plugin.7
	$(INSTALL) -m 0644 $(GEN)/jarvis.service $(DESTDIR)$(SYSTEMDUNITDIR)/jarvis.service
	$(INSTALL) -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/jarvis/plugins.ini || \
	  $(INSTALL) -m 0644 $(GEN)/plugins.ini $(DESTDIR)$(SYSCONFDIR)/jarvis/plugins.ini

# Leaves plugins.ini (it may hold the owner's edits) and the state alone.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/jarvis $(DESTDIR)$(PKGCONFIGDIR)/jarvis.pc \
	  $(DESTDIR)$(MANDIR)/man1/jarvis.1 $(DESTDIR)$(MANDIR)/man7/jarvis-plugin.7 \
	  $(DESTDIR)$(SYSTEMDUNITDIR)/jarvis.service
	rm -f $(patsubst $(OUT)/plugins/%,$(DESTDIR)$(PLUGINDIR)/%,$(PLUGIN_SOS))
	rm -f $(patsubst include/jarvis/%,$(DESTDIR)$(INCLUDEDIR)/jarvis/%,$(HEADERS) $(SERVICE_HEADERS))
	rm -f $(patsubst docs/%,$(DESTDIR)$(DOCDIR)/%,$(wildcard docs/*.md))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/jarvis/svc $(DESTDIR)$(INCLUDEDIR)/jarvis \
	  $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(LIBDIR)/jarvis $(DESTDIR)$(DOCDIR) 2>/dev/null

test-build: all $(TEST_PLUGIN_SOS) $(UNIT_BINARIES)

# docs/config.md's key tables from the schema in core/config_schema.c
# (test_config_schema fails while they differ).
config-doc: $(OUT)/unit/test_config_schema
	$(OUT)/unit/test_config_schema --write docs/config.md

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
	$(MAKE) layer-check
	$(MAKE) format-check
	$(MAKE) test-build
	$(MAKE) SAN=1 test-build
	tests/run

# ARCHITECTURE.md's rule: core/ files include only their own and lower
# layers, and no modules form a circle.
layer-check:
	python3 tools/include_graph.py --check

# .clang-format is the one layout of the C sources (core, plugins, ABI
# headers); `make format` applies it, make test fails when a file differs.
FORMATTED_SOURCES = $(CORE_SOURCES) $(CORE_HEADERS) $(wildcard plugins/*/*.[ch] include/jarvis/*.h \
	include/jarvis/svc/*.h)
format-check:
	@clang-format --style=file --dry-run --Werror $(FORMATTED_SOURCES) && \
		echo "format-check: $(words $(FORMATTED_SOURCES)) files as .clang-format says"
format:
	clang-format --style=file -i $(FORMATTED_SOURCES)

bench: deps all
	bench/run

clean:
	rm -rf build jarvis plugins/*.so

# last, so that `all` stays the default goal
include tests/fuzz/fuzz.mk

# peerwall - build, test, benchmark, demo.
#
#   make            build everything into build/
#   make deps       install the Debian packages (idempotent, quiet if present)
#   make check      deps + build + every test (as root)
#   make bench      deps + build + benchmarks (table + build/bench.json)
#   make demo       deps + build + a demonstration
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             print every command

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH_TRIPLE := $(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -MMD -MP -D_GNU_SOURCE -Iinclude -Isrc -I$(BUILD)/bpf
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS   := -lbpf -lelf -lz -lpcap -lconfig -ljson-c -lmicrohttpd -lnftnl -lmnl -lm
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 $(WARN) -Iinclude -I/usr/include/$(ARCH_TRIPLE)

# Library code shared by every program (one responsibility per file).
LIB_SRCS := src/log.c src/cidr.c src/config.c src/dp_config.c src/datapath.c \
            src/pcap_in.c src/keytab.c src/score.c src/report.c src/duration.c \
            src/banlist.c src/state.c src/logwatch.c src/nft.c
# The agent's modules: peerwalld, and peerwall-replay's simulated agent.
AGENT_SRCS := src/agent.c src/bans.c src/tick.c src/control.c src/metrics.c
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/%.o)
AGENT_LIB := $(BUILD)/lib/libpeerwall-agent.a
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
ASAN_AGENT_LIB := $(BUILD)/asan/lib/libpeerwall-agent.a

BPF_OBJ  := $(BUILD)/bpf/peerwall.bpf.o
BPF_SKEL := $(BUILD)/bpf/peerwall.skel.h
BARE_OBJ := $(BUILD)/bpf/bare.bpf.o

PROGS := $(BUILD)/bin/peerwalld $(BUILD)/bin/peerwallctl \
         $(BUILD)/bin/peerwall-replay $(BUILD)/bin/pw-pcapgen $(BUILD)/bin/pw-bench \
         $(BUILD)/bin/pw-bench-agent $(BUILD)/bin/pw-bench-nft
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
DP_TESTS := $(BUILD)/tests/datapath_test

.PHONY: all deps check unit-test datapath-test replay-test netns-test bench demo install clean format
all: $(BPF_OBJ) $(BPF_SKEL) $(BARE_OBJ) $(PROGS)

# --- dependencies -----------------------------------------------------------
DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libpcap-dev \
            libnftnl-dev libmnl-dev libconfig-dev libcmocka-dev libjson-c-dev \
            libmicrohttpd-dev \
            pkg-config iproute2 nftables xdp-tools hping3 iperf3 tcpdump \
            tcpreplay jq gcc make
deps:
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "  DEPS     installing:" $$missing; \
	    if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:" $$missing >&2; exit 1; fi; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# --- BPF --------------------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c include/peerwall/*.h bpf/*.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name peerwall_bpf > $@.tmp && mv $@.tmp $@

# --- userspace --------------------------------------------------------------
$(BUILD)/src/%.o: src/%.c | $(BPF_SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/src/%.o: src/%.c | $(BPF_SKEL)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/tools/%.o: tools/%.c | $(BPF_SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/lib/libpeerwall.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(AR) rcs $@ $^

$(AGENT_LIB): $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/bin/peerwalld: $(BUILD)/src/peerwalld.o $(AGENT_LIB) $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/peerwallctl: $(BUILD)/tools/peerwallctl.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -ljson-c

$(BUILD)/bin/peerwall-replay: $(BUILD)/tools/peerwall-replay.o $(BUILD)/tools/replay_report.o $(AGENT_LIB) $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/pw-pcapgen: $(BUILD)/tools/pw-pcapgen.o $(BUILD)/tools/pktbuild.o $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/pw-bench-agent: $(BUILD)/tools/pw-bench-agent.o $(BUILD)/tools/pktbuild.o $(AGENT_LIB) $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/pw-bench-nft: $(BUILD)/tools/pw-bench-nft.o $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/pw-bench: $(BUILD)/tools/pw-bench.o $(BUILD)/tools/pktbuild.o $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# --- tests ------------------------------------------------------------------
$(BUILD)/tests/test_%: tests/unit/test_%.c $(ASAN_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(ASAN_AGENT_LIB): $(AGENT_SRCS:%.c=$(BUILD)/asan/%.o)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(AR) rcs $@ $^

# test_metrics renders a hand-built agent: metrics.o and what it pulls in
# (bans.o -> agent.o -> tick.o) come from the agent's modules, as an
# archive so only the members needed are linked.
$(BUILD)/tests/test_metrics: tests/unit/test_metrics.c $(ASAN_AGENT_LIB) $(ASAN_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/tests/datapath_test: tests/datapath/datapath_test.c tools/pktbuild.c $(ASAN_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -Itools -o $@ $^ -lcmocka $(LDLIBS)

unit-test: $(UNIT_TESTS)
	$(Q)set -e; for t in $(UNIT_TESTS); do echo "  RUN      $$t"; $$t; done

datapath-test: $(DP_TESTS) $(BPF_OBJ)
	$(Q)set -e; for t in $(DP_TESTS); do echo "  RUN      $$t"; PW_BPF_OBJ=$(BPF_OBJ) $$t; done

replay-test: all
	$(Q)BUILD=$(BUILD) tests/replay/run.sh

netns-test: all
	$(Q)BUILD=$(BUILD) tests/netns/agent.sh
	$(Q)BUILD=$(BUILD) tests/netns/nft.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit-test
	$(Q)$(MAKE) --no-print-directory datapath-test
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory replay-test
	$(Q)$(MAKE) --no-print-directory netns-test
	@echo "make check: all tests passed"

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tools/bench.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tools/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/peerwall $(DESTDIR)/etc/peerwall
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(BUILD)/bin/peerwalld $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BUILD)/bin/peerwallctl $(BUILD)/bin/peerwall-replay $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(BPF_OBJ) $(DESTDIR)$(PREFIX)/lib/peerwall/
	install -m 0644 conf/peerwall.conf $(DESTDIR)/etc/peerwall/peerwall.conf.example
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

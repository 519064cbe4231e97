# peerwall - build, test, benchmark, demo.
#
#   make            build everything into build/
#   make deps       install the Debian packages (idempotent, quiet if present)
#   make check      deps + build + every test (as root)
#   make bench      deps + build + benchmarks (table + build/bench.json)
#   make demo       deps + build + peerwall defending a host, live, in netns (as root)
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
            src/banlist.c src/state.c src/logwatch.c src/nft.c src/conns.c \
            src/sockdiag.c src/pcapng.c src/base64.c src/samples.c src/journal.c
# The agent's modules: peerwalld, and peerwall-replay's simulated agent.
AGENT_SRCS := src/agent.c src/bans.c src/tick.c src/control.c src/metrics.c \
              src/capture.c \
              src/agent_nft.c src/emergency.c
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
         $(BUILD)/bin/pw-bench-agent $(BUILD)/bin/pw-bench-nft $(BUILD)/bin/pw-flood
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
DP_TESTS := $(BUILD)/tests/datapath_test

.PHONY: all deps check unit-test datapath-test replay-test netns-test bench demo install clean format
all: $(BPF_OBJ) $(BPF_SKEL) $(BARE_OBJ) $(PROGS)

# --- dependencies -----------------------------------------------------------
DEB_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libpcap-dev \
            libnftnl-dev libmnl-dev libconfig-dev libcmocka-dev libjson-c-dev \
            libmicrohttpd-dev libsystemd-dev libssl-dev \
            pkg-config iproute2 nftables xdp-tools hping3 iperf3 tcpdump \
            tcpreplay jq gcc make python3
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

$(BUILD)/bin/peerwalld: $(BUILD)/src/peerwalld.o $(BUILD)/src/sdnotify.o $(AGENT_LIB) $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lsystemd

$(BUILD)/bin/peerwallctl: $(BUILD)/tools/peerwallctl.o $(BUILD)/tools/ctl_evidence.o \
                          $(BUILD)/src/pcapng.o $(BUILD)/src/base64.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -ljson-c -lcrypto

$(BUILD)/bin/peerwall-replay: $(BUILD)/tools/peerwall-replay.o $(BUILD)/tools/replay_report.o $(AGENT_LIB) $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/pw-pcapgen: $(BUILD)/tools/pw-pcapgen.o $(BUILD)/tools/pktbuild.o $(BUILD)/lib/libpeerwall.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/pw-flood: $(BUILD)/tools/pw-flood.o $(BUILD)/tools/pktbuild.o $(BUILD)/lib/libpeerwall.a
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
$(BUILD)/tests/test_metrics $(BUILD)/tests/test_emergency: $(BUILD)/tests/test_%: tests/unit/test_%.c $(ASAN_AGENT_LIB) $(ASAN_OBJS)
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
	$(Q)BUILD=$(BUILD) tests/netns/abuse.sh
	$(Q)BUILD=$(BUILD) tests/netns/nftbans.sh
	$(Q)BUILD=$(BUILD) tests/netns/emergency.sh
	$(Q)BUILD=$(BUILD) tests/netns/flood.sh
	$(Q)BUILD=$(BUILD) tests/netns/evidence.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit-test
	$(Q)$(MAKE) --no-print-directory datapath-test
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory replay-test
	$(Q)$(MAKE) --no-print-directory netns-test
	$(Q)BUILD=$(BUILD) tests/ship/run.sh
	@echo "make check: all tests passed"

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tools/bench.sh

# The build's lines go to a log (shown if it fails), so the demo's
# narration is what fills the screen.
demo: deps
	$(Q)mkdir -p $(BUILD) && echo "  BUILD    (log: $(BUILD)/demo-build.log)" && \
	    $(MAKE) --no-print-directory all >$(BUILD)/demo-build.log 2>&1 || \
	    { cat $(BUILD)/demo-build.log; exit 1; }
	$(Q)BUILD=$(BUILD) tools/demo.sh

# Binaries, the BPF object, the example config, the systemd unit (its
# ExecStart rewritten to PREFIX), man pages, and the monitoring files.
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/peerwall $(DESTDIR)/etc/peerwall
	install -m 0755 $(BUILD)/bin/peerwalld $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(BUILD)/bin/peerwallctl $(BUILD)/bin/peerwall-replay $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(BPF_OBJ) $(DESTDIR)$(PREFIX)/lib/peerwall/
	install -m 0644 conf/peerwall.conf $(DESTDIR)/etc/peerwall/peerwall.conf.example
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/peerwalld|$(PREFIX)/sbin/peerwalld|g' conf/peerwalld.service > $(DESTDIR)$(UNITDIR)/peerwalld.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/peerwalld.service
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 docs/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -d $(DESTDIR)$(PREFIX)/share/peerwall $(DESTDIR)$(PREFIX)/share/doc/peerwall
	install -m 0644 conf/peerwall-alerts.yml conf/grafana-dashboard.json $(DESTDIR)$(PREFIX)/share/peerwall/
	install -m 0644 docs/runbook.md docs/metrics.md $(DESTDIR)$(PREFIX)/share/doc/peerwall/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

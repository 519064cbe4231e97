# tests/fuzz/fuzz.mk - libFuzzer harnesses and the datapath invariant run.
#
#   make fuzz [FUZZ_S=60] [FUZZ_RUNS=10000000] [FUZZ_TARGETS="cidr report"]
#             [FUZZ_DP_PKTS=10000000]
#       every harness FUZZ_S seconds, or until FUZZ_RUNS executions when
#       that comes first (one at a time, nice 10), then the
#       datapath invariant run over FUZZ_DP_PKTS packets; prints a table
#   make fuzz-smoke
#       what `make check` runs: each harness ~3 s, 200k invariant packets
#
# The harnesses link the project's real code, compiled by clang with
# -fsanitize=fuzzer-no-link,address,undefined into $(BUILD)/fuzz/ so the
# normal build is not affected. The invariant driver is a plain program
# (seeded, deterministic) built like the datapath tests.

FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_TARGETS ?= config report control duration cidr banlist state pcap
FUZZ_S       ?= 60
FUZZ_RUNS    ?= -1
FUZZ_SMOKE_S ?= 3
FUZZ_DP_PKTS ?= 10000000
FUZZ_DP_SMOKE_PKTS ?= 200000
FUZZ_DP_SEED ?= 1

FUZZ_SAN    := -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=gnu11 $(WARN) -MMD -MP -D_GNU_SOURCE -Iinclude \
               -Isrc -I$(BUILD)/bpf $(FUZZ_SAN)
FUZZ_LDSAN  := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

FUZZ_LIB       := $(FUZZ_BUILD)/lib/libpeerwall.a
FUZZ_AGENT_LIB := $(FUZZ_BUILD)/lib/libpeerwall-agent.a
FUZZ_BINS      := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_DP        := $(FUZZ_BUILD)/dp_invariants

.PHONY: fuzz fuzz-build fuzz-smoke
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o)

$(FUZZ_BUILD)/src/%.o: src/%.c | $(BPF_SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c | $(BPF_SKEL)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(AR) rcs $@ $^

$(FUZZ_AGENT_LIB): $(AGENT_SRCS:%.c=$(FUZZ_BUILD)/%.o)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_AGENT_LIB) $(FUZZ_LIB)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_LDSAN) -o $@ $^ $(LDLIBS)

$(FUZZ_DP): tests/fuzz/dp_invariants.c $(ASAN_OBJS)
	$(call msg,TEST-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BINS) $(FUZZ_DP)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)BUILD=$(BUILD) tests/fuzz/run.sh -s $(FUZZ_S) -n $(FUZZ_RUNS) \
	    -p $(FUZZ_DP_PKTS) \
	    -S $(FUZZ_DP_SEED) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	$(Q)BUILD=$(BUILD) tests/fuzz/run.sh -s $(FUZZ_SMOKE_S) \
	    -p $(FUZZ_DP_SMOKE_PKTS) -S $(FUZZ_DP_SEED) $(FUZZ_TARGETS)

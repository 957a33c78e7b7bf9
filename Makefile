# llmos - one Makefile. `make` builds ./llmos, `make test` runs every test,
# `make asan` runs them under AddressSanitizer + UBSan, `make mutants` plants
# deliberate faults and shows which tests catch each, `make bench` runs the
# benchmarks in bench/. Kernels are compiled for the baseline x86-64 ISA plus
# per-function AVX2/AVX-512 paths picked at run time, so the binary runs on
# any x86-64 machine.

CC      ?= gcc
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -fopenmp -MMD -MP
LDLIBS  += -lm -lcjson -lreadline -lcurl -lz -lmicrohttpd -fopenmp

# OpenMPI (Debian's libopenmpi-dev) when installed: llmos links it but
# initializes MPI only when started by mpirun (src/core/dist.h).
MPI_LIBS := $(shell pkg-config --libs ompi-c 2>/dev/null)
ifneq ($(MPI_LIBS),)
override CFLAGS += -DLLMOS_MPI $(shell pkg-config --cflags ompi-c)
LDLIBS  += $(MPI_LIBS)
endif

SRC      := $(sort $(wildcard src/*/*.c))
LIB_SRC  := $(filter-out src/cli/%,$(SRC))
CLI_SRC  := $(filter src/cli/%,$(SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

BUILD   ?= build
OBJ      = $(SRC:%.c=$(BUILD)/%.o)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test asan bench clean fuzz fuzz-long deps fresh-check mutants
all: llmos run $(UNIT_BIN)

llmos: $(BUILD)/llmos
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/llmos: $(CLI_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $^ $(LDFLAGS) $(LDLIBS)

# The standalone run file: C99, libm and optional OpenMP, nothing from src/.
run: run.c
	$(CC) -std=c99 -O2 -Wall -Wextra -fopenmp -o $@ $< -lm

deps:
	./scripts/install-deps.sh

# The README's two commands on a fresh Debian 12 root (root; tens of minutes; not in `test`).
fresh-check:
	./scripts/fresh-check.sh

test: all
	LLMOS=$(CURDIR)/llmos UNIT_DIR=$(CURDIR)/$(BUILD)/tests ./tests/run.sh

# deliberate faults, one at a time, and the tests that catch each
# (tests/mutants.py; every fault must be caught)
mutants: all
	/usr/bin/python3 tests/mutants.py --baseline

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build-asan/llmos $(UNIT_SRC:tests/unit/%.c=build-asan/tests/%)
	LLMOS=$(CURDIR)/build-asan/llmos UNIT_DIR=$(CURDIR)/build-asan/tests LLMOS_ASAN=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ./tests/run.sh

bench: all
	./bench/run.sh

# libFuzzer harnesses (clang + libclang-rt from Debian): the GGUF reader,
# file -> model_load -> tokenizer -> forward, run.c (included whole by its
# harness), and the JSONL readers (conversations, preference stores).
# Objects are built one by one under $(BUILD)/fuzz so that a change
# rebuilds only what it touches. `make fuzz-long` runs each for 1M inputs
# (tests/fuzz/long.sh; results in docs/testing.md).
# kernels_x86.c uses gcc's per-function target attributes, so gcc compiles
# it (uninstrumented).
FUZZ_CC   = clang -std=c11 -D_GNU_SOURCE -g -O1 -fopenmp -fno-sanitize-recover=undefined -Isrc -MMD -MP
FUZZ_LIB := src/io/gguf.c src/core/common.c src/core/types.c
# every core file (kernels_x86.c has its own rule below), the model and the tokenizers
FUZZ_MLIB := src/io/gguf.c $(filter-out src/core/kernels_x86.c,$(wildcard src/core/*.c)) \
             src/model/model.c src/model/layers.c $(wildcard src/tokenizer/*.c)
FUZZ_OBJ  = $(FUZZ_LIB:%.c=$(BUILD)/fuzz/%.o)
FUZZ_MOBJ = $(FUZZ_MLIB:%.c=$(BUILD)/fuzz/%.o) $(BUILD)/fuzz/kernels_x86.o
FUZZ_JOBJ = $(FUZZ_MOBJ) $(BUILD)/fuzz/src/data/conv.o $(BUILD)/fuzz/src/data/prefs.o
fuzz: $(BUILD)/fuzz_gguf $(BUILD)/fuzz_model $(BUILD)/fuzz_run $(BUILD)/fuzz_jsonl
fuzz-long: fuzz
	BUILD=$(BUILD) ./tests/fuzz/long.sh
$(BUILD)/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.o
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ -lm -lcjson
$(BUILD)/fuzz_gguf: $(FUZZ_OBJ)
$(BUILD)/fuzz_model: $(FUZZ_MOBJ)
$(BUILD)/fuzz_jsonl: $(FUZZ_JOBJ)
$(BUILD)/fuzz/tests/fuzz/fuzz_run.o: run.c
$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(BUILD)/fuzz/kernels_x86.o: src/core/kernels_x86.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -c -o $@ $<
-include $(wildcard $(BUILD)/fuzz/*/*/*.d $(BUILD)/fuzz/*/*/*/*.d)

clean:
	rm -rf build build-asan llmos run

-include $(OBJ:.o=.d) $(UNIT_BIN:=.d)

# Toolchain: bare-metal riscv32 (qemu-system-riscv32 -M virt) with Debian's
# gcc-riscv64-unknown-elf and its rv32imac/ilp32 multilib; the sources are
# riscv/, shared with riscv64.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(VLAB_TARGET riscv32)
set(VLAB_TARGET_DIR riscv)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# rv32imac: no floating point anywhere; medany: the image links at 0x80000000.
set(CMAKE_C_FLAGS_INIT "-march=rv32imac_zicsr_zifencei -mabi=ilp32 -mcmodel=medany -ffreestanding -fno-stack-protector -fno-pic -fno-asynchronous-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "-march=rv32imac_zicsr_zifencei -mabi=ilp32 -mcmodel=medany")
# The link names plain rv32imac: gcc 12 picks a multilib by the -march it
# is given, and with _zicsr_zifencei it finds none and takes the default
# (rv64) libgcc; the 64-bit divisions need the rv32imac/ilp32 one.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-march=rv32imac -mabi=ilp32 -nostdlib -static -Wl,--build-id=none")

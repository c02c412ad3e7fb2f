# Toolchain: bare-metal aarch64 (QEMU virt) with Debian's gcc-aarch64-linux-gnu
# (a Linux-targeted compiler, used freestanding: no libc, no PIE).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(VLAB_TARGET aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# The MMU stays off, so all memory is Device memory: no unaligned accesses
# (-mstrict-align) and no FP/SIMD registers (-mgeneral-regs-only).
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-a57 -mstrict-align -mgeneral-regs-only -ffreestanding -fno-stack-protector -fno-pie -fno-pic -fno-asynchronous-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "-mcpu=cortex-a57")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,--build-id=none")

# Toolchain: bare-metal 32-bit arm (qemu-system-arm -M virt,highmem=off,
# Cortex-A15) with Debian's gcc-arm-none-eabi; C in Thumb-2, the multilib
# thumb/v7-a/nofp (its libgcc has the 64-bit divisions).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(VLAB_TARGET arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# The MMU stays off, so all memory is Strongly-ordered: no unaligned
# accesses (-mno-unaligned-access) and no floating point (-mfloat-abi=soft).
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-a15 -mthumb -mfloat-abi=soft -mno-unaligned-access -ffreestanding -fno-stack-protector -fno-pic -fno-asynchronous-unwind-tables -fno-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "-mcpu=cortex-a15 -mfloat-abi=soft")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mcpu=cortex-a15 -mthumb -mfloat-abi=soft -nostdlib -static -Wl,--build-id=none")

# Toolchain: bare-metal x86_64 (qemu-system-x86_64 -M pc or q35) with the
# native gcc, freestanding: no libc (-nostdlib), no red zone (exceptions
# push on the stack), no SSE (-mgeneral-regs-only), the image linked at
# 1 MiB (-mcmodel=kernel is for the top 2 GiB: small it is, below 4 GiB).
# It shares qemu-images/x86/ with i386; start.S enters in 32-bit mode and
# switches to long mode.  QEMU's multiboot loader takes the flat binary.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(VLAB_TARGET x86_64)
set(VLAB_TARGET_DIR x86)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
set(CMAKE_OBJCOPY objcopy CACHE FILEPATH "objcopy")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-m64 -ffreestanding -fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small -fcf-protection=none -fno-asynchronous-unwind-tables -fno-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "-m64")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m64 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096")

# Toolchain: bare-metal i386 (qemu-system-i386 -M pc) with Debian's
# gcc-i686-linux-gnu, freestanding: no libc (-nostdlib), libgcc for the
# 64-bit divisions.  The image is loaded as a flat binary (objcopy,
# qemu-images/CMakeLists.txt) through its multiboot header.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(VLAB_TARGET x86)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER i686-linux-gnu-gcc)
set(CMAKE_OBJCOPY i686-linux-gnu-objcopy CACHE FILEPATH "objcopy")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-march=i686 -ffreestanding -fno-stack-protector -fno-pic -fno-pie -mgeneral-regs-only -fcf-protection=none -fno-asynchronous-unwind-tables -fno-unwind-tables")
set(CMAKE_ASM_FLAGS_INIT "-march=i686")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,--build-id=none")

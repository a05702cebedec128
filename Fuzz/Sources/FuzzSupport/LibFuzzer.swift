// The bridge to libFuzzer shared by every fuzz target.
//
// SwiftPM links an executable with its own `main` (top-level code in main.swift), so the targets
// do not use libFuzzer's `main`; each calls `LLVMFuzzerRunDriver`, libFuzzer's documented entry
// point for programs that own `main`, with a Swift closure over the input bytes.
#if canImport(Glibc)
    @_exported import Glibc
#endif

/// libFuzzer's driver: `int LLVMFuzzerRunDriver(int *argc, char ***argv,
/// int (*UserCb)(const uint8_t *Data, size_t Size))`. Every argument is a pointer and the result
/// an int, which the Swift and C calling conventions pass identically on x86-64 and arm64.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The body the current process fuzzes (set once, before the driver starts).
nonisolated(unsafe) private var body: (([UInt8]) -> Void)?

/// Runs libFuzzer over `target` with the process arguments and returns its exit status.
public func runLibFuzzer(_ target: @escaping ([UInt8]) -> Void) -> CInt {
    body = target
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        body!(size == 0 ? [] : Array(UnsafeBufferPointer(start: data!, count: size)))
        return 0
    }
}

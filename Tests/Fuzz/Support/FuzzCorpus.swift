import Foundation

/// The entry point of every fuzz target. Built with `-DFUZZING -sanitize=fuzzer,address`
/// (Tests/Fuzz/run) it hands the process to libFuzzer's driver with `check` as the target; built
/// normally it replays every file named (or every file in a directory named) through `check` —
/// the seed corpus, or a crash input — and exits 1 if it read nothing.
public enum FuzzCorpus {
    nonisolated(unsafe) static var target: ([UInt8]) -> Void = { _ in }

    public static func main(_ check: @escaping ([UInt8]) -> Void) -> Never {
        #if FUZZING
        target = check
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzCorpus.target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
        #else
        replay(CommandLine.arguments.dropFirst(), through: check)
        exit(0)
        #endif
    }

    static func replay(_ paths: some Sequence<String>, through check: ([UInt8]) -> Void) {
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                check(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
        if count == 0 { exit(1) }
    }
}

#if FUZZING
/// libFuzzer's driver (compiler-rt), for a program that has its own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal posix_spawn wrapper: no run loop, no inherited stray descriptors
/// (every descriptor this module opens is close-on-exec), exact control of the
/// child's stdin/stdout/stderr.
enum Subprocess {
    /// What the child's standard descriptor is connected to.
    enum Stream {
        case inherit
        case null
        case fd(Int32)         // dup2'ed into place
        case file(String)      // opened write-only, appended
    }

    /// Searches PATH for an executable.
    static func which(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Serializes descriptor creation and process spawning (see `pipe()`).
    static let spawnLock = NSLock()

    /// A write to a pipe whose reader died must fail with EPIPE, not kill the host.
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Spawns `path` with `arguments`; returns the pid.
    static func spawn(_ path: String, _ arguments: [String],
                      stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit) throws -> pid_t {
        _ = ignoreSIGPIPE
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        func add(_ s: Stream, _ target: Int32, _ readOnly: Bool) {
            switch s {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", readOnly ? O_RDONLY : O_WRONLY, 0)
            case .fd(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .file(let p): posix_spawn_file_actions_addopen(&actions, target, p, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            }
        }
        add(stdin, 0, true)
        add(stdout, 1, false)
        add(stderr, 2, false)

        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var cargv: [UnsafeMutablePointer<CChar>?] = argv
        cargv.append(nil)
        var pid: pid_t = 0
        let rc = spawnLock.withLock { posix_spawn(&pid, path, &actions, nil, cargv, environ) }
        guard rc == 0 else {
            throw CosimError.toolFailed(command: path, status: rc, output: String(cString: strerror(rc)))
        }
        return pid
    }

    /// Waits for a child; returns its exit status (128 + signal if killed).
    @discardableResult
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }   // WIFEXITED / WEXITSTATUS
        return 128 + (status & 0x7f)                              // WTERMSIG
    }

    /// Non-blocking check; nil while the child is still running.
    static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == 0 { return nil }
        if r < 0 { return -1 }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    static func closeFD(_ fd: Int32) {
        if fd >= 0 { _ = close(fd) }
    }

    /// A close-on-exec pipe: (read end, write end).
    static func pipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        // pipe2 is not visible from Swift; the lock keeps our own spawns from
        // inheriting a pipe between pipe() and fcntl().
        let rc: Int32 = spawnLock.withLock {
            guard Glibc.pipe(&fds) == 0 else { return errno }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            return 0
        }
        guard rc == 0 else {
            throw CosimError.toolFailed(command: "pipe", status: rc, output: String(cString: strerror(rc)))
        }
        return (fds[0], fds[1])
    }

    /// Writes all bytes; false if the reader went away.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Reads exactly `count` bytes into `buffer`; false on end of file or error.
    static func readAll(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = read(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if n == 0 { return false }
            offset += n
        }
        return true
    }

    /// Runs a command to completion feeding `input` on stdin; returns (status, stdout).
    /// stderr goes to the same capture. For small outputs only (tool versions, hashes).
    static func capture(_ path: String, _ arguments: [String], input: [UInt8] = []) throws -> (Int32, String) {
        let (inR, inW) = try pipe()
        let (outR, outW) = try pipe()
        let pid: pid_t
        do {
            pid = try spawn(path, arguments, stdin: .fd(inR), stdout: .fd(outW), stderr: .fd(outW))
        } catch {
            [inR, inW, outR, outW].forEach { close($0) }
            throw error
        }
        close(inR); close(outW)
        // Feed stdin from another thread so a chatty child can never deadlock us.
        let feeder = Thread { [input] in
            input.withUnsafeBytes { _ = writeAll(inW, $0) }
            close(inW)
        }
        feeder.start()
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(outR, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: chunk[0..<n])
        }
        close(outR)
        let status = wait(pid)
        return (status, String(decoding: output, as: UTF8.self))
    }
}
